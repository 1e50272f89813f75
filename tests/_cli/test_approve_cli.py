"""``provenance approve`` and ``provenance pending`` as a reviewer runs them (real subprocesses).

One repository per module: its committed policy requires two approvals from alice, bob and
carol; two SSO commits on ``main`` are stamped by the agent wrapper (dave prompted them). A
side branch adds an identity commit nobody stamped and one stamped by an untrusted signer.
Approvals are signed for real by devinstance identities passed as ``--identity-token @FILE``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.sign.signing import SigningOptions
from tests.conftest import AGENT_ID, session
from tests.helpers import SSO_CALLBACK, GitRepo

NOTES_REF = "refs/notes/provenance"
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"
DAVE, MALLORY = "dave@example.com", "mallory@example.com"


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed CLI, with no TTY on stdin and no ambient token or trust config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PROVENANCE_IDENTITY_TOKEN", "PROVENANCE_TRUST_CONFIG")
    }
    return subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _policy(issuer: str) -> str:
    approvers = "".join(
        f'[[approvers]]\nissuer = "{issuer}"\nidentity = "{who}@example.com"\nperson = "{who}"\n'
        for who in ("alice", "bob", "carol")
    )
    return (
        f'version = 1\n\n[[signers]]\nissuer = "{issuer}"\nidentity = "{AGENT_ID}"\n\n'
        f"[approvals]\nrequired = 2\n\n{approvers}"
    )


@dataclass
class Review:
    """The module's repository, its commits and the reviewers' token files."""

    repo: GitRepo
    inst: DevInstance
    base: str
    docs: str
    sso: str
    scim: str
    unstamped: str
    untrusted: str
    tokens: dict[str, Path]
    changes: dict[str, bytes]

    def note(self, sha: str) -> list[bytes]:
        if sha not in self.repo.git("notes", f"--ref={NOTES_REF}", "list"):
            return []
        out = self.repo.git("notes", f"--ref={NOTES_REF}", "show", sha)
        return [line.encode() for line in out.splitlines() if line]

    def reset(self) -> None:
        """Only the wrapper's change attestations are stored again: nobody approved yet."""
        for sha, line in self.changes.items():
            self.repo.git("notes", f"--ref={NOTES_REF}", "add", "-f", "-m", line.decode(), sha)

    def approve(self, who: str, *args: str) -> subprocess.CompletedProcess[str]:
        return run(
            [
                "approve",
                *args,
                "--base",
                self.base,
                "--repo",
                str(self.repo.path),
                "--identity-token",
                f"@{self.tokens[who]}",
                "--trust-config",
                str(self.inst.trust_config_path),
            ],
            self.repo.path,
        )

    def pending(self, head: str) -> tuple[int, dict[str, Any]]:
        proc = run(
            [
                "pending",
                f"{self.base}..{head}",
                "--format",
                "json",
                "--offline",
                "--trusted-root",
                str(self.inst.trusted_root_path),
            ],
            self.repo.path,
        )
        assert proc.returncode in (0, 1), proc.stderr
        data = json.loads(proc.stdout)
        assert isinstance(data, dict)
        return proc.returncode, data


@pytest.fixture(scope="module")
def review(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Review:
    root = tmp_path_factory.mktemp("review")
    repo = GitRepo.init(root / "repo")
    base = repo.commit("policy", {".provenance/policy.toml": _policy(dev.default_issuer)})
    docs = repo.commit("docs", {"docs/guide.md": "# Guide\n"})
    sso = repo.commit("Add SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    scim = repo.commit("SCIM deprovisioning", {"app/scim/users.py": "def deprovision(u): ...\n"})
    agent = SigningOptions(
        identity_token=dev.issue_token(AGENT_ID), trust_config=dev.trust_config_path
    )
    for sha in (sso, scim):
        stamp(repo.path, sha, session(DAVE), agent)
    repo.git("checkout", "-q", "-b", "side")
    unstamped = repo.commit("SSO logout", {"app/auth/logout.py": SSO_CALLBACK})
    untrusted = repo.commit("SSO refresh", {"app/auth/refresh.py": SSO_CALLBACK})
    mallory = SigningOptions(
        identity_token=dev.issue_token(MALLORY), trust_config=dev.trust_config_path
    )
    stamp(repo.path, untrusted, session(DAVE), mallory)
    repo.git("checkout", "-q", "main")
    tokens = {}
    for who in (ALICE, BOB, CAROL):
        tokens[who] = root / f"{who}.jwt"
        tokens[who].write_text(dev.issue_token(who) + "\n")
    review = Review(repo, dev, base, docs, sso, scim, unstamped, untrusted, tokens, {})
    for sha in (sso, scim, untrusted):
        (review.changes[sha],) = review.note(sha)
    return review


def _statement(line: bytes) -> dict[str, Any]:
    doc = json.loads(line)
    value = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    assert isinstance(value, dict)
    return value


def _digest(line: bytes) -> str:
    return hashlib.sha256(base64.b64decode(json.loads(line)["dsseEnvelope"]["payload"])).hexdigest()


def _pending_entries(data: dict[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    entries = data["commits"]
    assert all(entry["rules"] for entry in entries)
    return {e["commit"]: (e["reasons"], e["approvers"]) for e in entries}


@pytest.mark.parametrize(("command", "teaches"), [("approve", "--yes"), ("pending", "BASE..HEAD")])
def test_help_teaches(command: str, teaches: str, tmp_path: Path) -> None:
    proc = run([command, "--help"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout and teaches in proc.stdout


def test_approve_without_yes_and_without_tty_exits_2_and_stores_nothing(review: Review) -> None:
    review.reset()
    proc = review.approve(BOB, review.sso)
    assert proc.returncode == 2, proc.stderr
    assert "refusing to approve without confirmation" in proc.stderr and "--yes" in proc.stderr
    assert review.note(review.sso) == [review.changes[review.sso]]


def test_approve_refuses_a_commit_without_valid_change_attestation(review: Review) -> None:
    review.reset()
    proc = review.approve(BOB, review.unstamped, "--yes")
    assert proc.returncode == 1, proc.stderr
    assert f"{review.unstamped[:12]} has no valid change attestation" in proc.stderr
    assert "(attestation_missing); nothing to approve" in proc.stderr
    assert proc.stdout == "" and review.note(review.unstamped) == []
    proc = review.approve(BOB, review.untrusted, "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "no valid change attestation (signer_not_allowed)" in proc.stderr
    assert review.note(review.untrusted) == [review.changes[review.untrusted]]


def test_approving_several_commits_stores_nothing_when_one_is_refused(review: Review) -> None:
    review.reset()
    proc = review.approve(BOB, review.sso, review.unstamped, "--yes")
    assert proc.returncode == 1, proc.stderr
    assert "has no valid change attestation" in proc.stderr and proc.stdout == ""
    assert review.note(review.sso) == [review.changes[review.sso]]
    assert review.note(review.unstamped) == []


def test_review_round_pending_approve_reject_approve_verify(review: Review) -> None:
    review.reset()
    sso, scim = review.sso, review.scim
    # 1. nothing approved: every identity commit is pending, the docs commit is not
    code, data = review.pending(review.untrusted)
    assert code == 1
    assert data["range"]["base"] == review.base and data["range"]["head"] == review.untrusted
    assert _pending_entries(data) == {
        sso: (["approval_missing"], []),
        scim: (["approval_missing"], []),
        review.unstamped: (["attestation_missing"], []),
        review.untrusted: (["signer_not_allowed"], []),
    }
    assert [e["commit"] for e in data["commits"]] == [sso, scim, review.unstamped, review.untrusted]

    # 2. bob approves both SSO commits in one go, with a comment
    proc = review.approve(BOB, sso, scim, "--yes", "--comment", "reviewed the callback")
    assert proc.returncode == 0, proc.stderr
    digests = proc.stdout.split()
    assert len(digests) == 2 and all(d.startswith("sha256:") for d in digests)
    assert f"approved {sso[:12]}" in proc.stderr and f"signed by {BOB}" in proc.stderr
    for sha, digest in zip((sso, scim), digests, strict=True):
        change, approval = review.note(sha)
        assert change == review.changes[sha]
        assert digest == f"sha256:{_digest(approval)}"
        predicate = _statement(approval)["predicate"]
        assert predicate["change_attestation"] == {"sha256": _digest(change)}
        assert predicate["commit"]["sha"] == sha and predicate["decision"] == "approve"
        assert predicate["comment"] == "reviewed the callback"

    # 3. carol rejects the SSO commit
    proc = review.approve(CAROL, sso, "--yes", "--decision", "reject", "--comment", "no tests")
    assert proc.returncode == 0, proc.stderr
    assert f"rejected {sso[:12]}" in proc.stderr
    assert _statement(review.note(sso)[-1])["predicate"]["decision"] == "reject"
    code, data = review.pending(review.scim)
    assert code == 1
    assert _pending_entries(data) == {
        sso: (["approval_rejected"], ["bob"]),
        scim: (["approval_threshold_not_met"], ["bob"]),
    }

    # 4. carol approves both later: nothing is pending any more
    proc = review.approve(CAROL, sso, scim, "--yes")
    assert proc.returncode == 0, proc.stderr
    code, data = review.pending(review.scim)
    assert (code, data["commits"]) == (0, [])

    # 5. the gate's JSON report names who approved each commit
    proc = run(
        [
            "verify",
            f"{review.base}..{review.scim}",
            "--format",
            "json",
            "--offline",
            "--trusted-root",
            str(review.inst.trusted_root_path),
        ],
        review.repo.path,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["result"] == "passed"
    entries = {e["commit"]: e for e in report["commits"]}
    assert (entries[review.docs]["status"], "approvers" in entries[review.docs]) == (
        "not-required",
        False,
    )
    for sha in (sso, scim):
        assert (entries[sha]["status"], entries[sha]["approvers"]) == ("ok", ["bob", "carol"])
        kinds = [(a["kind"], a["status"], a["approver"]) for a in entries[sha]["attestations"]]
        assert kinds[0] == ("change", "ok", None)
        assert ("approval", "ok", "bob") in kinds and ("approval", "ok", "carol") in kinds
