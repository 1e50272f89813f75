"""THREATS.md A: the DSSE envelope and the bundle around it, tampered on the stored bytes."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.devinstance import DevInstance
from provenance.store import MAX_LINE_BYTES, MAX_LINES_PER_COMMIT
from provenance.verify.jsonstrict import MAX_DEPTH
from provenance.verify.statement import MAX_SUBJECTS
from tests.conftest import make_golden
from tests.verify._support import (
    P256_ORDER,
    Json,
    Lab,
    assert_passed,
    assert_refused,
    check,
    decode,
    encode,
    mutated,
    pae,
    payload_of,
    sign_line,
    statement_bytes,
)

#: Resource bombs must be refused well within this (seconds, generous for slow CI).
BOUND_SECONDS = 10.0


def _envelope(doc: Json) -> Json:
    envelope = doc["dsseEnvelope"]
    assert isinstance(envelope, dict)
    return envelope


def _set_envelope(key: str, value: object) -> Callable[[Json], None]:
    return lambda doc: _envelope(doc).__setitem__(key, value)


def _malleated(sig_b64: str) -> str:
    r, s = decode_dss_signature(base64.b64decode(sig_b64))
    return base64.b64encode(encode_dss_signature(r, P256_ORDER - s)).decode()


def _timed(run: Callable[[], object]) -> float:
    start = time.monotonic()
    run()
    return time.monotonic() - start


# --- positive control ---------------------------------------------------------------------------


def test_untouched_golden_passes(lab: Lab) -> None:
    attestation = assert_passed(lab.verify())
    assert attestation.signer == "agent-bot@example.com"
    assert attestation.format == "bundle"
    assert attestation.signed_time is not None


# --- A1 payload type ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload_type",
    [
        "application/json",
        "text/plain",
        "application/vnd.in-toto+json; charset=utf-8",
        "APPLICATION/VND.IN-TOTO+JSON",
        "application/vnd.in-toto+json ",
        "",
        None,
        42,
    ],
)
def test_payload_type_other_than_in_toto_is_refused(lab: Lab, payload_type: object) -> None:
    line = mutated(lab.line, _set_envelope("payloadType", payload_type))
    assert_refused(lab.verify(line), "payload_type_invalid")


def test_missing_payload_type_is_refused(lab: Lab) -> None:
    line = mutated(lab.line, lambda doc: _envelope(doc).pop("payloadType"))
    assert_refused(lab.verify(line), "payload_type_invalid")


# --- A2 payload bytes and signatures ------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda p: p.replace(b"claude-opus-4", b"claude-opus-5"), id="one-byte"),
        pytest.param(lambda p: p + b" ", id="trailing-space"),
        pytest.param(lambda p: p.replace(b"alice@", b"bobby@"), id="prompter"),
    ],
)
def test_changed_payload_byte_is_refused(lab: Lab, edit: Callable[[bytes], bytes]) -> None:
    payload = edit(payload_of(lab.line))
    assert payload != payload_of(lab.line)
    json.loads(payload)  # still a well-formed statement: only the signature can catch it
    line = mutated(lab.line, _set_envelope("payload", base64.b64encode(payload).decode()))
    assert_refused(lab.verify(line), "signature_invalid")


@pytest.mark.parametrize(
    ("rekor", "expected"),
    [
        # Rekor v1: the dsse entry records the exact signature bytes, so the twin no longer
        # matches the logged entry. The TSA token (over the old signature) is dropped, but the
        # SET still gives a signed time, so the first failure is the log consistency check.
        pytest.param(1, ("tlog_mismatch",), id="rekor-v1"),
        # Rekor v2: the only signed time is the TSA token, which covers the original signature
        # bytes; with the twin there is no verified time left, and that is checked first.
        pytest.param(2, ("signed_time_missing",), id="rekor-v2"),
    ],
)
def test_malleated_ecdsa_twin_is_refused(
    tmp_path: Path,
    dev: DevInstance,
    dev_v2: DevInstance,
    rekor: int,
    expected: tuple[str, ...],
) -> None:
    golden = make_golden(tmp_path, dev if rekor == 1 else dev_v2)
    (line,) = golden.notes()
    doc = decode(line)
    sig = _envelope(doc)["signatures"][0]["sig"]
    twin = _malleated(sig)
    assert twin != sig
    # The twin is itself a valid ECDSA signature by the leaf over the same PAE ...
    leaf = x509.load_der_x509_certificate(
        base64.b64decode(doc["verificationMaterial"]["certificate"]["rawBytes"])
    )
    key = leaf.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    key.verify(base64.b64decode(twin), pae(payload_of(line)), ec.ECDSA(hashes.SHA256()))
    # ... so only its binding to the transparency log / timestamp can refuse it.
    forged = mutated(line, lambda d: _envelope(d)["signatures"][0].__setitem__("sig", twin))
    golden.replace_notes([forged])
    assert_refused(check(golden), *expected)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda sigs: sigs.clear(), id="empty-list"),
        pytest.param(lambda sigs: sigs.append(dict(sigs[0])), id="two-identical"),
        pytest.param(
            lambda sigs: sigs.append({"sig": _malleated(sigs[0]["sig"])}), id="two-with-twin"
        ),
        pytest.param(lambda sigs: sigs[0].__setitem__("sig", ""), id="empty-signature"),
    ],
)
def test_signature_count_other_than_one_is_refused(
    lab: Lab, edit: Callable[[list[Json]], object]
) -> None:
    line = mutated(lab.line, lambda doc: edit(_envelope(doc)["signatures"]))
    assert_refused(lab.verify(line), "signature_count_invalid")


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda env: env.pop("signatures"), id="missing"),
        pytest.param(lambda env: env.__setitem__("signatures", None), id="null"),
        pytest.param(lambda env: env.__setitem__("signatures", {"sig": "AA=="}), id="object"),
    ],
)
def test_missing_signatures_are_refused(lab: Lab, edit: Callable[[Json], object]) -> None:
    line = mutated(lab.line, lambda doc: edit(_envelope(doc)))
    assert_refused(lab.verify(line), "signature_count_invalid")


# --- A3 duplicate keys --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("anchor", "duplicate"),
    [
        pytest.param('"mediaType":', '"mediaType":"text/plain",', id="bundle-top"),
        pytest.param('"payloadType":', '"payloadType":"text/plain",', id="envelope"),
        pytest.param('"sig":', '"sig":"AA==",', id="signature"),
        pytest.param('"integratedTime":', '"integratedTime":"1",', id="tlog-entry"),
        pytest.param('"certificate":', '"certificate":{"rawBytes":"AA=="},', id="material"),
    ],
)
def test_duplicate_key_in_bundle_is_refused(lab: Lab, anchor: str, duplicate: str) -> None:
    text = lab.line.decode()
    assert text.count(anchor) == 1
    line = text.replace(anchor, duplicate + anchor).encode()
    assert_refused(lab.verify(line), "duplicate_json_key")


@pytest.mark.parametrize(
    ("anchor", "duplicate"),
    [
        # Python keeps the last value (ours), Go and many others the first one: ambiguity.
        pytest.param(
            b'"predicateType":', b'"predicateType":"https://slsa.dev/provenance/v1",', id="type"
        ),
        pytest.param(b'"prompter":', b'"prompter":"mallory@example.com",', id="predicate"),
        pytest.param(b'"sha256":', b'"sha256":"' + b"0" * 64 + b'",', id="subject-digest"),
    ],
)
def test_duplicate_key_in_signed_statement_is_refused(
    lab: Lab, anchor: bytes, duplicate: bytes
) -> None:
    statement = statement_bytes(lab.statement)
    assert statement.count(anchor) == 1
    signed = sign_line(lab.inst, statement.replace(anchor, duplicate + anchor))
    assert_refused(lab.verify(signed), "duplicate_json_key")


# --- A4 lax base64 ------------------------------------------------------------------------------


def _alphabet_rich_statement(lab: Lab) -> bytes:
    """Golden statement plus an unknown predicate field so its base64 has '+', '/' and '='."""
    for k in range(64):
        note = "a" * (k % 3) + "~~~~~~??????" + "b" * (k // 3)
        statement = dict(lab.statement)
        statement["predicate"] = {**statement["predicate"], "note": note}
        raw = statement_bytes(statement)
        text = base64.b64encode(raw).decode()
        if "+" in text and "/" in text and text.endswith("="):
            return raw
    raise AssertionError("no filler gave an alphabet-rich payload")


@pytest.fixture(scope="module")
def rich_line(shared_lab: Lab) -> bytes:
    """A genuinely signed golden attestation whose payload base64 uses '+', '/' and '='."""
    return sign_line(shared_lab.inst, _alphabet_rich_statement(shared_lab))


def _non_canonical_padding(text: str) -> str:
    """Same bytes for a lenient decoder: set unused bits in the last character before '='."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = text.rstrip("=")
    value = alphabet.index(body[-1])
    other = body[:-1] + alphabet[value | 1 if value % 2 == 0 else value & ~1] + text[len(body) :]
    assert other != text
    return other


LAX_PAYLOADS: list[tuple[str, Callable[[str], str]]] = [
    ("newline-inside", lambda t: t[:8] + "\n" + t[8:]),
    ("space-inside", lambda t: t[:8] + " " + t[8:]),
    ("trailing-newline", lambda t: t + "\n"),
    ("url-safe-alphabet", lambda t: t.replace("+", "-").replace("/", "_")),
    ("mixed-alphabets", lambda t: t.replace("+", "-", 1)),
    ("missing-padding", lambda t: t.rstrip("=")),
    ("junk-inside", lambda t: t[:8] + "!" + t[8:]),
    ("junk-replacing", lambda t: t[:8] + "*" + t[9:]),
    ("padding-inside", lambda t: t[:8] + "==" + t[8:]),
    ("non-canonical-padding-bits", _non_canonical_padding),
]


def test_alphabet_rich_payload_passes_untouched(lab: Lab, rich_line: bytes) -> None:
    assert_passed(lab.verify(rich_line))


@pytest.mark.parametrize(("name", "lax"), LAX_PAYLOADS, ids=[n for n, _ in LAX_PAYLOADS])
def test_lax_base64_payload_is_refused(
    lab: Lab, rich_line: bytes, name: str, lax: Callable[[str], str]
) -> None:
    text = decode(rich_line)["dsseEnvelope"]["payload"]
    loose = lax(text)
    assert loose != text, name
    line = mutated(rich_line, _set_envelope("payload", loose))
    assert_refused(lab.verify(line), "base64_invalid")


def _material(doc: Json) -> Json:
    material = doc["verificationMaterial"]
    assert isinstance(material, dict)
    return material


def _entry(doc: Json) -> Json:
    entry = _material(doc)["tlogEntries"][0]
    assert isinstance(entry, dict)
    return entry


#: (id, container getter, key) of every base64 field a stored bundle carries.
BASE64_FIELDS: list[tuple[str, Callable[[Json], Json], str]] = [
    ("signature", lambda d: _envelope(d)["signatures"][0], "sig"),
    ("certificate", lambda d: _material(d)["certificate"], "rawBytes"),
    ("log-id", lambda d: _entry(d)["logId"], "keyId"),
    ("canonicalized-body", _entry, "canonicalizedBody"),
    ("set", lambda d: _entry(d)["inclusionPromise"], "signedEntryTimestamp"),
    ("root-hash", lambda d: _entry(d)["inclusionProof"], "rootHash"),
    ("tsa-token", lambda d: _material(d)["timestampVerificationData"]["rfc3161Timestamps"][0],
     "signedTimestamp"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("where", "key"),
    [(get, key) for _, get, key in BASE64_FIELDS],
    ids=[name for name, _, _ in BASE64_FIELDS],
)
@pytest.mark.parametrize(
    "lax",
    [
        pytest.param(lambda t: t[:4] + "\n" + t[4:], id="newline"),
        pytest.param(lambda t: t[:4] + "!!!!" + t[4:], id="junk"),
    ],
)
def test_lax_base64_anywhere_in_bundle_is_refused(
    lab: Lab, where: Callable[[Json], Json], key: str, lax: Callable[[str], str]
) -> None:
    def loosen(doc: Json) -> None:
        container = where(doc)
        container[key] = lax(container[key])

    assert_refused(lab.verify(mutated(lab.line, loosen)), "base64_invalid")


# --- A5 extra fields beside the signed payload --------------------------------------------------


def _forged_statement(lab: Lab) -> Json:
    statement = lab.statement
    statement["predicate"]["prompter"] = "mallory@example.com"
    return statement


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda doc, st: _envelope(doc).__setitem__("statement", st), id="statement"),
        pytest.param(
            lambda doc, st: _envelope(doc).__setitem__("payloadDecoded", json.dumps(st)),
            id="payloadDecoded",
        ),
        pytest.param(lambda doc, st: doc.__setitem__("statement", st), id="bundle-statement"),
        pytest.param(
            lambda doc, st: _envelope(doc)["signatures"][0].__setitem__("payload", "AA=="),
            id="signature-payload",
        ),
    ],
)
def test_extra_field_beside_payload_is_refused(
    lab: Lab, edit: Callable[[Json, Json], object]
) -> None:
    forged = _forged_statement(lab)
    line = mutated(lab.line, lambda doc: edit(doc, forged))
    assert_refused(lab.verify(line), "unexpected_field")


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(
            lambda doc: doc.__setitem__("messageSignature", {"signature": "AA=="}),
            id="message-signature-too",
        ),
        pytest.param(lambda doc: _material(doc).__setitem__("statement", {}), id="in-material"),
        pytest.param(lambda doc: _entry(doc).__setitem__("payload", "AA=="), id="in-log-entry"),
    ],
)
def test_extra_field_elsewhere_in_bundle_is_refused_by_the_bundle_parser(
    lab: Lab, edit: Callable[[Json], object]
) -> None:
    assert_refused(lab.verify(mutated(lab.line, edit)), "bundle_invalid")


# --- A6 resource bombs --------------------------------------------------------------------------


def test_huge_payload_is_refused_quickly(lab: Lab) -> None:
    filler = b'{"x":"' + b"A" * MAX_LINE_BYTES + b'"}'
    line = mutated(lab.line, _set_envelope("payload", base64.b64encode(filler).decode()))
    assert len(line) > MAX_LINE_BYTES
    lab.golden.replace_notes([line], lab.golden.commit)
    assert _timed(lambda: assert_refused(lab.verify(), "too_large")) < BOUND_SECONDS


def test_hundred_thousand_subjects_are_refused_quickly(lab: Lab) -> None:
    statement = lab.statement
    statement["subject"] += [{"digest": {"sha256": f"{i:064x}"}} for i in range(100_000)]
    payload = base64.b64encode(statement_bytes(statement)).decode()
    line = mutated(lab.line, _set_envelope("payload", payload))
    lab.golden.replace_notes([line], lab.golden.commit)
    assert _timed(lambda: assert_refused(lab.verify(), "too_large")) < BOUND_SECONDS


def test_too_many_subjects_signed_for_real_are_refused(lab: Lab) -> None:
    extra = [{"name": f"s{i}", "digest": {"sha256": f"{i:064x}"}} for i in range(MAX_SUBJECTS)]
    signed = lab.resign(lambda st: st["subject"].extend(extra))
    assert_refused(lab.verify(signed), "too_many_subjects")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 10, 100_000])
def test_deeply_nested_bundle_is_refused_quickly(lab: Lab, depth: int) -> None:
    anchor = '"verificationMaterial":{'
    text = lab.line.decode()
    assert text.count(anchor) == 1
    nested = "[" * depth + "]" * depth
    line = text.replace(anchor, f'{anchor}"deep":{nested},').encode()
    lab.golden.replace_notes([line], lab.golden.commit)
    assert _timed(lambda: assert_refused(lab.verify(), "too_large")) < BOUND_SECONDS


def test_deeply_nested_signed_statement_is_refused(lab: Lab) -> None:
    nested: object = "bottom"
    for _ in range(MAX_DEPTH + 10):
        nested = [nested]
    signed = lab.resign(lambda st: st["predicate"].__setitem__("deep", nested))
    assert_refused(lab.verify(signed), "too_large")


def test_ten_thousand_junk_lines_on_one_commit_do_not_outvote_a_valid_one(lab: Lab) -> None:
    """THREATS.md A6, G52: junk is screened out cheaply and never counts toward the limit."""
    lines = [encode({"n": i}) for i in range(10_000)] + [lab.line]
    assert len(lines) > MAX_LINES_PER_COMMIT
    lab.golden.replace_notes(lines, lab.golden.commit)
    assert _timed(lambda: assert_passed(lab.verify())) < BOUND_SECONDS
