"""The end-to-end demo: a local Sigstore instance, an agent-written SSO change, the gate.

Every step runs the real ``provenance`` CLI in a child process against a real repository and
the devinstance on loopback, and checks the exit code and reason it expects.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provenance.app.demo_revocation import make_skill, revoke_after_release
from provenance.devinstance import DevInstance
from provenance.errors import ProvenanceError
from provenance.gitio.runner import git_env, git_program
from provenance.policy import render_template
from provenance.reasons import Reason

AGENT = "agent-bot@example.com"
PROMPTER = "alice@example.com"
REVIEWER = "bob@example.com"
SSO = '''"""OIDC single sign-on callback (written by the coding agent)."""

from authlib.integrations.flask_client import OAuth

oauth = OAuth()


def callback(request):
    token = oauth.idp.authorize_access_token()
    if token.get("state") != request.session.pop("oauth_state", None):
        raise PermissionError("state mismatch")
    request.session["user"] = token["userinfo"]["email"]
'''
HELPER = '''"""Small helpers shared by the views."""

import jwt


def slugify(text):
    return "-".join(text.lower().split())


def current_user(request, key):
    claims = jwt.decode(request.headers["Authorization"][7:], key, algorithms=["HS256"])
    return claims["sub"]
'''
Say = Callable[[str], None]


@dataclass
class Demo:
    """State of one demo run."""

    root: Path
    say: Say
    failures: list[str] = field(default_factory=list)

    @property
    def repo(self) -> Path:
        return self.root / "app"

    def git(
        self, *args: str, cwd: Path | None = None, author: str = "Dana Dev <dana@example.com>"
    ) -> str:
        name, _, email = author.partition(" <")
        env = git_env(
            {
                "GIT_AUTHOR_NAME": name,
                "GIT_AUTHOR_EMAIL": email.rstrip(">"),
                "GIT_COMMITTER_NAME": name,
                "GIT_COMMITTER_EMAIL": email.rstrip(">"),
            }
        )
        proc = subprocess.run(
            [git_program(), "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd or self.repo,
            capture_output=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise ProvenanceError(f"demo: git {args[0]} failed: {proc.stderr.decode().strip()}")
        return proc.stdout.decode().strip()

    def cli(
        self,
        args: Sequence[str],
        *,
        expect: int,
        why: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """Run the real CLI, narrate its report (text) and messages, check its exit code.

        A JSON report is read by the demo's checks rather than shown; its text form goes
        to stderr, which is always narrated.
        """
        masked = [
            "<token>" if prev == "--identity-token" else a
            for prev, a in zip(["", *args], args, strict=False)
        ]
        shown = " ".join(a if len(a) < 60 else a[:20] + "…" for a in masked)
        self.say(f"  $ provenance {shown}")
        child_env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        child_env.pop("PROVENANCE_IDENTITY_TOKEN", None)
        proc = subprocess.run(
            [sys.executable, "-m", "provenance", *args],
            cwd=cwd or self.repo,
            capture_output=True,
            env={**child_env, **(env or {})},
            check=False,
            text=True,
        )
        machine = "json" in [b for a, b in itertools.pairwise(args) if a == "--format"]
        shown_out = "" if machine else proc.stdout
        for line in (shown_out.strip() + "\n" + proc.stderr.strip()).strip().splitlines():
            self.say(f"    {line}")
        status = "as expected" if proc.returncode == expect else f"UNEXPECTED (wanted {expect})"
        self.say(f"    -> exit {proc.returncode} {status}: {why}")
        if proc.returncode != expect:
            self.failures.append(f"provenance {shown}: exit {proc.returncode}, wanted {expect}")
        return proc.stdout

    def expect_reason(self, out: str, reason: str) -> None:
        reasons = {r for c in json.loads(out)["commits"] for r in c["reasons"]}
        ok = reason in reasons
        self.say(f"    -> reason codes {sorted(reasons)} {'include' if ok else 'LACK'} {reason}")
        if not ok:
            self.failures.append(f"expected reason {reason}, got {sorted(reasons)}")


def _setup_repository(d: Demo, inst: DevInstance) -> str:
    d.say("\n[2/13] A repository with a provenance policy trusting the agent wrapper's identity")
    d.repo.mkdir(parents=True)
    d.git("init", "-q", "-b", "main")
    (d.repo / "README.md").write_text("# Example app\n")
    (d.repo / ".provenance").mkdir()
    policy = render_template(inst.default_issuer, AGENT).replace("required = 0", "required = 1")
    policy += (
        f'\n[[approvers]]\nissuer = "{inst.default_issuer}"\nidentity = "{REVIEWER}"\n'
        f'person = "bob"\n\n[[approvers]]\nissuer = "{inst.default_issuer}"\n'
        f'identity = "{PROMPTER}"\nperson = "alice"\n'
    )
    (d.repo / ".provenance" / "policy.toml").write_text(policy)
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Initial commit with provenance policy")
    d.say(
        f"  policy: change attestations signed by {AGENT} ({inst.default_issuer});"
        f" 1 approval from bob or alice, never by whoever prompted the change"
    )
    d.say("\n[3/13] The coding agent writes an SSO callback and commits it")
    (d.repo / "app" / "auth").mkdir(parents=True)
    (d.repo / "app" / "auth" / "sso.py").write_text(SSO)
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Add OIDC SSO callback", author="Coding Agent <agent@example.com>")
    return d.git("rev-parse", "HEAD")


def _tamper(d: Demo, inst: DevInstance, common: list[str]) -> None:
    d.say("\n[12/13] Tampering: each forgery must be refused with a reason code")
    copy = d.root / "tampered"
    d.git("clone", "-q", "--no-local", str(d.repo), str(copy), cwd=d.root)
    d.git("fetch", "-q", "origin", "refs/notes/provenance:refs/notes/provenance", cwd=copy)
    d.git("checkout", "-q", "-b", "tampered", "HEAD~1", cwd=copy)
    note = d.git("notes", "--ref=refs/notes/provenance", "show", "HEAD", cwd=copy)
    helper = copy / "app" / "utils" / "helpers.py"
    helper.write_text(HELPER.replace('algorithms=["HS256"]', 'options={"verify_signature": False}'))
    d.git("commit", "-q", "-a", "--amend", "--no-edit", cwd=copy)
    d.git("notes", "--ref=refs/notes/provenance", "add", "-f", "-m", note, "HEAD", cwd=copy)
    d.say(
        "  a) JWT signature checking is switched off by amending the helper commit, and the"
        " old attestation is copied onto the new commit"
    )
    out = d.cli(
        ["verify", *common, "--format", "json", "HEAD"],
        expect=1,
        cwd=copy,
        why="the attestation's subject is another commit",
    )
    d.expect_reason(out, Reason.SUBJECT_MISMATCH)
    d.say("  b) an attestation signed by an identity the policy does not trust")
    token = inst.issue_token("mallory@example.com")
    d.cli(
        [
            "stamp",
            "--agent",
            "evil-agent",
            "--model",
            "m",
            "--prompter",
            "mallory@example.com",
            "--prompt-digest",
            "sha256:" + "0" * 64,
            "--identity-token",
            token,
            "--trust-config",
            str(inst.trust_config_path),
            "HEAD",
        ],
        expect=0,
        cwd=copy,
        why="signing works for anyone: trust is decided at verification",
    )
    out = d.cli(
        ["verify", *common, "--format", "json", "HEAD"],
        expect=1,
        cwd=copy,
        why="mallory is not an allowed signer",
    )
    d.expect_reason(out, Reason.SIGNER_NOT_ALLOWED)


def _stamp(d: Demo, inst: DevInstance, rev: str, prompt: Path) -> None:
    token = inst.issue_token(AGENT)
    d.cli(
        [
            "stamp",
            "--agent",
            "claude-code@2.1.0",
            "--model",
            "claude-opus-4",
            "--prompter",
            "alice@example.com",
            "--prompt-file",
            str(prompt),
            "--skill",
            str(make_skill(d.root)),
            "--identity-token",
            token,
            "--trust-config",
            str(inst.trust_config_path),
            rev,
        ],
        expect=0,
        why="attestation signed, checked and stored in refs/notes/provenance",
    )


def _gate(d: Demo, inst: DevInstance, base: str, common: list[str]) -> None:
    d.say("\n[6/13] The agent hides a token check in a helper file; the release gate finds it")
    (d.repo / "app" / "utils").mkdir(parents=True)
    (d.repo / "app" / "utils" / "helpers.py").write_text(HELPER)
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Add view helpers", author="Coding Agent <agent@example.com>")
    (d.repo / "docs").mkdir()
    (d.repo / "docs" / "usage.md").write_text("# Usage\n\nRun the app.\n")
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Document usage")
    d.cli(
        ["classify", f"{base}..HEAD"],
        expect=0,
        why="the helper file is identity-related by content (jwt), the docs are not",
    )
    out = d.cli(
        ["verify", *common, "--format", "json", f"{base}..HEAD"],
        expect=1,
        why="the gate refuses: the helper change has no attestation, nothing is approved",
    )
    d.expect_reason(out, Reason.ATTESTATION_MISSING)
    d.expect_reason(out, Reason.APPROVAL_MISSING)
    _stamp(d, inst, "HEAD~1", d.root / "prompt.txt")


def _approve(d: Demo, inst: DevInstance, base: str, common: list[str]) -> None:
    d.say("\n[7/13] Human approval: what is pending, a self-approval refused, a reviewer approves")
    d.cli(
        ["pending", *common, f"{base}..HEAD"],
        expect=1,
        why="both agent commits wait for a human approval",
    )
    trust = [
        "--trust-config",
        str(inst.trust_config_path),
        "--trusted-root",
        str(inst.trusted_root_path),
        "--base",  # the branch the change merges into: its policy, never the change's own
        base,
    ]
    d.cli(
        ["approve", "--yes", "--identity-token", inst.issue_token(PROMPTER), *trust, "HEAD~1"],
        expect=0,
        why="alice can sign an approval, but she prompted this change",
    )
    out = d.cli(
        ["verify", *common, "--format", "json", f"{base}..HEAD"],
        expect=1,
        why="alice's approval of her own prompt does not count",
    )
    d.expect_reason(out, Reason.SELF_APPROVAL)
    d.cli(
        [
            "approve",
            "--yes",
            "--comment",
            "reviewed SSO callback and JWT helper",
            "--identity-token",
            inst.issue_token(REVIEWER),
            *trust,
            "HEAD~2",
            "HEAD~1",
        ],
        expect=0,
        why="bob reviews what he approves, and signs with his own identity",
    )
    d.say("\n[8/13] The release gate passes and writes an SLSA verification summary")
    d.cli(
        ["verify", *common, "--vsa", str(d.root / "vsa.intoto.json"), f"{base}..HEAD"],
        expect=0,
        why="every identity-related commit is attested and approved by bob",
    )


def _squash(d: Demo, base: str, common: list[str]) -> None:
    d.say("\n[9/13] A forge squash-merges the work into `release`: refused until linked")
    d.git("checkout", "-q", "-b", "release", base)
    d.git("merge", "--squash", "-q", "main")
    d.git("commit", "-q", "-m", "Add SSO (squashed #42)")
    d.git("checkout", "-q", "main")
    out = d.cli(
        ["verify", *common, "--format", "json", f"{base}..release"],
        expect=1,
        why="the squash commit carries no attestation of its own",
    )
    d.expect_reason(out, Reason.ATTESTATION_MISSING)
    d.cli(
        ["link", "--auto", f"{base}..release", "--candidates", "refs/heads/main"],
        expect=0,
        why="the post-merge job finds the squashed range, recomputes the merge, records a link",
    )
    d.cli(
        ["verify", *common, f"{base}..release"],
        expect=0,
        why="ok (squash of ...): the same identity-related content as the attested, approved "
        "commits, which still pass on their own",
    )


def _audit(d: Demo, base: str, common: list[str]) -> None:
    d.say("\n[11/13] An auditor indexes what verifies, asks who approved, takes an evidence pack")
    d.cli(["index", *common], expect=0, why="only attestations that verify are indexed")
    d.cli(
        ["query", "--approver", "bob", "--path", "app/**"],
        expect=0,
        why="every identity change bob approved, from verified facts only",
    )
    pack = d.root / "evidence"
    d.cli(
        ["export", *common, "--out", str(pack), f"{base}..HEAD"],
        expect=0,
        why="attestations, policy and trusted root of the range, with a manifest of digests",
    )
    d.cli(
        ["verify", "--evidence", str(pack), *common, f"{base}..HEAD"],
        expect=0,
        why="the pack, the auditor's pinned root and the repository's objects give the verdict",
    )


#: The git identity of the agent's session: only commits made with it are the agent's.
AGENT_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Coding Agent",
    "GIT_AUTHOR_EMAIL": "agent@example.com",
    "GIT_COMMITTER_NAME": "Coding Agent",
    "GIT_COMMITTER_EMAIL": "agent@example.com",
}
#: A scripted coding agent: refuses to work if it can see a signing credential, then commits.
FAKE_AGENT = """#!/bin/sh
set -eu
if [ -n "${PROVENANCE_IDENTITY_TOKEN:-}${SIGSTORE_ID_TOKEN:-}" ]; then
  echo "agent: I can read the signing token" >&2; exit 99
fi
echo "agent: session $PROVENANCE_SESSION; no signing token in my environment" >&2
cat >> app/auth/sso.py <<'CODE'


def logout(request):
    session.pop("user", None)
    return redirect("/")
CODE
git commit -q -a -m "Add SSO logout"
"""


def _wrapped_agent(d: Demo, inst: DevInstance, common: list[str]) -> None:
    d.say(
        "\n[13/13] The agent runs under `provenance run`: its commits are stamped,"
        " and it never holds the token"
    )
    script = d.root / "fake-agent.sh"
    script.write_text(FAKE_AGENT)
    script.chmod(0o700)
    d.cli(
        [
            "run",
            "--agent",
            "claude-code@2.1.0",
            "--model",
            "claude-opus-4",
            "--prompter",
            PROMPTER,
            "--prompt-file",
            str(d.root / "prompt.txt"),
            "--trust-config",
            str(inst.trust_config_path),
            "--",
            str(script),
        ],
        expect=0,
        env={
            "PROVENANCE_IDENTITY_TOKEN": inst.issue_token(AGENT),
            **AGENT_GIT_IDENTITY,
        },
        why="the wrapper held the token (from its environment), the agent did not",
    )
    out = d.cli(
        ["verify", *common, "--format", "json", "HEAD"],
        expect=1,
        why="the new commit is attested with its session; it now waits for a human approval",
    )
    d.expect_reason(out, Reason.APPROVAL_MISSING)
    reasons = {r for c in json.loads(out)["commits"] for r in c["reasons"]}
    if Reason.ATTESTATION_MISSING in reasons or Reason.ATTESTATIONS_UNAVAILABLE in reasons:
        d.failures.append(f"the wrapped agent's commit was not stamped: {sorted(reasons)}")


def run_demo(workdir: Path, say: Say, *, keep: bool = False) -> bool:
    """Run the whole story in ``workdir``; True when every step behaved as expected."""
    if workdir.exists() and any(workdir.iterdir()):
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    d = Demo(root=workdir, say=say)
    say("[1/13] Starting a local Sigstore-compatible instance (Fulcio, CT, Rekor, TSA) on loopback")
    with DevInstance(workdir / "sigstore", rekor_version=1, tsa=True) as inst:
        say(f"  serving {inst.url}; trust config {inst.trust_config_path}")
        sha = _setup_repository(d, inst)
        base = d.git("rev-parse", "HEAD~1")
        common = ["--offline", "--trusted-root", str(inst.trusted_root_path)]
        d.say("\n[4/13] Before stamping, the gate refuses the commit: no evidence of who wrote it")
        out = d.cli(
            ["verify", *common, "--format", "json", "HEAD"],
            expect=1,
            why="no attestation is stored for the commit",
        )
        d.expect_reason(out, Reason.ATTESTATIONS_UNAVAILABLE)
        (workdir / "prompt.txt").write_text("Add an OIDC SSO callback to the Flask app.\n")
        d.say(
            "\n[5/13] The agent wrapper stamps the commit: agent, model, prompter, prompt "
            "commitment, signed keylessly"
        )
        _stamp(d, inst, sha, workdir / "prompt.txt")
        out = d.cli(
            ["verify", *common, "--format", "json", sha],
            expect=1,
            why="the attestation verifies (signature, chain, log proof, time, subject, "
            "signer) but the policy also wants a human approval",
        )
        d.expect_reason(out, Reason.APPROVAL_MISSING)
        d.cli(["show", *common, sha], expect=0, why="what an auditor sees")
        _gate(d, inst, base, common)
        _approve(d, inst, base, common)
        _squash(d, base, common)
        revoke_after_release(d, sha, base, common)
        _audit(d, base, common)
        _tamper(d, inst, common)
        _wrapped_agent(d, inst, common)
    if not keep:
        shutil.rmtree(workdir / "tampered", ignore_errors=True)
    say("")
    if d.failures:
        say("DEMO FAILED:\n  " + "\n  ".join(d.failures))
        return False
    say("DEMO PASSED: every step behaved as expected.")
    return True
