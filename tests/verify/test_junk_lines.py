"""Junk lines neither block nor outvote a valid attestation (THREATS.md G52).

Before the fix, 513 junk lines on a commit made it ``too_many_attestations`` and a note over
64 MB made it ``too_large``, although a valid attestation was stored with them; union sync
could never remove the junk. Lines are now screened cheaply (strict parse, claimed signer)
before any crypto, only well-formed lines claiming a signer the policy knows count toward the
limits, and a huge note is read as a stream.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable

from provenance.app.approve import preview
from provenance.app.gate import verify_range
from provenance.app.options import VerifyOptions
from provenance.store import MAX_LINES_PER_COMMIT, MAX_NOTE_BYTES
from tests.verify._support import (
    Json,
    Lab,
    assert_passed,
    assert_refused,
    decode,
    encode,
    mutated,
    sign_line,
    statement_bytes,
)

MALLORY = "mallory@example.com"


def _reindexed(line: bytes, n: int) -> bytes:
    """A distinct, well-formed copy of a bundle (another log index; its proofs then fail)."""

    def edit(doc: Json) -> None:
        doc["verificationMaterial"]["tlogEntries"][0]["logIndex"] = str(1_000_000 + n)

    return mutated(line, edit)


def _unknown_key_envelope(n: int) -> bytes:
    signature = base64.b64encode(n.to_bytes(4, "big")).decode()
    envelope = {"payload": "e30=", "payloadType": "application/vnd.in-toto+json"}
    return encode({**envelope, "signatures": [{"keyid": "nobody", "sig": signature}]})


def _store_big(lab: Lab, lines: list[bytes]) -> None:
    """Store a note too large for ``git notes add -F -`` in one argument-free pipe."""
    blob = subprocess.run(
        ["git", "-C", str(lab.golden.repo.path), "hash-object", "-w", "--stdin"],
        input=b"\n".join(lines) + b"\n", capture_output=True, check=True,
    ).stdout.decode().strip()  # fmt: skip
    lab.golden.repo.git("notes", "--ref=refs/notes/provenance", "add", "-f", "-C", blob,
                        lab.golden.commit)  # fmt: skip


def test_junk_of_every_kind_does_not_outvote_a_valid_attestation(lab: Lab) -> None:
    """THREATS.md G52: 600 lines of each kind of junk, then the valid line."""
    foreign = sign_line(lab.inst, statement_bytes(lab.statement), MALLORY)
    junk = [b"not json %d" % i for i in range(600)]
    junk += [encode({"_type": "https://in-toto.io/Statement/v1", "n": i}) for i in range(600)]
    junk += [_reindexed(foreign, i) for i in range(600)]  # well-formed, signer not allowed
    junk += [_unknown_key_envelope(i) for i in range(600)]
    attestation = assert_passed(lab.verify(*junk, lab.line))
    verdict = lab.verify(*junk, lab.line).commits[0]
    reasons = {r for a in verdict.attestations for r in a.reasons}
    assert reasons == {"malformed", "unknown_format", "signer_not_allowed", "key_unknown"}
    assert len(verdict.attestations) < 20  # identical refusals collapse into one entry
    assert attestation.signer is not None


def test_bundles_without_a_usable_certificate_do_not_count(lab: Lab) -> None:
    """THREATS.md G52: a certificate that does not parse claims no signer, so it never counts."""

    def garbage_certificate(n: int) -> Callable[[Json], None]:
        def edit(doc: Json) -> None:
            raw = base64.b64encode(b"not DER %d" % n).decode()
            doc["verificationMaterial"]["certificate"]["rawBytes"] = raw

        return edit

    junk = [mutated(lab.line, garbage_certificate(i)) for i in range(MAX_LINES_PER_COMMIT + 1)]
    verdict = assert_passed(lab.verify(*junk, lab.line))
    assert verdict.kind == "change"
    refused = lab.verify(*junk).commits[0]
    assert refused.reasons == ("bundle_invalid",)


def test_refused_lines_keep_their_labels(lab: Lab) -> None:
    """A screened line reports the same reason, kind and signer as a full verification."""
    foreign = sign_line(lab.inst, statement_bytes(lab.statement), MALLORY)
    verdict = lab.verify(foreign).commits[0]
    (result,) = verdict.attestations
    assert (result.kind, result.reasons, result.signer) == (
        "change", ("signer_not_allowed",), MALLORY,
    )  # fmt: skip
    assert result.digest is not None and result.predicate_type is not None
    assert verdict.reasons == ("signer_not_allowed",)


def test_well_formed_lines_claiming_an_allowed_signer_still_have_a_limit(lab: Lab) -> None:
    """THREATS.md G52: what may count is bounded (and each such line costs a verification)."""
    copies = [_reindexed(lab.line, i) for i in range(MAX_LINES_PER_COMMIT)]
    assert_refused(lab.verify(*copies, lab.line), "too_many_attestations")
    assert_passed(lab.verify(*copies[: MAX_LINES_PER_COMMIT - 1], lab.line))


def test_a_note_over_64_mb_does_not_hide_its_valid_line(lab: Lab) -> None:
    """THREATS.md G52: the note is streamed; long lines become too_large one by one."""
    long_junk = [b"x" * (4 * 1024 * 1024 + 1) + b"%d" % i for i in range(17)]
    assert sum(map(len, long_junk)) > MAX_NOTE_BYTES
    _store_big(lab, [*long_junk, lab.line])
    assert_passed(lab.verify())


def test_a_note_of_64_mb_of_small_junk_lines_does_not_hide_its_valid_line(lab: Lab) -> None:
    """THREATS.md G52: kept memory is the stand-ins, not the junk."""
    line = b"{" + b"j" * 1000
    junk = [line + b"%d" % i for i in range(70_000)]
    assert sum(map(len, junk)) > MAX_NOTE_BYTES
    _store_big(lab, [*junk, lab.line])
    assert_passed(lab.verify())


def test_the_range_gate_and_approve_screen_the_same_way(lab: Lab) -> None:
    """The gate over a range, and ``approve``'s preview, see past the junk too."""
    junk = [encode({"n": i}) for i in range(MAX_LINES_PER_COMMIT + 1)]
    lab.verify(*junk, lab.line)
    repo, inst = lab.golden.repo, lab.inst
    options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
    base = repo.git("rev-parse", f"{lab.golden.commit}~1")
    report = verify_range(repo.path, f"{base}..{lab.golden.commit}", options)
    assert report.result == "passed", report
    assert preview(repo.path, lab.golden.commit, options, base=base).change.ok


def test_a_stored_line_cannot_pose_as_a_stand_in(lab: Lab) -> None:
    """Stand-ins carry a per-process nonce: a stored look-alike is plain junk."""
    fake = b'<refused 000000000000000000000000 {"reason": "approval_rejected"}>'
    verdict = lab.verify(fake, lab.line).commits[0]
    assert verdict.status == "ok"
    assert [a.reasons for a in verdict.attestations if not a.ok] == [("malformed",)]
    assert decode(lab.line)  # the genuine line is untouched
