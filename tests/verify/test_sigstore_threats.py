"""THREATS.md C: trust policy, signer identity, other instances, certificates, time, the log."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sigstore
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from provenance.app.gate import verify
from provenance.app.options import VerifyOptions
from provenance.devinstance import DEFAULT_ISSUER, DevInstance
from provenance.errors import ConfigError
from provenance.policy import SignerRule
from tests.conftest import AGENT_ID, make_golden
from tests.verify._support import (
    P256_ORDER,
    Json,
    Lab,
    LeafOptions,
    assert_passed,
    assert_refused,
    check,
    decode,
    mutated,
    network_restored,
    policy_file,
    sign_line,
    sign_with_leaf,
    statement_bytes,
)

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKFLOW = "https://github.com/example/app/.github/workflows/agent.yml@refs/heads/main"
WORKFLOW_PATTERN = (
    r"^https://github\.com/example/app/\.github/workflows/agent\.yml@refs/heads/main$"
)
PRODUCTION_ROOT = (
    Path(sigstore.__file__).parent
    / "_store"
    / "https%3A%2F%2Ftuf-repo-cdn.sigstore.dev"
    / "trusted_root.json"
)


def _material(doc: Json) -> Json:
    material = doc["verificationMaterial"]
    assert isinstance(material, dict)
    return material


def _entry(doc: Json) -> Json:
    entry = _material(doc)["tlogEntries"][0]
    assert isinstance(entry, dict)
    return entry


def _signed_by(lab: Lab, identity: str, issuer: str | None = None) -> bytes:
    """The golden statement, byte for byte the same claims, signed by someone else."""
    return sign_line(lab.inst, statement_bytes(lab.statement), identity, issuer)


def _pattern_policy(tmp_path: Path, issuer: str, pattern: str) -> Path:
    body = f"version = 1\n[[signers]]\nissuer = '{issuer}'\nidentity_pattern = '{pattern}'\n"
    return policy_file(tmp_path, body)


# --- golden variants ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["rekor-v2-tsa", "rekor-v1-no-tsa"])
def test_golden_variants_pass(
    tmp_path: Path, dev_v2: DevInstance, dev_notsa: DevInstance, variant: str
) -> None:
    golden = make_golden(tmp_path, dev_v2 if variant == "rekor-v2-tsa" else dev_notsa)
    attestation = assert_passed(check(golden))
    assert attestation.signer == AGENT_ID
    assert attestation.signed_time is not None


# --- C12 no trust policy ------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["version = 1\n", "version = 1\nsigners = []\n"])
def test_policy_without_signers_refuses_to_run(lab: Lab, tmp_path: Path, body: str) -> None:
    with pytest.raises(ConfigError, match="no \\[\\[signers\\]\\]") as caught:
        lab.verify(policy=policy_file(tmp_path, body))
    assert caught.value.exit_code == 3


# --- C13 signer identity ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [
        pytest.param("mallory@example.com", None, id="other-identity"),
        pytest.param(AGENT_ID, "https://other.example", id="other-issuer"),
        pytest.param(AGENT_ID, DEFAULT_ISSUER + "/", id="issuer-trailing-slash"),
        pytest.param(AGENT_ID, DEFAULT_ISSUER + ".evil.example", id="issuer-suffix"),
        pytest.param("agent-bot@example.com.evil.example", None, id="identity-suffix"),
        pytest.param("xagent-bot@example.com", None, id="identity-prefix"),
        pytest.param("Agent-Bot@example.com", None, id="identity-case"),
    ],
)
def test_signer_not_in_policy_is_refused(lab: Lab, identity: str, issuer: str | None) -> None:
    assert_refused(lab.verify(_signed_by(lab, identity, issuer)), "signer_not_allowed")


@pytest.mark.parametrize(
    "pattern",
    [
        r"agent-bot@example\.com",
        r"^agent-bot@example\.com",
        r"agent-bot@example\.com$",
        r".*agent-bot@example\.com.*",
        r"^agent-bot@(example\.com$",
    ],
)
def test_unanchored_or_invalid_pattern_is_rejected_at_load(
    lab: Lab, tmp_path: Path, pattern: str
) -> None:
    with pytest.raises(ConfigError, match="identity_pattern"):
        lab.verify(policy=_pattern_policy(tmp_path, DEFAULT_ISSUER, pattern))


@pytest.mark.parametrize(
    ("identity", "allowed"),
    [
        pytest.param(AGENT_ID, True, id="exact"),
        # The unescaped dot may only stand for one character *inside* the anchors: every
        # lookalike below needs extra characters, which ^...$ with fullmatch never allows.
        pytest.param("agent-bot@example.com.evil.example", False, id="suffix"),
        pytest.param("evil-agent-bot@example.com", False, id="prefix"),
        pytest.param("agent-bot@example.community", False, id="longer-tld"),
    ],
)
def test_anchored_pattern_with_unescaped_dot_matches_whole_identity_only(
    lab: Lab, tmp_path: Path, identity: str, allowed: bool
) -> None:
    policy = _pattern_policy(tmp_path, DEFAULT_ISSUER, "^agent-bot@example.com$")
    report = lab.verify(_signed_by(lab, identity), policy=policy)
    if allowed:
        assert_passed(report)
    else:
        assert_refused(report, "signer_not_allowed")


@pytest.mark.parametrize(
    ("identity", "issuer", "allowed"),
    [
        pytest.param(WORKFLOW, GITHUB_ISSUER, True, id="exact"),
        pytest.param(WORKFLOW, DEFAULT_ISSUER, False, id="other-issuer"),
        pytest.param(WORKFLOW + "-evil", GITHUB_ISSUER, False, id="branch-suffix"),
        pytest.param(WORKFLOW.replace("refs/heads/main", "refs/pull/7/merge"), GITHUB_ISSUER,
                     False, id="unprotected-ref"),
        pytest.param(WORKFLOW.split("@")[0], GITHUB_ISSUER, False, id="truncated-no-ref"),
        pytest.param(WORKFLOW.replace("/app/", "/app-fork/"), GITHUB_ISSUER, False, id="fork"),
        pytest.param(WORKFLOW.replace("agent.yml", "agent.yml/../evil.yml"), GITHUB_ISSUER,
                     False, id="path-trick"),
        pytest.param(WORKFLOW.replace("agent.yml", "agentXyml"), GITHUB_ISSUER, False,
                     id="escaped-dot"),
    ],
)  # fmt: skip
def test_workflow_identity_pattern(
    lab: Lab, tmp_path: Path, identity: str, issuer: str, allowed: bool
) -> None:
    policy = _pattern_policy(tmp_path, GITHUB_ISSUER, WORKFLOW_PATTERN)
    report = lab.verify(_signed_by(lab, identity, issuer), policy=policy)
    if allowed:
        assert_passed(report)
    else:
        assert_refused(report, "signer_not_allowed")


def test_pattern_uses_fullmatch_not_match() -> None:
    """``$`` alone also matches before a trailing newline; fullmatch does not."""
    rule = SignerRule(issuer=DEFAULT_ISSUER, identity_pattern="^agent-bot@example.com$")
    assert rule.matches_identity(DEFAULT_ISSUER, AGENT_ID)
    assert not rule.matches_identity(DEFAULT_ISSUER, AGENT_ID + "\n")
    assert not rule.matches_identity(DEFAULT_ISSUER + "/", AGENT_ID)


# --- C14 bundle from another instance -----------------------------------------------------------


@pytest.mark.parametrize(
    ("other", "expected"),
    [
        # Rekor v2 + TSA: the only signed time is the other instance's TSA token, which the
        # golden's trusted root does not list, so no verified time remains (checked first).
        pytest.param("dev_v2", "signed_time_missing", id="rekor-v2-tsa"),
        # Rekor v1 without TSA: the SET gives a time, then the leaf does not chain to the
        # golden's Fulcio root (same CA names, other keys: "signature does not match").
        pytest.param("dev_notsa", "certificate_chain_invalid", id="rekor-v1-no-tsa"),
    ],
)
def test_bundle_from_another_instance_is_refused(
    lab: Lab, request: pytest.FixtureRequest, other: str, expected: str
) -> None:
    inst: DevInstance = request.getfixturevalue(other)
    foreign = sign_line(inst, statement_bytes(lab.statement))
    assert_refused(lab.verify(foreign), expected)


def test_devinstance_bundle_does_not_verify_against_production_root(lab: Lab) -> None:
    # The production root's TSAs do not vouch for our token; the SET time stands in, and the
    # leaf does not chain to the production Fulcio.
    options = VerifyOptions(trusted_root=PRODUCTION_ROOT, offline=True)
    with network_restored():
        report = verify(lab.golden.repo.path, [lab.golden.commit], options)
    assert_refused(report, "certificate_chain_invalid")


# --- C15 certificate profile and chain ----------------------------------------------------------


def test_crafted_leaf_signing_path_passes_when_leaf_is_fine(lab: Lab) -> None:
    """Control: a leaf straight from the instance CA, with no defect, verifies."""
    assert_passed(
        lab.verify(sign_with_leaf(lab.inst, statement_bytes(lab.statement), LeafOptions()))
    )


def test_leaf_without_code_signing_eku_is_refused(lab: Lab) -> None:
    line = sign_with_leaf(lab.inst, statement_bytes(lab.statement), LeafOptions(code_signing=False))
    assert_refused(lab.verify(line), "certificate_profile_invalid")


def _as_v02_with_chain(line: bytes, chain: list[str]) -> bytes:
    def edit(doc: Json) -> None:
        material = _material(doc)
        leaf = material.pop("certificate")["rawBytes"]
        material["x509CertificateChain"] = {
            "certificates": [{"rawBytes": c} for c in ([leaf, *chain] if chain != ["-"] else [])]
        }
        doc["mediaType"] = "application/vnd.dev.sigstore.bundle+json;version=0.2"

    return mutated(line, edit)


def _der(inst: DevInstance, which: str) -> str:
    cert = inst.ca.root if which == "root" else inst.ca.intermediate
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def test_v02_chain_with_leaf_and_intermediate_passes(lab: Lab) -> None:
    """Control: the older bundle format with an issuing chain is fine."""
    assert_passed(lab.verify(_as_v02_with_chain(lab.line, [_der(lab.inst, "intermediate")])))


@pytest.mark.parametrize(
    "chain",
    [
        pytest.param(["intermediate", "root"], id="includes-root"),
        pytest.param(["root"], id="leaf-and-root"),
        pytest.param(["-"], id="empty"),
    ],
)
def test_v02_chain_including_root_or_empty_is_refused(lab: Lab, chain: list[str]) -> None:
    certs = chain if chain == ["-"] else [_der(lab.inst, which) for which in chain]
    assert_refused(lab.verify(_as_v02_with_chain(lab.line, certs)), "certificate_chain_invalid")


# --- C16 signed time ----------------------------------------------------------------------------


def _strip_tsa(doc: Json) -> None:
    _material(doc).pop("timestampVerificationData")


def _strip_set(doc: Json) -> None:
    _entry(doc).pop("inclusionPromise")


def test_v1_bundle_with_tsa_and_set_stripped_has_no_signed_time(lab: Lab) -> None:
    def strip_both(doc: Json) -> None:
        _strip_tsa(doc)
        _strip_set(doc)

    line = mutated(lab.line, strip_both)
    assert_refused(lab.verify(line), "signed_time_missing")


@pytest.mark.parametrize("strip", [_strip_tsa, _strip_set], ids=["no-tsa", "no-set"])
def test_v1_bundle_keeps_one_signed_time_source(lab: Lab, strip: Callable[[Json], None]) -> None:
    """Control: either the TSA token or the SET alone is a signed time."""
    assert_passed(lab.verify(mutated(lab.line, strip)))


def test_v2_bundle_with_tsa_stripped_has_no_signed_time(
    tmp_path: Path, dev_v2: DevInstance
) -> None:
    golden = make_golden(tmp_path, dev_v2)
    (line,) = golden.notes()
    golden.replace_notes([mutated(line, _strip_tsa)])
    assert_refused(check(golden), "signed_time_missing")


def test_v1_bundle_without_tsa_with_set_stripped_has_no_signed_time(
    tmp_path: Path, dev_notsa: DevInstance
) -> None:
    golden = make_golden(tmp_path, dev_notsa)
    (line,) = golden.notes()
    golden.replace_notes([mutated(line, _strip_set)])
    assert_refused(check(golden), "signed_time_missing")


def test_tsa_token_from_untrusted_tsa_is_no_signed_time(
    lab: Lab, tmp_path: Path, dev_v2: DevInstance
) -> None:
    """A Rekor v2 bundle whose TSA token comes from a TSA the trusted root does not list."""
    golden = make_golden(tmp_path, dev_v2)
    (line,) = golden.notes()
    foreign = sign_line(lab.inst, statement_bytes(lab.statement))  # timestamped by dev's TSA
    tokens = _material(decode(foreign))["timestampVerificationData"]
    golden.replace_notes(
        [mutated(line, lambda doc: _material(doc).__setitem__("timestampVerificationData", tokens))]
    )
    assert_refused(check(golden), "signed_time_missing")


def test_signed_time_before_leaf_validity_is_refused(lab: Lab) -> None:
    # The client refuses to sign with an already expired leaf, so the window is moved ahead.
    start = datetime.now(UTC) + timedelta(hours=1)
    options = LeafOptions(not_before=start, not_after=start + timedelta(minutes=10))
    line = sign_with_leaf(lab.inst, statement_bytes(lab.statement), options)
    assert_refused(lab.verify(line), "signed_time_invalid")


def test_unsigned_integrated_time_is_not_reported_as_signed_time(lab: Lab) -> None:
    """Without its SET, integratedTime is attacker-chosen: only the TSA time counts."""
    genuine = assert_passed(lab.verify()).signed_time
    assert genuine is not None

    def backdate(doc: Json) -> None:
        _strip_set(doc)
        _entry(doc)["integratedTime"] = "1000000000"  # 2001-09-09

    attestation = assert_passed(lab.verify(mutated(lab.line, backdate)))
    assert attestation.signed_time is not None
    assert abs(attestation.signed_time - genuine) <= timedelta(seconds=2)


# --- C17 transparency log entry -----------------------------------------------------------------


def _flip_b64(value: str) -> str:
    raw = bytearray(base64.b64decode(value))
    raw[0] ^= 1
    return base64.b64encode(bytes(raw)).decode()


def _bump_der_signature(value: str) -> str:
    r, s = decode_dss_signature(base64.b64decode(value))
    return base64.b64encode(encode_dss_signature(r, (s + 1) % P256_ORDER)).decode()


def _checkpoint_edit(edit: Callable[[list[str]], None]) -> Callable[[Json], None]:
    def apply(doc: Json) -> None:
        checkpoint = _entry(doc)["inclusionProof"]["checkpoint"]
        lines = checkpoint["envelope"].split("\n")
        edit(lines)
        checkpoint["envelope"] = "\n".join(lines)

    return apply


def _checkpoint_root(lines: list[str]) -> None:
    lines[2] = _flip_b64(lines[2])


def _checkpoint_signature(lines: list[str]) -> None:
    name, _, sig = lines[4].rpartition(" ")
    raw = bytearray(base64.b64decode(sig))
    raw[-1] ^= 1
    lines[4] = f"{name} {base64.b64encode(bytes(raw)).decode()}"


def _proof(doc: Json) -> Json:
    proof = _entry(doc)["inclusionProof"]
    assert isinstance(proof, dict)
    return proof


def _extra_hash(doc: Json) -> None:
    _proof(doc)["hashes"].append(base64.b64encode(b"\1" * 32).decode())


def _root_hash(doc: Json) -> None:
    _proof(doc)["rootHash"] = _flip_b64(_proof(doc)["rootHash"])


def _tree_size(doc: Json) -> None:
    _proof(doc)["treeSize"] = str(int(_proof(doc)["treeSize"]) + 1)


def _set_signature(doc: Json) -> None:
    promise = _entry(doc)["inclusionPromise"]
    promise["signedEntryTimestamp"] = _bump_der_signature(promise["signedEntryTimestamp"])


def _integrated_time(seconds: int) -> Callable[[Json], None]:
    def edit(doc: Json) -> None:
        _entry(doc)["integratedTime"] = str(int(_entry(doc)["integratedTime"]) + seconds)

    return edit


def _log_index(doc: Json) -> None:
    _entry(doc)["logIndex"] = str(int(_entry(doc)["logIndex"]) + 1)


def _log_id(doc: Json) -> None:
    log_id = _entry(doc)["logId"]
    log_id["keyId"] = _flip_b64(log_id["keyId"])


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        pytest.param(_extra_hash, "tlog_invalid", id="proof-extra-hash"),
        pytest.param(_root_hash, "tlog_invalid", id="proof-root-hash"),
        pytest.param(_tree_size, "tlog_invalid", id="proof-tree-size"),
        pytest.param(_checkpoint_edit(_checkpoint_root), "tlog_invalid", id="checkpoint-root"),
        pytest.param(_checkpoint_edit(_checkpoint_signature), "tlog_invalid",
                     id="checkpoint-signature"),
        pytest.param(_set_signature, "tlog_invalid", id="set-signature"),
        pytest.param(_integrated_time(1), "tlog_invalid", id="integrated-time"),
        # An hour back is before the leaf's validity: the chain is checked at the claimed time
        # before the SET that would also fail, so the first reason is the time itself.
        pytest.param(_integrated_time(-3600), "signed_time_invalid", id="integrated-time-early"),
        pytest.param(_log_index, "tlog_invalid", id="log-index"),
        pytest.param(_log_id, "tlog_invalid", id="log-id"),
        # A negative index is not even a valid protobuf uint64: the bundle does not load.
        pytest.param(lambda d: _entry(d).update(logIndex="-1"), "bundle_invalid",
                     id="negative-log-index"),
        pytest.param(lambda d: _proof(d).update(logIndex="-1"), "bundle_invalid",
                     id="negative-proof-index"),
    ],
)  # fmt: skip
def test_tampered_log_entry_is_refused(
    lab: Lab, edit: Callable[[Json], object], reason: str
) -> None:
    assert_refused(lab.verify(mutated(lab.line, edit)), reason)


@pytest.fixture(scope="module")
def other_entry_line(shared_lab: Lab) -> bytes:
    """Another genuine bundle over the same statement (other key, other log entry)."""
    return sign_line(shared_lab.inst, statement_bytes(shared_lab.statement))


@pytest.mark.parametrize(
    ("part", "reason"),
    [
        # Whole entry of the other bundle: valid SET and proof, but it logs another signature.
        pytest.param(None, "tlog_mismatch", id="whole-entry"),
        # Only the body: the proof and SET no longer cover what is shown.
        pytest.param("canonicalizedBody", "tlog_invalid", id="body"),
        pytest.param("inclusionPromise", "tlog_invalid", id="set"),
        pytest.param("inclusionProof", "tlog_invalid", id="proof"),
    ],
)
def test_log_material_of_another_entry_is_refused(
    lab: Lab, other_entry_line: bytes, part: str | None, reason: str
) -> None:
    other = _entry(decode(other_entry_line))

    def graft(doc: Json) -> None:
        if part is None:
            _material(doc)["tlogEntries"] = [other]
        else:
            _entry(doc)[part] = other[part]

    assert_refused(lab.verify(mutated(lab.line, graft)), reason)


def test_tampered_rekor_v2_root_hash_is_refused(tmp_path: Path, dev_v2: DevInstance) -> None:
    golden = make_golden(tmp_path, dev_v2)
    (line,) = golden.notes()
    golden.replace_notes([mutated(line, _root_hash)])
    assert_refused(check(golden), "tlog_invalid")
