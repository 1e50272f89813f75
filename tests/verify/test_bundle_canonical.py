"""One bundle, one document: only canonical protobuf-JSON is verified (THREATS.md G44).

sigstore-python's models accept both the lowerCamelCase names and the snake_case field
names, and decode bytes fields with lax base64, while the project's own checks (chain
includes the root, strict base64, the SET's integrated time) read the camelCase spelling.
Each alias therefore hid something from one of the two readers. Every test stores a copy of
the golden's genuine, otherwise valid bundle with one spelling changed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization

from tests.verify._support import Json, Lab, assert_passed, assert_refused, mutated

Edit = Callable[[Json], None]


def _rename(path: str, new: str) -> Edit:
    """Rename the key at ``path`` (``a.b.0.c``; the last part is the key) to ``new``."""

    def edit(doc: Json) -> None:
        *parents, last = path.split(".")
        node: object = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]  # type: ignore[index]
        assert isinstance(node, dict)
        node[new] = node.pop(last)

    return edit


ALIASES = [
    ("verificationMaterial", "verification_material"),
    ("dsseEnvelope", "dsse_envelope"),
    ("mediaType", "media_type"),
    ("dsseEnvelope.payloadType", "payload_type"),
    ("verificationMaterial.tlogEntries", "tlog_entries"),
    ("verificationMaterial.certificate", "certificate_"),
    ("verificationMaterial.certificate.rawBytes", "raw_bytes"),
    ("verificationMaterial.timestampVerificationData", "timestamp_verification_data"),
    ("verificationMaterial.timestampVerificationData.rfc3161Timestamps", "rfc3161_timestamps"),
    (
        "verificationMaterial.timestampVerificationData.rfc3161Timestamps.0.signedTimestamp",
        "signed_timestamp",
    ),
    ("verificationMaterial.tlogEntries.0.inclusionPromise", "inclusion_promise"),
    (
        "verificationMaterial.tlogEntries.0.inclusionPromise.signedEntryTimestamp",
        "signed_entry_timestamp",
    ),
    ("verificationMaterial.tlogEntries.0.inclusionProof", "inclusion_proof"),
    ("verificationMaterial.tlogEntries.0.inclusionProof.rootHash", "root_hash"),
    ("verificationMaterial.tlogEntries.0.inclusionProof.treeSize", "tree_size"),
    ("verificationMaterial.tlogEntries.0.integratedTime", "integrated_time"),
    ("verificationMaterial.tlogEntries.0.logIndex", "log_index"),
    ("verificationMaterial.tlogEntries.0.logId", "log_id"),
    ("verificationMaterial.tlogEntries.0.logId.keyId", "key_id"),
    ("verificationMaterial.tlogEntries.0.kindVersion", "kind_version"),
    ("verificationMaterial.tlogEntries.0.canonicalizedBody", "canonicalized_body"),
    ("verificationMaterial.tlogEntries.0.inclusionProof.checkpoint", "Checkpoint"),
]


@pytest.mark.parametrize(("path", "alias"), ALIASES, ids=[a for _, a in ALIASES])
def test_every_alias_spelling_is_refused(lab: Lab, path: str, alias: str) -> None:
    """THREATS.md G44: sigstore reads ``alias`` like ``path``; we refuse the bundle instead."""
    assert_refused(lab.verify(mutated(lab.line, _rename(path, alias))), "bundle_noncanonical")


def test_control_the_canonical_bundle_passes(lab: Lab) -> None:
    assert_passed(lab.verify())


def _lax(value: str) -> str:
    """The same bytes in base64 that lax decoders accept and strict ones refuse."""
    return value[:8] + "\n " + value[8:]


@pytest.mark.parametrize("where", ["camel", "snake"])
def test_lax_base64_is_refused_in_either_spelling(lab: Lab, where: str) -> None:
    """THREATS.md G44 (A4): ``raw_bytes`` with whitespace slipped past the camelCase check."""

    def edit(doc: Json) -> None:
        cert = doc["verificationMaterial"]["certificate"]
        raw = cert.pop("rawBytes")
        cert["rawBytes" if where == "camel" else "raw_bytes"] = _lax(raw)

    expected = "base64_invalid" if where == "camel" else "bundle_noncanonical"
    assert_refused(lab.verify(mutated(lab.line, edit)), expected)


def test_a_chain_including_the_root_cannot_hide_under_snake_case(lab: Lab) -> None:
    """THREATS.md G44 (C15): ``x509_certificate_chain`` evaded the root-in-chain check."""
    root = lab.inst.ca.root.public_bytes(serialization.Encoding.DER)
    intermediate = lab.inst.ca.intermediate.public_bytes(serialization.Encoding.DER)

    def edit(doc: Json) -> None:
        material = doc["verificationMaterial"]
        leaf = material.pop("certificate")["rawBytes"]
        chain = [leaf, *(base64.b64encode(c).decode() for c in (intermediate, root))]
        material["x509_certificate_chain"] = {"certificates": [{"rawBytes": c} for c in chain]}
        doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"

    assert_refused(lab.verify(mutated(lab.line, edit)), "bundle_noncanonical")


def test_a_value_the_model_would_rewrite_is_refused(lab: Lab) -> None:
    """THREATS.md G44: the document must be what sigstore's model reads, value for value."""

    def edit(doc: Json) -> None:
        entry = doc["verificationMaterial"]["tlogEntries"][0]
        entry["logIndex"] = "0" + str(entry["logIndex"])  # the same integer, another spelling

    assert_refused(lab.verify(mutated(lab.line, edit)), "bundle_noncanonical")
