"""Revocations by cause (``revocations.toml``), judged on the verified signed time.

Each cause is tried without a window, with a window around the line's verified signed time,
and with a window that starts after it and contains the host clock's now: the last one must
pass, which proves the window is judged on the signed time and never on the host clock
(THREATS.md G40). Every line is really signed; reason codes are asserted (decision 0018).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from provenance.app.approve import approve, preview
from provenance.app.gate import verify, verify_range
from provenance.app.options import VerifyOptions
from provenance.app.revoke import build_entry, revoke
from provenance.app.stamp import stamp
from provenance.errors import PolicyInvalid
from provenance.reasons import Reason
from provenance.revocations import parse_revocations
from provenance.sign.signing import SigningOptions
from provenance.verify.report import Report, report_to_dict
from tests.conftest import AGENT_ID, session
from tests.helpers import SSO_CALLBACK, GitRepo
from tests.verify._support import (
    Json,
    Lab,
    Mutation,
    agent_policy,
    assert_passed,
    assert_refused,
    network_restored,
    policy_file,
)
from tests.verify.test_keyed import make_keyed

SKILL = "d" * 64
BOB = "bob@example.com"


def _toml_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _entry(cause: str, window: tuple[datetime | None, datetime | None] = (None, None)) -> str:
    start, end = window
    text = f'[[revocation]]\nid = "r1"\n{cause}\nreason = "poisoned upstream"\n'
    text += 'reference = "INC-7"\n'
    if start is not None:
        text += f"from = {_toml_time(start)}\n"
    if end is not None:
        text += f"until = {_toml_time(end)}\n"
    return text


def _policy_with(lab: Lab, tmp_path: Path, revocations: str, extra: str = "") -> Path:
    path = policy_file(tmp_path / "p", agent_policy(lab.inst, extra))
    (path.parent / "revocations.toml").write_text(f"version = 1\n{revocations}")
    return path


def _with_skill(statement: Json) -> None:
    statement["predicate"]["skills"] = [{"name": "auth-helper", "digest": {"sha256": SKILL}}]


CAUSES: dict[str, tuple[str, Mutation | None]] = {
    "skill": (f'skill = "auth-helper@sha256:{SKILL}"', _with_skill),
    "skill-digest": (f'skill = "sha256:{SKILL}"', _with_skill),
    "model": ('model = "claude-opus-*"', None),
    "agent": ('agent = "claude-code@>=2.0,<2.1.3"', None),
    "signer": (f'signer = "{AGENT_ID}"', None),
    "prompter": ('prompter = "Alice@Example.com"', None),
}


def _signed_time(report: Report) -> datetime:
    (attestation,) = report.commits[0].attestations
    assert attestation.signed_time is not None
    return attestation.signed_time


def _assert_revoked(report: Report, reason: str = "poisoned upstream") -> None:
    assert_refused(report, Reason.REVOKED)
    (attestation,) = report_to_dict(report)["commits"][0]["attestations"]
    assert attestation["reasons"] == ["revoked"]
    (entry,) = attestation["revoked"]
    assert (entry["id"], entry["reason"], entry["reference"]) == ("r1", reason, "INC-7")


@pytest.mark.parametrize("cause", sorted(CAUSES))
def test_each_cause_with_and_without_a_window(lab: Lab, tmp_path: Path, cause: str) -> None:
    """Revoked without a window and inside one; outside one (host clock inside) it passes."""
    entry, mutation = CAUSES[cause]
    lines = (lab.resign(mutation),) if mutation is not None else ()
    before = lab.verify(*lines, policy=_policy_with(lab, tmp_path, ""))
    assert_passed(before)
    signed = _signed_time(before)
    _assert_revoked(lab.verify(*lines, policy=_policy_with(lab, tmp_path, _entry(entry))))
    around = (signed - timedelta(hours=1), signed + timedelta(seconds=1))
    _assert_revoked(lab.verify(*lines, policy=_policy_with(lab, tmp_path, _entry(entry, around))))
    # The host clock is past ``signed + 1s`` (waited for below): a window [signed + 1s, +1 day)
    # contains now but not the signed time, so a host-clock judgement would revoke.
    while datetime.now(UTC) <= signed + timedelta(seconds=2):
        time.sleep(0.2)
    after = (signed + timedelta(seconds=1), datetime.now(UTC) + timedelta(days=1))
    assert_passed(lab.verify(*lines, policy=_policy_with(lab, tmp_path, _entry(entry, after))))
    ended = (None, signed)  # until is exclusive: a line signed exactly then is not revoked
    assert_passed(lab.verify(*lines, policy=_policy_with(lab, tmp_path, _entry(entry, ended))))


def test_other_values_of_a_cause_do_not_revoke(lab: Lab, tmp_path: Path) -> None:
    """Another digest, model, version range, signer or prompter leaves the line valid."""
    others = (
        f'skill = "sha256:{"e" * 64}"',
        'model = "gpt-*"',
        'agent = "claude-code@>=2.1.3"',
        'signer = "someone@example.com"',
        'prompter = "bob@example.com"',
        'approver = "alice@example.com"',  # approver causes never touch change attestations
    )
    for entry in others:
        assert_passed(lab.verify(policy=_policy_with(lab, tmp_path, _entry(entry))))


def test_signer_narrowed_by_issuer(lab: Lab, tmp_path: Path) -> None:
    """A signer entry with another issuer does not match; with the right one it does."""
    other = _entry(f'signer = "{AGENT_ID}"\nissuer = "https://other.example"')
    assert_passed(lab.verify(policy=_policy_with(lab, tmp_path, other)))
    same = _entry(f'signer = "{AGENT_ID}"\nissuer = "{lab.inst.default_issuer}"')
    _assert_revoked(lab.verify(policy=_policy_with(lab, tmp_path, same)))


def test_key_cause_and_a_window_without_a_signed_time(tmp_path: Path) -> None:
    """A key id revokes its envelopes; a windowed entry matches a line with no proven time."""
    keyed = make_keyed(tmp_path)
    assert_passed(keyed.verify())
    far = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2000, 1, 2, tzinfo=UTC))
    for cause in (f'key = "{keyed.keyid}"', 'model = "claude-opus-4"'):
        keyed.repo.commit("revoke", {".provenance/revocations.toml": _entry(cause, far)})
        _assert_revoked(keyed.verify())
    keyed.repo.commit("other key", {".provenance/revocations.toml": _entry(f'key = "{"0" * 64}"')})
    assert_passed(keyed.verify())


def test_revocations_at_base_and_their_edit_is_identity_related(lab: Lab) -> None:
    """BASE's revocations apply to the range; one added inside the range does not, and the
    commit adding it is identity-related itself (THREATS.md E30)."""
    repo = lab.golden.repo
    base = repo.git("rev-parse", f"{lab.golden.commit}^")
    options = VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)
    with network_restored():
        assert verify_range(repo.path, f"{base}..{lab.golden.commit}", options)
    head = repo.commit("revoke", {".provenance/revocations.toml": _entry('model = "claude*"')})
    try:
        with network_restored():
            report = verify_range(repo.path, f"{base}..{head}", options)
        by_sha = {c.commit: c for c in report.commits}
        assert by_sha[lab.golden.commit].status == "ok"  # BASE has no revocations
        assert by_sha[head].identity_related and by_sha[head].status == "refused"
        assert by_sha[head].reasons == (Reason.ATTESTATION_MISSING,)
        with network_restored():
            later = verify(repo.path, [lab.golden.commit], options)  # HEAD's file decides
        _assert_revoked(later)
        assert report_to_dict(later)["policy"]["revocations"]["entries"] == 1
    finally:
        repo.git("reset", "-q", "--hard", lab.golden.commit)


@pytest.mark.parametrize(
    "text",
    [
        'version = 1\n[[revocation]]\nid = "r1"\nreason = "no cause"\n',
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "a"\nsigner = "b"\nreason = "two"\n',
        'version = 1\n[[revocation]]\nid = "r1"\nskill = "auth-helper"\nreason = "x"\n',
        'version = 1\n[[revocation]]\nid = "r1"\nagent = "claude-code"\nreason = "no range"\n',
        'version = 1\n[[revocation]]\nid = "r1"\nkey = "KEY"\nreason = "x"\n',
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "m"\nreason = ""\n',
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "m"\nreason = "x"\n'
        "from = 2026-11-03T00:00:00\n",  # no offset: which clock?
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "m"\nreason = "x"\n'
        "from = 2026-11-03T00:00:00Z\nuntil = 2026-11-02T00:00:00Z\n",
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "m"\nreason = "x"\nextra = 1\n',
        'version = 1\n[[revocation]]\nid = "r1"\nmodel = "m"\nreason = "x"\n'
        '[[revocation]]\nid = "r1"\nmodel = "n"\nreason = "y"\n',
        "version = 2\n",
        "version = \n",
    ],
)
def test_malformed_revocations_refuse_to_decide(text: str) -> None:
    """An entry the gate cannot read is never dropped: nothing is decided (fail closed)."""
    with pytest.raises(PolicyInvalid) as caught:
        parse_revocations(text, source="test")
    assert caught.value.reason == Reason.REVOCATION_INVALID


def test_malformed_revocations_beside_the_policy_stop_the_gate(lab: Lab, tmp_path: Path) -> None:
    """Through the gate too: the file is named and nothing passes."""
    policy = _policy_with(lab, tmp_path, '[[revocation]]\nid = "r1"\nreason = "x"\n')
    with pytest.raises(PolicyInvalid) as caught:
        lab.verify(policy=policy)
    assert caught.value.reason == Reason.REVOCATION_INVALID
    assert "revocations.toml" in str(caught.value)


def _approval_repo(tmp_path: Path, lab: Lab) -> tuple[GitRepo, str, Callable[[str], Report]]:
    """A commit stamped by the agent (alice prompted) and approved by bob, who is required."""
    inst = lab.inst
    repo = GitRepo.init(tmp_path / "approvals")
    approver = f'[[approvers]]\nissuer = "{inst.default_issuer}"\nidentity = "{BOB}"\n'
    policy = agent_policy(inst, "[approvals]\nrequired = 1\n") + approver + 'person = "bob"\n'
    base = repo.commit("policy", {".provenance/policy.toml": policy})
    sha = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})

    def signing(identity: str) -> SigningOptions:
        token = inst.issue_token(identity)
        return SigningOptions(identity_token=token, trust_config=inst.trust_config_path)

    stamp(repo.path, sha, session(), signing(AGENT_ID))
    options = VerifyOptions(trusted_root=inst.trusted_root_path, offline=True)
    with network_restored():
        seen = preview(repo.path, sha, options, base=base)
    approve(repo.path, seen, "approve", "looks right", signing(BOB))

    def check(revocations: str) -> Report:
        repo.write(".provenance/revocations.toml", f"version = 1\n{revocations}")
        repo.git("add", "-A")
        repo.git("commit", "-q", "--allow-empty", "-m", "revocations")
        with network_restored():
            return verify(repo.path, [sha], options)

    return repo, sha, check


def test_a_revoked_approval_no_longer_counts(tmp_path: Path, lab: Lab) -> None:
    """bob's approval, revoked by approver identity or person, leaves the threshold unmet."""
    _, _, check = _approval_repo(tmp_path, lab)
    report = check("")
    assert report.commits[0].status == "ok" and report.commits[0].approvers == ("bob",)
    for who in (BOB, "Bob"):
        revoked = check(_entry(f'approver = "{who}"'))
        assert_refused(revoked, Reason.APPROVAL_THRESHOLD_NOT_MET, Reason.REVOKED)
        kinds = {a.kind: a for a in revoked.commits[0].attestations}
        assert kinds["change"].ok and kinds["approval"].reasons == (Reason.REVOKED,)
        assert kinds["approval"].revoked[0].id == "r1"
    far = (datetime.now(UTC) + timedelta(days=1), None)  # not yet in force for this approval
    assert check(_entry(f'approver = "{BOB}"', far)).commits[0].status == "ok"


def test_revoke_writes_what_the_gate_reads(lab: Lab) -> None:
    """``revoke`` appends an entry the gate reads back; concurrent revokers lose nothing."""
    repo = lab.golden.repo
    try:
        first = revoke(repo.path, build_entry("model", "claude-*", "bad model", rid="r1",
                                              reference="INC-7"))  # fmt: skip
        assert first.path == repo.path / ".provenance" / "revocations.toml"
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: revoke(repo.path, build_entry("prompter", f"p{i}", "x")),
                          range(8)))  # fmt: skip
        written = parse_revocations(first.path.read_text(), source="test")
        assert written.revocation[0].id == "r1" and len(written.revocation) == 9
        repo.commit("revoke", {})
        options = VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)
        with network_restored():
            _assert_revoked(verify(repo.path, [lab.golden.commit], options), "bad model")
    finally:
        repo.git("reset", "-q", "--hard", lab.golden.commit)
