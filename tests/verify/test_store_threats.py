"""THREATS.md F34-F36: what a note may hold besides attestations, and which ref is read."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from provenance.predicates import APPROVAL_PREDICATE_TYPE
from tests.conftest import Golden
from tests.verify._support import (
    Json,
    Lab,
    agent_policy,
    assert_passed,
    assert_refused,
    check,
    decode,
    encode,
    mutated,
    payload_of,
    policy_file,
)

# --- F34 lines that are not attestations --------------------------------------------------------

#: (id, make the line from the golden line, reason it is refused with)
JUNK: list[tuple[str, Callable[[bytes], bytes], str]] = [
    ("text", lambda _: b"hello world", "malformed"),
    ("invalid-utf8", lambda _: b'{"a":"\xff\xfe"}', "malformed"),
    ("nan", lambda _: b'{"a":NaN}', "malformed"),
    ("truncated-json", lambda line: line[: len(line) // 2], "malformed"),
    ("nul-byte", lambda _: b'{"a":"\x00"}', "malformed"),
    ("huge-integer", lambda _: b'{"a":' + b"1" * 5000 + b"}", "malformed"),
    ("null", lambda _: b"null", "unknown_format"),
    ("array", lambda _: b"[1,2]", "unknown_format"),
    ("string", lambda _: b'"attestation"', "unknown_format"),
    ("empty-object", lambda _: b"{}", "unknown_format"),
    ("pending-record", lambda _: b'{"pending":true,"reason":"x","statement":"AA=="}',
     "unknown_format"),
    ("oversized-marker", lambda _: b"<oversized line>", "too_large"),
    ("bare-statement", payload_of, "unknown_format"),
    # A keyless envelope lifted out of its bundle: no verification material, no keyid.
    ("bare-envelope", lambda line: encode(decode(line)["dsseEnvelope"]), "malformed"),
    ("envelope-without-signatures",
     lambda line: mutated(encode(decode(line)["dsseEnvelope"]), lambda d: d.pop("signatures")),
     "signature_count_invalid"),
    ("bundle-without-material", lambda line: mutated(line, lambda d: d.pop("verificationMaterial")),
     "bundle_invalid"),
    ("bundle-without-certificate",
     lambda line: mutated(line, lambda d: d["verificationMaterial"].pop("certificate")),
     "bundle_invalid"),
    ("bundle-without-log-entry",
     lambda line: mutated(line, lambda d: d["verificationMaterial"].pop("tlogEntries")),
     "bundle_invalid"),
    ("bundle-media-type-only", lambda line: encode({"mediaType": decode(line)["mediaType"]}),
     "not_dsse"),
    ("message-signature-bundle",
     lambda line: mutated(line, lambda d: d.update(
         messageSignature={"messageDigest": {"algorithm": "SHA2_256", "digest": "AA=="},
                           "signature": "AA=="}) or d.pop("dsseEnvelope")),
     "not_dsse"),
]  # fmt: skip
JUNK_IDS = [name for name, _, _ in JUNK]


@pytest.mark.parametrize(("name", "make", "reason"), JUNK, ids=JUNK_IDS)
def test_junk_line_alone_is_refused_with_its_reason(
    lab: Lab, name: str, make: Callable[[bytes], bytes], reason: str
) -> None:
    line = make(lab.line)
    assert b"\n" not in line, name
    report = lab.verify(line)
    assert_refused(report, reason)
    (result,) = report.commits[0].attestations
    assert not result.ok


def test_junk_lines_are_never_counted_and_never_crash_the_reader(lab: Lab) -> None:
    junk = [make(lab.line) for _, make, _ in JUNK]
    half = len(junk) // 2
    report = lab.verify(*junk[:half], lab.line, *junk[half:])
    assert_passed(report)
    results = report.commits[0].attestations
    assert [r.ok for r in results].count(True) == 1
    # identical refusals collapse into one entry (G52); every reason is still reported
    assert {x for r in results for x in r.reasons} == {reason for _, _, reason in JUNK}


def test_only_junk_is_a_refusal_listing_every_reason(lab: Lab) -> None:
    report = lab.verify(*(make(lab.line) for _, make, _ in JUNK))
    assert_refused(report, *{reason for _, _, reason in JUNK})
    assert "attestation_missing" not in report.commits[0].reasons


# --- F35 there must exist one fully valid change attestation ------------------------------------


def _tampered(line: bytes) -> bytes:
    """The golden change attestation with one payload byte changed (right type, bad signature)."""

    def edit(doc: Json) -> None:
        payload = payload_of(line).replace(b"claude-opus-4", b"claude-opus-5")
        doc["dsseEnvelope"]["payload"] = base64.b64encode(payload).decode()

    return mutated(line, edit)


def test_only_the_invalid_attestation_has_the_right_type(lab: Lab) -> None:
    other_type = lab.resign(lambda st: st.update(predicateType="https://slsa.dev/provenance/v1"))
    report = lab.verify(other_type, _tampered(lab.line))
    assert_refused(report, "predicate_type_unknown", "signature_invalid")
    kinds = [r.kind for r in report.commits[0].attestations]
    assert kinds == ["unknown", "change"]


def test_right_type_from_untrusted_signer_beside_trusted_other_type(lab: Lab) -> None:
    other_type = lab.resign(lambda st: st.update(predicateType="https://slsa.dev/provenance/v1"))
    untrusted = lab.resign(lambda _: None, identity="mallory@example.com")
    report = lab.verify(untrusted, other_type)
    assert_refused(report, "predicate_type_unknown", "signer_not_allowed")


def test_valid_approval_alone_is_no_change_attestation(lab: Lab) -> None:
    """A fully valid attestation of the wrong kind proves nothing: the change one is missing."""

    def as_approval(statement: Json) -> None:
        statement["predicateType"] = APPROVAL_PREDICATE_TYPE
        statement["predicate"] = {
            "change_attestation": {"sha256": "a" * 64},
            "commit": statement["predicate"]["commit"],
            "decision": "approve",
            "decided_at": datetime.now(UTC).isoformat(),
        }

    report = lab.verify(lab.resign(as_approval))
    # the agent identity may sign changes, not approvals (issue #4): the approval is refused,
    # and with no change attestation at all the commit is refused
    assert_refused(report, "approver_not_allowed")
    (approval,) = report.commits[0].attestations
    assert approval.kind == "approval" and approval.reasons == ("approver_not_allowed",)


@pytest.mark.parametrize("valid_first", [True, False], ids=["valid-first", "garbage-first"])
def test_one_valid_beside_garbage_passes(lab: Lab, valid_first: bool) -> None:
    garbage = [b"not json", _tampered(lab.line), encode({"mediaType": "x"})]
    lines = [lab.line, *garbage] if valid_first else [*garbage, lab.line]
    assert_passed(lab.verify(*lines))


# --- F33/F36 which ref is read ------------------------------------------------------------------


def _move_notes(golden: Golden, source: str, target: str) -> None:
    golden.repo.git("update-ref", target, source)
    golden.repo.git("update-ref", "-d", source)


def test_notes_only_under_refs_notes_commits_are_never_read(golden: Golden) -> None:
    _move_notes(golden, "refs/notes/provenance", "refs/notes/commits")
    assert golden.repo.git("notes", "show", golden.commit)  # git itself would show them
    assert_refused(check(golden), "attestations_unavailable")


def test_note_under_another_ref_does_not_count_when_ours_exists(golden: Golden) -> None:
    _move_notes(golden, "refs/notes/provenance", "refs/notes/commits")
    parent = golden.repo.git("rev-parse", f"{golden.commit}~1")
    golden.repo.git("notes", "--ref=refs/notes/provenance", "add", "-m", '{"n":1}', parent)
    assert_refused(check(golden), "attestation_missing")


def test_configured_notes_ref_is_the_only_one_read(golden: Golden, tmp_path: Path) -> None:
    policy = policy_file(tmp_path, agent_policy(golden.inst, 'notes_ref = "refs/notes/custom"'))
    assert_refused(check(golden, policy=policy), "attestations_unavailable")
    golden.repo.git("update-ref", "refs/notes/custom", "refs/notes/provenance")
    assert_passed(check(golden, policy=policy))


def test_deleted_note_is_a_missing_attestation(golden: Golden) -> None:
    golden.repo.git("notes", "--ref=refs/notes/provenance", "remove", golden.commit)
    assert_refused(check(golden), "attestation_missing")
