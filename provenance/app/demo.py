"""The end-to-end demo: a local Sigstore instance, an agent-written SSO change, the gate.

Every step runs the real ``provenance`` CLI in a child process against a real repository and
the devinstance on loopback, and checks the exit code and reason it expects.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from provenance.devinstance import DevInstance
from provenance.errors import ProvenanceError
from provenance.gitio.runner import git_env
from provenance.policy import render_template

AGENT = "agent-bot@example.com"
SSO = '''"""OIDC single sign-on callback (written by the coding agent)."""

from authlib.integrations.flask_client import OAuth

oauth = OAuth()


def callback(request):
    token = oauth.idp.authorize_access_token()
    if token.get("state") != request.session.pop("oauth_state", None):
        raise PermissionError("state mismatch")
    request.session["user"] = token["userinfo"]["email"]
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
            ["git", "-c", "core.hooksPath=/dev/null", *args],
            cwd=cwd or self.repo,
            capture_output=True,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise ProvenanceError(f"demo: git {args[0]} failed: {proc.stderr.decode().strip()}")
        return proc.stdout.decode().strip()

    def cli(self, args: Sequence[str], *, expect: int, why: str, cwd: Path | None = None) -> str:
        masked = [
            "<token>" if prev == "--identity-token" else a
            for prev, a in zip(["", *args], args, strict=False)
        ]
        shown = " ".join(a if len(a) < 60 else a[:20] + "…" for a in masked)
        self.say(f"  $ provenance {shown}")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PROVENANCE_IDENTITY_TOKEN", None)
        proc = subprocess.run(
            [sys.executable, "-m", "provenance", *args],
            cwd=cwd or self.repo,
            capture_output=True,
            env=env,
            check=False,
            text=True,
        )
        for line in proc.stderr.strip().splitlines():
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
    d.say("\n[2/6] A repository with a provenance policy trusting the agent wrapper's identity")
    d.repo.mkdir(parents=True)
    d.git("init", "-q", "-b", "main")
    (d.repo / "README.md").write_text("# Example app\n")
    (d.repo / ".provenance").mkdir()
    (d.repo / ".provenance" / "policy.toml").write_text(render_template(inst.default_issuer, AGENT))
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Initial commit with provenance policy")
    d.say(f"  policy trusts {AGENT} from {inst.default_issuer}")
    d.say("\n[3/6] The coding agent writes an SSO callback and commits it")
    (d.repo / "app" / "auth").mkdir(parents=True)
    (d.repo / "app" / "auth" / "sso.py").write_text(SSO)
    d.git("add", "-A")
    d.git("commit", "-q", "-m", "Add OIDC SSO callback", author="Coding Agent <agent@example.com>")
    return d.git("rev-parse", "HEAD")


def _tamper(d: Demo, inst: DevInstance, common: list[str]) -> None:
    d.say("\n[6/6] Tampering: each forgery must be refused with a reason code")
    copy = d.root / "tampered"
    d.git("clone", "-q", "--no-local", str(d.repo), str(copy), cwd=d.root)
    d.git("fetch", "-q", "origin", "refs/notes/provenance:refs/notes/provenance", cwd=copy)
    note = d.git("notes", "--ref=refs/notes/provenance", "show", "HEAD", cwd=copy)
    sso = copy / "app" / "auth" / "sso.py"
    sso.write_text(SSO.replace('    if token.get("state")', '    if False and token.get("state")'))
    d.git("commit", "-q", "-a", "--amend", "--no-edit", cwd=copy)
    d.git("notes", "--ref=refs/notes/provenance", "add", "-f", "-m", note, "HEAD", cwd=copy)
    d.say("  a) the SSO state check is removed by amending, and the old attestation copied over")
    out = d.cli(
        ["verify", *common, "--format", "json", "HEAD"],
        expect=1,
        cwd=copy,
        why="the attestation's subject is another commit",
    )
    d.expect_reason(out, "subject_mismatch")
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
    d.expect_reason(out, "signer_not_allowed")


def run_demo(workdir: Path, say: Say, *, keep: bool = False) -> bool:
    """Run the whole story in ``workdir``; True when every step behaved as expected."""
    if workdir.exists() and any(workdir.iterdir()):
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    d = Demo(root=workdir, say=say)
    say("[1/6] Starting a local Sigstore-compatible instance (Fulcio, CT, Rekor, TSA) on loopback")
    with DevInstance(workdir / "sigstore", rekor_version=1, tsa=True) as inst:
        say(f"  serving {inst.url}; trust config {inst.trust_config_path}")
        sha = _setup_repository(d, inst)
        common = ["--offline", "--trusted-root", str(inst.trusted_root_path)]
        d.say("\n[4/6] Before stamping, the gate refuses the commit: no evidence of who wrote it")
        out = d.cli(
            ["verify", *common, "--format", "json", "HEAD"],
            expect=1,
            why="no attestation is stored for the commit",
        )
        d.expect_reason(out, "attestations_unavailable")
        (workdir / "prompt.txt").write_text("Add an OIDC SSO callback to the Flask app.\n")
        d.say(
            "\n[5/6] The agent wrapper stamps the commit: agent, model, prompter, prompt "
            "commitment, signed keylessly"
        )
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
                str(workdir / "prompt.txt"),
                "--identity-token",
                token,
                "--trust-config",
                str(inst.trust_config_path),
                sha,
            ],
            expect=0,
            why="attestation signed, checked and stored in refs/notes/provenance",
        )
        d.cli(
            ["verify", *common, sha],
            expect=0,
            why="signature, chain, log proof, time, subject and signer all verify, offline",
        )
        d.cli(["show", *common, sha], expect=0, why="what an auditor sees")
        _tamper(d, inst, common)
    if not keep:
        shutil.rmtree(workdir / "tampered", ignore_errors=True)
    say("")
    if d.failures:
        say("DEMO FAILED:\n  " + "\n  ".join(d.failures))
        return False
    say("DEMO PASSED: every step behaved as expected.")
    return True
