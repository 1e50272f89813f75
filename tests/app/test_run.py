"""The agent wrapper end to end: real git, real scripted agents, the local Sigstore instance.

One stamped repository is shared by the module; each test adds commits on top of it. CLI
subprocesses (about a second each) are used only where the process boundary is the point:
what the agent's environment holds, exit status propagation and signal forwarding.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from provenance.app.gate import verify_range
from provenance.app.hooks import install_hook
from provenance.app.options import VerifyOptions
from provenance.app.pending_stamps import complete_pending
from provenance.app.run import run_session
from provenance.app.session import CaptureOptions, build_session
from provenance.app.stamp import Preparer, stamp
from provenance.devinstance import DevInstance
from provenance.gitio import Git
from provenance.policy import render_template
from provenance.record.capture import PromptSecretError
from provenance.store import NotesStore
from provenance.store.pending import (
    PENDING_REF,
    clear_pending,
    list_pending,
    pending_line,
    record_pending,
)
from provenance.verify.report import render_text, report_to_dict
from tests.conftest import AGENT_ID, Golden, make_golden, session
from tests.helpers import GitRepo, check_document

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Agent",
    "GIT_AUTHOR_EMAIL": "agent@example.com",
    "GIT_COMMITTER_NAME": "Agent",
    "GIT_COMMITTER_EMAIL": "agent@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}
#: Scripted agent: edits an SSO file and commits twice, then shows what it could see.
SSO_AGENT = """#!/bin/sh
set -e
printf '\\n\\ndef logout(request):\\n    request.session.clear()\\n' >> app/auth/sso.py
git add -A && git commit -q -m "agent: SSO logout clears the session"
printf 'ISSUER = "https://idp.example.com"\\n' > app/auth/oidc.py
git add -A && git commit -q -m "agent: OIDC issuer"
env > "$AGENT_OUT/env.txt"
cat "/proc/$PPID/environ" > "$AGENT_OUT/parent-environ.txt" 2>/dev/null || true
cat "/proc/$PPID/cmdline" > "$AGENT_OUT/parent-cmdline.txt" 2>/dev/null || true
exit "${AGENT_EXIT:-0}"
"""
NOTES = "refs/notes/provenance"
CI_VARIABLES = {
    "SIGSTORE_ID_TOKEN": "sigstore-id-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "gh-request-token-value",
    "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.actions.example/req",
    "CI_JOB_JWT_V2": "gitlab-jwt-value",
    "GITLAB_OIDC_TOKEN": "gitlab-oidc-value",
    "DEPLOY_ID_TOKEN": "gitlab-id-tokens-value",
    "CIRCLE_OIDC_TOKEN_V2": "circle-value",
    "BUILDKITE_OIDC_TOKEN": "buildkite-value",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/gcp.json",
}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Golden:
    golden = make_golden(tmp_path_factory.mktemp("run"), dev)
    golden.repo.commit("agent config", {"AGENTS.md": "Run the tests first.\n"})
    return golden


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)


def script(path: Path, text: str) -> list[str]:
    path.write_text(text)
    path.chmod(0o755)
    return [str(path)]


def cli(
    args: list[str], cwd: Path, env: dict[str, str], stdin: int | None = None
) -> subprocess.Popen[bytes]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    full.update(GIT_IDENTITY)
    full.update(env)
    return subprocess.Popen(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=stdin,
    )


def head(repo: GitRepo) -> str:
    return repo.git("rev-parse", "HEAD")


def predicate_of(golden: Golden, rev: str) -> dict[str, Any]:
    (line,) = golden.notes(rev)
    payload = json.loads(line)["dsseEnvelope"]["payload"]
    predicate: dict[str, Any] = json.loads(base64.b64decode(payload))["predicate"]
    return predicate


def test_cli_run_stamps_every_commit_and_the_agent_never_sees_the_credential(
    lab: Golden, tmp_path: Path
) -> None:
    repo = lab.repo
    out = tmp_path / "agent-out"
    out.mkdir()
    before = head(repo)
    token = lab.inst.issue_token(AGENT_ID)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Add an SSO logout that clears the session.\n")
    hook = cli(["hooks", "install"], repo.path, {})
    assert hook.wait() == 0, hook.stderr.read() if hook.stderr else ""
    proc = cli(
        [
            "run",
            "--agent",
            "claude-code@2.1.0",
            "--model",
            "claude-opus-4",
            "--prompter",
            "alice@example.com",
            "--prompt-file",
            str(prompt),
            "--store-prompt",
            "--session-id",
            "sess-run-1",
            "--report",
            str(tmp_path / "report.json"),
            "--",
            *script(tmp_path / "agent.sh", SSO_AGENT),
        ],
        repo.path,
        {
            "PROVENANCE_IDENTITY_TOKEN": token,
            "PROVENANCE_TRUST_CONFIG": str(lab.inst.trust_config_path),
            "AGENT_OUT": str(out),
            "AGENT_EXIT": "7",
            **CI_VARIABLES,
        },
    )
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 7, stderr.decode()  # the agent's exit status
    env = (out / "env.txt").read_text()
    names = {line.partition("=")[0] for line in env.splitlines()}
    assert names.isdisjoint({"PROVENANCE_IDENTITY_TOKEN", *CI_VARIABLES})
    for secret in (token, *CI_VARIABLES.values()):
        assert secret not in env
    assert "PROVENANCE_SESSION=sess-run-1" in env.splitlines()
    assert "PROVENANCE_ASSISTED_BY=claude-code:claude-opus-4" in env.splitlines()
    # nor through the wrapper's /proc entries (environment block zeroed, not on argv)
    for leaked in ("parent-environ.txt", "parent-cmdline.txt"):
        seen = (out / leaked).read_bytes() if (out / leaked).exists() else b""
        assert token.encode() not in seen and b"gh-request-token-value" not in seen
    new = repo.git("rev-list", "--reverse", f"{before}..HEAD").split()
    assert len(new) == 2
    report = lab.verify(*new)
    assert [c.status for c in report.commits] == ["ok", "ok"], report
    summary = check_document("run-report", json.loads((tmp_path / "report.json").read_text()))
    assert summary["result"] == "complete"
    assert [s["commit"] for s in summary["stamped"]] == new
    assert summary["exit_status"] == 7 and summary["rewritten_or_dropped"] == []
    for sha in new:
        predicate = predicate_of(lab, sha)
        assert predicate["agent"] == {
            "tool": "claude-code",
            "version": "2.1.0",
            "model": "claude-opus-4",
            "session_id": "sess-run-1",
        }
        run_info = predicate["session"]
        assert isinstance(run_info, dict) and run_info["exit_status"] == 7
        assert run_info["started_at"] <= run_info["ended_at"]
        assert predicate["stored_prompt"] == {
            "text": "Add an SSO logout that clears the session.\n",
            "scanner": predicate["stored_prompt"]["scanner"],
        }
        assert [c["name"] for c in predicate["agent_config"]] == ["AGENTS.md"]
        message = repo.git("log", "-1", "--format=%B", sha)
        assert "Assisted-by: claude-code:claude-opus-4" in message.splitlines()


def test_rewritten_history_is_reported_and_new_commits_and_merges_stamped(
    lab: Golden, tmp_path: Path
) -> None:
    repo = lab.repo
    old = head(repo)
    agent = script(
        tmp_path / "amend.sh",
        "#!/bin/sh\nset -e\n"
        "printf '# amended\\n' >> app/auth/oidc.py\n"
        "git commit -q -a --amend -m 'agent: OIDC issuer (amended)'\n"
        "git checkout -q -b agent-side\n"
        "printf 'x = 1\\n' > app/util.py\ngit add -A\ngit commit -q -m 'agent: util'\n"
        "git checkout -q main\n"
        "printf 'ROLES = []\\n' > app/auth/roles.py\ngit add -A\ngit commit -q -m 'agent: roles'\n"
        "git merge -q --no-ff -m 'agent: merge side' agent-side\n",
    )
    result = run_session(repo.path, agent, session(), lab.keyless(), cwd=repo.path)
    assert result.exit_status == 0 and result.pending == []
    assert result.dropped == [old]
    new = repo.git("rev-list", "--topo-order", "--reverse", f"{old}~1..HEAD").split()
    assert len(new) == 4 and len(repo.git("rev-list", "--parents", "-1", "HEAD").split()) == 3
    assert [s.commit for s in result.stamped] == new
    # Each a range of one: a commit (the merge too) needs evidence when what it brings to its
    # first parent touches app/auth/ (whether oidc.py was tracked before depends on the lab).
    verdicts = lab.verify(*new).commits
    brings = {sha: repo.git("diff", "--name-only", f"{sha}^1", sha) for sha in new}
    assert [c.status for c in verdicts] == [
        "ok" if "app/auth/" in brings[c.commit] else "not-required" for c in verdicts
    ]
    assert all(any(a.ok and a.kind == "change" for a in c.attestations) for c in verdicts)


def test_signing_failure_leaves_pending_and_stamp_pending_completes_it(
    lab: Golden, tmp_path: Path
) -> None:
    repo = lab.repo
    # The trailer asserted below comes from the hook; installed here, not left to the first
    # test of the module (a worker that runs this test alone gets a lab without it).
    install_hook(repo.path)
    base = head(repo)
    agent = script(
        tmp_path / "one.sh",
        "#!/bin/sh\nset -e\nprintf '# mfa\\n' > app/auth/mfa.py\n"
        "git add -A\ngit commit -q -m 'agent: MFA stub'\n",
    )
    run = cli(
        [
            "run",
            "--agent",
            "a@1",
            "--model",
            "m",
            "--prompter",
            "p@example.com",
            "--prompt-digest",
            "sha256:" + "5" * 64,
            "--report",
            str(tmp_path / "r.json"),
            "--",
            *agent,
        ],
        repo.path,
        {
            "PROVENANCE_IDENTITY_TOKEN": lab.inst.issue_token(AGENT_ID, ttl=-60),
            "PROVENANCE_TRUST_CONFIG": str(lab.inst.trust_config_path),
        },
    )
    _, err = run.communicate(timeout=60)
    assert run.returncode == 3, err.decode()  # signing failed: could not decide
    assert b"stamp --pending" in err
    sha = head(repo)
    report = check_document("run-report", json.loads((tmp_path / "r.json").read_text()))
    assert report["result"] == "pending"
    assert report["stamped"] == [] and [p["commit"] for p in report["pending"]] == [sha]
    entries = list_pending(repo_git(repo))
    assert [e.commit for e in entries] == [sha] and "identity token" in entries[0].reason
    options = VerifyOptions(trusted_root=lab.inst.trusted_root_path, offline=True)
    gate = verify_range(repo.path, f"{base}..HEAD", options)
    # the hook's Assisted-by trailer is named too (decision 0018: [trailers] on_unattested)
    assert gate.commits[-1].reasons == ("attestation_pending", "trailer_without_attestation")
    assert lab.verify(sha).commits[0].status == "refused"  # pending is missing, never evidence
    # the retry: a CLI completion with a fresh token, then nothing left; a second run is a no-op
    token_file = tmp_path / "token.jwt"
    token_file.write_text(lab.inst.issue_token(AGENT_ID))
    proc = cli(
        ["stamp", "--pending", "--identity-token", f"@{token_file}"],
        repo.path,
        {"PROVENANCE_TRUST_CONFIG": str(lab.inst.trust_config_path)},
    )
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr.decode()
    assert stdout.decode().startswith("sha256:")
    assert list_pending(repo_git(repo)) == []
    assert repo.git("notes", f"--ref={PENDING_REF}", "list") == ""
    assert lab.verify(sha).commits[0].status == "ok"
    predicate = predicate_of(lab, sha)
    assert predicate["session"]["exit_status"] == 0
    again = complete_pending(repo.path, lab.keyless())
    assert again and again.completed == [] and len(lab.notes(sha)) == 1


def repo_git(repo: GitRepo) -> Git:
    return Git.discover(repo.path)


def test_pending_statement_for_another_commit_is_never_signed(lab: Golden) -> None:
    repo = lab.repo
    a = repo.commit("a", {"app/a.py": "a = 1\n"})
    b = repo.commit("b", {"app/b.py": "b = 1\n"})
    stamp(repo.path, a, session(), lab.keyless())
    (line,) = lab.notes(a)
    statement = base64.b64decode(json.loads(line)["dsseEnvelope"]["payload"])
    record_pending(repo_git(repo), {b: (statement, "planted")}, NOTES)
    done = complete_pending(repo.path, lab.keyless())
    assert not done and done.invalid == [(b, done.invalid[0][1])]
    assert "not a change statement about this commit" in done.invalid[0][1]
    assert b not in repo.git("notes", "--ref=refs/notes/provenance", "list")
    assert [e.commit for e in list_pending(repo_git(repo))] == [b]  # still visibly pending
    clear_pending(repo_git(repo), [b])


def test_agent_trailer_policy_warns_or_refuses_both_disagreements(
    lab: Golden, tmp_path: Path
) -> None:
    repo = lab.repo
    base = head(repo)
    in_session = {"PROVENANCE_SESSION": "s-2", "PROVENANCE_ASSISTED_BY": "codex:gpt-5"}
    # the hook (installed by the first test, or here) adds the trailer during a session only
    subprocess.run(
        [sys.executable, "-m", "provenance", "hooks", "install"],
        cwd=repo.path,
        check=False,
        capture_output=True,
    )
    trailer_only = _commit_with_hook(repo, "docs: trailer, never stamped", "NOTES.md", in_session)
    stamped_only = _commit_with_hook(repo, "docs: stamped, no trailer", "NOTES2.md", {})
    stamp(repo.path, stamped_only, session(), lab.keyless())
    both = _commit_with_hook(repo, "docs: agent commit", "NOTES3.md", in_session)
    stamp(repo.path, both, session(), lab.keyless())
    assert "Assisted-by: codex:gpt-5" in repo.git("log", "-1", "--format=%B", trailer_only)
    assert "Assisted-by" not in repo.git("log", "-1", "--format=%B", stamped_only)
    results = {}
    for mode in ("ignore", "warn", "refuse"):
        policy = tmp_path / f"policy-{mode}.toml"
        policy.write_text(
            render_template(lab.inst.default_issuer, AGENT_ID) + f'\n[agents]\ntrailer = "{mode}"\n'
        )
        options = VerifyOptions(
            policy=policy, trusted_root=lab.inst.trusted_root_path, offline=True
        )
        results[mode] = verify_range(repo.path, f"{base}..HEAD", options)
    by_commit = {c.commit: c for c in results["refuse"].commits}
    assert by_commit[trailer_only].reasons == ("trailer_without_attestation",)
    assert by_commit[stamped_only].reasons == ("attestation_without_trailer",)
    assert by_commit[both].status == "not-required" and not results["refuse"]
    assert results["ignore"] and "warnings" not in results["ignore"].extra
    assert results["warn"] and results["warn"].extra["warnings"] == [
        {
            "commit": trailer_only,
            "reason": "trailer_without_attestation",
            "trailers": ["Assisted-by: codex:gpt-5"],  # named since decision 0018
        },
        {"commit": stamped_only, "reason": "attestation_without_trailer"},
    ]
    for mode in ("warn", "refuse"):  # the documented JSON report, warnings included
        check_document("gate-report", report_to_dict(results[mode]))
    text = render_text(results["warn"])  # people see the warnings too, not only machines
    assert f"WARN {trailer_only[:12]}  trailer_without_attestation" in text
    assert f"WARN {stamped_only[:12]}  attestation_without_trailer" in text


def _commit_with_hook(repo: GitRepo, message: str, path: str, env: dict[str, str]) -> str:
    repo.write(path, message + "\n")
    repo.git("add", "-A")
    full = {**GIT_IDENTITY, **env}
    subprocess.run(
        ["git", "-C", str(repo.path), "commit", "-q", "-m", message],
        env={**os.environ, **full},
        check=True,
    )
    return head(repo)


def test_sigterm_is_forwarded_to_the_agent(lab: Golden, tmp_path: Path) -> None:
    started, got = tmp_path / "started", tmp_path / "got-term"
    agent = script(
        tmp_path / "slow.sh",
        f"#!/bin/sh\ntrap 'echo TERM > {got}; exit 42' TERM\ntouch {started}\n"
        "i=0\nwhile [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n",
    )
    proc = cli(
        [
            "run",
            "--agent",
            "a",
            "--model",
            "m",
            "--prompter",
            "p@example.com",
            "--prompt-digest",
            "sha256:" + "3" * 64,
            "--",
            *agent,
        ],
        lab.repo.path,
        {},
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not started.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    assert got.read_text().strip() == "TERM"
    assert proc.returncode == 42, stderr.decode()
    assert b"made no commit" in stderr


def test_store_prompt_with_a_secret_signs_nothing(lab: Golden, tmp_path: Path) -> None:
    prompt = tmp_path / "leaky.txt"
    prompt.write_text("deploy with AKIAIOSFODNN7EXAMPLE and the usual bucket\n")
    opts = CaptureOptions("a", "m", "p@example.com", prompt_file=prompt, store_prompt=True)
    with pytest.raises(PromptSecretError, match="AWS Access Key"):
        build_session(lab.repo.path, opts)


def test_agent_commit_script_stamps_the_commit_its_command_makes(lab: Golden) -> None:
    repo = lab.repo
    repo.write("app/auth/scim.py", "def deprovision(user):\n    user.active = False\n")
    repo.git("add", "-A")
    script_path = Path(__file__).resolve().parents[2] / "scripts" / "agent-commit"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    env.update(GIT_IDENTITY)
    env.update(
        {
            "PROVENANCE": str(Path(sys.executable).with_name("provenance")),
            "PROVENANCE_IDENTITY_TOKEN": lab.inst.issue_token(AGENT_ID),
            "PROVENANCE_TRUST_CONFIG": str(lab.inst.trust_config_path),
        }
    )
    proc = subprocess.run(
        [
            str(script_path),
            "--agent",
            "aider@0.86",
            "--model",
            "gpt-5",
            "--prompter",
            "bob@example.com",
            "--prompt-digest",
            "sha256:" + "4" * 64,
            "--",
            "git",
            "commit",
            "-q",
            "-m",
            "agent: SCIM deprovisioning",
        ],
        cwd=repo.path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert lab.verify("HEAD").commits[0].status == "ok"
    assert predicate_of(lab, "HEAD")["agent"]["tool"] == "aider"


def test_a_leftover_pending_entry_does_not_hide_a_valid_attestation(lab: Golden) -> None:
    # A crash between storing an attestation and clearing its pending entry leaves both.
    repo = lab.repo
    policy = repo.path / ".provenance" / "policy.toml"
    text = policy.read_text()
    assert "required = 0" in text
    approver = (
        '\n[[approvers]]\nissuer = "https://x.example"\nidentity = "r@example.com"\nperson = "r"\n'
    )
    repo.commit(
        "require one approval",
        {".provenance/policy.toml": text.replace("required = 0", "required = 1") + approver},
    )
    a = repo.commit("a", {"app/auth/a.py": "a = 1\n"})
    stamp(repo.path, a, session(), lab.keyless())
    (line,) = lab.notes(a)
    statement = base64.b64decode(json.loads(line)["dsseEnvelope"]["payload"])
    record_pending(repo_git(repo), {a: (statement, "crash between store and clear")}, NOTES)
    verdict = lab.verify(a).commits[0]
    assert verdict.status == "refused"
    assert "approval_missing" in verdict.reasons
    assert "attestation_pending" not in verdict.reasons
    b = repo.commit("b", {"app/auth/b.py": "b = 1\n"})
    record_pending(repo_git(repo), {b: (statement, "planted")}, NOTES)
    assert lab.verify(b).commits[0].reasons == ("attestation_pending",)
    clear_pending(repo_git(repo), [a, b])


def test_the_agents_commits_cannot_redirect_or_lose_its_stamps(lab: Golden, tmp_path: Path) -> None:
    # Review: an agent committing notes_ref = the pending ref made its stamp vanish, and one
    # malformed policy commit left the whole session unsigned and not pending.
    repo = lab.repo
    start = head(repo)
    agent = script(
        tmp_path / "redirect.sh",
        "#!/bin/sh\nset -e\n"
        "printf '# one\\n' > app/auth/one.py\ngit add -A\ngit commit -q -m 'agent: one'\n"
        "cp .provenance/policy.toml /tmp/policy.$$\n"
        "sed -i 's|^version = 1$|version = 1\\nnotes_ref = \"refs/notes/provenance-pending\"|' "
        ".provenance/policy.toml\n"
        "git commit -q -a -m 'agent: store stamps in the pending ref'\n"
        "cp /tmp/policy.$$ .provenance/policy.toml\n"
        "sed -i 's|^version = 1$|version = 1\\nnotes_ref = \"refs/notes/elsewhere\"|' "
        ".provenance/policy.toml\n"
        "git commit -q -a -m 'agent: store stamps elsewhere'\n"
        "printf '# two\\n' > app/auth/two.py\ngit add -A\ngit commit -q -m 'agent: two'\n",
    )
    result = run_session(repo.path, agent, session(), lab.keyless(), cwd=repo.path)
    one, redirect, elsewhere, two = repo.git("rev-list", "--reverse", f"{start}..HEAD").split()
    assert [s.commit for s in result.stamped] == [one, elsewhere, two]
    # stored in the notes ref of the session's start, whatever the agent's commits say
    for sha in (one, elsewhere, two):
        assert len(lab.notes(sha)) == 1
    assert repo.git("for-each-ref", "refs/notes/elsewhere") == ""
    # the commit whose policy is invalid could not be prepared: it is visibly pending
    assert [sha for sha, _ in result.pending] == [redirect]
    assert "reserved" in result.pending[0][1]
    assert redirect in {e.commit for e in list_pending(repo_git(repo))}
    done = complete_pending(repo.path, lab.keyless())
    assert redirect in {sha for sha, _ in done.invalid}  # never signed from an empty entry
    clear_pending(repo_git(repo), [redirect])
    repo.git("reset", "-q", "--hard", start)


def test_a_pending_entry_provenance_did_not_record_is_never_signed(lab: Golden) -> None:
    # Review: an agent wrote its own statement (another prompter) for a human's commit into
    # the pending ref, and a later `stamp --pending` signed it.
    repo = lab.repo
    human = repo.commit("human: SSO fix", {"app/auth/fix.py": "FIX = 1\n"})
    forged = Preparer(repo_git(repo)).prepare(human, session(prompter="mallory@example.com"))
    line = pending_line(forged.statement, "signing failed")
    NotesStore(repo_git(repo), PENDING_REF).add(human, [line])  # not through record_pending
    done = complete_pending(repo.path, lab.keyless())
    assert [sha for sha, _ in done.invalid] == [human]
    assert "did not record this pending statement" in done.invalid[0][1]
    assert human not in repo.git("notes", "--ref=refs/notes/provenance", "list")
    # the same statement recorded by provenance itself is completed
    record_pending(
        repo_git(repo), {human: (forged.statement, "signing failed")}, "refs/notes/provenance"
    )
    assert [s.commit for s in complete_pending(repo.path, lab.keyless()).completed] == [human]
    assert list_pending(repo_git(repo)) == []


def test_commits_others_pushed_are_not_signed_and_no_agent_commit_is_missed(
    lab: Golden, tmp_path: Path
) -> None:
    # Review: a commit Bob pushed during the session, pulled by the agent, was signed as the
    # agent's; commits kept under a tag or in a detached worktree were silently unsigned.
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(lab.repo.path), str(remote)], check=True)
    work = GitRepo(tmp_path / "work")
    subprocess.run(["git", "clone", "-q", str(remote), str(work.path)], check=True)
    bob = GitRepo(tmp_path / "bob")
    subprocess.run(["git", "clone", "-q", str(remote), str(bob.path)], check=True)
    agent = script(
        tmp_path / "busy.sh",
        "#!/bin/sh\nset -e\n"
        f"cd {bob.path}\nprintf 'B = 1\\n' > app/auth/bob.py\ngit add -A\n"
        "git commit -q -m 'bob: his own change'\ngit push -q origin HEAD:main\n"
        f"cd {work.path}\ngit pull -q --ff-only origin main\n"
        "printf 'A = 1\\n' > app/auth/agent.py\ngit add -A\ngit commit -q -m 'agent: own'\n"
        "git push -q origin HEAD:main\n"
        "git worktree add -q --detach ../side HEAD\ncd ../side\n"
        "printf 'S = 1\\n' > app/auth/side.py\ngit add -A\ngit commit -q -m 'agent: side'\n"
        f"cd {work.path}\ngit checkout -q --detach\n"
        "printf 'T = 1\\n' > app/auth/tagged.py\ngit add -A\ngit commit -q -m 'agent: tagged'\n"
        "git tag kept\ngit checkout -q main\n",
    )
    result = run_session(work.path, agent, session(), lab.keyless(), cwd=work.path)
    subjects = {
        sha: work.git("log", "-1", "--format=%s", sha)
        for sha in [*(s.commit for s in result.stamped), *(sha for sha, _ in result.skipped)]
    }
    stamped = sorted(subjects[s.commit] for s in result.stamped)
    assert stamped == ["agent: own", "agent: side", "agent: tagged"]
    assert [(subjects[sha], why) for sha, why in result.skipped] == [
        ("bob: his own change", "fetched from a remote during the session (not made by it)")
    ]


def test_an_agent_that_breaks_the_pending_ref_does_not_stop_the_stamping(
    lab: Golden, tmp_path: Path
) -> None:
    # Review: the pending ref pointed at a blob made every write retry for 40 s, then fail,
    # and the session ended unsigned. Signing and storing no longer depend on that ref.
    repo = lab.repo
    start = head(repo)
    agent = script(
        tmp_path / "breaker.sh",
        "#!/bin/sh\nset -e\n"
        "printf '# b\\n' > app/auth/breaker.py\ngit add -A\ngit commit -q -m 'agent: b'\n"
        f'git update-ref {PENDING_REF} "$(echo junk | git hash-object -w --stdin)"\n',
    )
    began = time.monotonic()
    result = run_session(repo.path, agent, session(), lab.keyless(), cwd=repo.path)
    assert time.monotonic() - began < 20  # no retry storm against a ref that cannot move
    (sha,) = repo.git("rev-list", f"{start}..HEAD").split()
    assert [s.commit for s in result.stamped] == [sha] and result.pending == []
    assert len(lab.notes(sha)) == 1
    assert lab.verify(sha).commits[0].reasons != ("attestation_pending",)
    repo.git("update-ref", "-d", PENDING_REF)


def test_run_in_a_fresh_repository_stamps_the_first_commit(lab: Golden, tmp_path: Path) -> None:
    """Nothing lost (issue 17): in a fresh ``git init`` (unborn branch) the agent's first
    commit is stamped. Before the fix the unborn worktree's null id reached rev-list, the run
    failed with git's "deprecated grafts" advice, and the commit was neither stamped nor
    pending."""
    repo = GitRepo.init(tmp_path / "fresh")
    prompt = tmp_path / "task.md"
    prompt.write_text("add a login\n")
    agent = "#!/bin/sh\nprintf 'def login(password):\\n    pass\\n' > auth.py\n" \
        "git add auth.py && git commit -q -m first\n"  # fmt: skip
    proc = cli(
        ["run", "--agent", "claude-code@2.1.0", "--model", "claude-opus-4", "--prompter",
         "alice@example.com", "--prompt-file", str(prompt), "--report", str(tmp_path / "r.json"),
         "--", *script(tmp_path / "agent.sh", agent)],
        repo.path,
        {"PROVENANCE_IDENTITY_TOKEN": lab.inst.issue_token(AGENT_ID),
         "PROVENANCE_TRUST_CONFIG": str(lab.inst.trust_config_path)},
    )  # fmt: skip
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr.decode()
    assert b"grafts" not in stderr
    first = head(repo)
    report = check_document("run-report", json.loads((tmp_path / "r.json").read_text()))
    assert report["head_before"] is None and [s["commit"] for s in report["stamped"]] == [first]
    assert repo.git("notes", "--ref=refs/notes/provenance", "list", first)
