"""``run``, ``hooks`` and ``stamp --pending`` command lines (in process, no signing)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance._cli import _register, cli
from provenance.app.credentials import child_environment, is_withheld
from provenance.app.hooks import MARKER
from provenance.errors import UsageError
from provenance.record.change import SessionContext, prompt_from_text
from tests.helpers import GitRepo

_register()


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("base", {"README.md": "app\n"})
    return repo


def invoke(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["run", "hooks", "hooks install", "stamp"])
def test_help_teaches(command: str) -> None:
    code, out = invoke([*command.split(), "--help"])
    assert code == 0 and "Usage:" in out and len(out) > 300


def test_run_refuses_a_token_on_the_command_line(repo: GitRepo) -> None:
    args = ["run", "--repo", str(repo.path), "--agent", "a", "--model", "m", "--prompter", "p"]
    args += ["--prompt-digest", "sha256:" + "1" * 64, "--identity-token", "eyJraw", "--", "true"]
    with pytest.raises(UsageError, match="visible to the agent"):
        invoke(args)


def test_stamp_pending_takes_no_session_options(repo: GitRepo) -> None:
    with pytest.raises(UsageError, match="--agent"):
        invoke(["stamp", "--repo", str(repo.path), "--pending", "--agent", "x"])
    code, out = invoke(["stamp", "--repo", str(repo.path), "--pending", "--key", "k.pem"])
    assert code == 0 and "nothing is pending" in out


def test_withheld_variables() -> None:
    for name in (
        "PROVENANCE_IDENTITY_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "CI_JOB_JWT",
        "CI_JOB_JWT_V2",
        "SIGSTORE_ID_TOKEN",
        "VAULT_ID_TOKEN",
        "CIRCLE_OIDC_TOKEN_V2",
        "GOOGLE_APPLICATION_CREDENTIALS",
        # the credentials of a KMS signing key, and what fetches them (found in review)
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AZURE_CLIENT_SECRET",
        "idToken",
        "CLOUDSDK_AUTH_CREDENTIAL_FILE_OVERRIDE",
        "ID_TOKEN_1",
        "BUILDKITE_AGENT_JOB_API_TOKEN",
    ):
        assert is_withheld(name), name
    for name in ("PATH", "HOME", "GITHUB_TOKEN_SCOPE", "TOKENIZERS_PARALLELISM"):
        assert not is_withheld(name), name
    assert is_withheld("OPENAI_API_KEY", ["OPENAI_*"])
    session = SessionContext("codex", None, "gpt-5", "p", prompt_from_text(b"x"), "s-1")
    env = child_environment({"PATH": "/bin", "SIGSTORE_ID_TOKEN": "t"}, session)
    assert env == {
        "PATH": "/bin",
        "PROVENANCE_SESSION": "s-1",
        "PROVENANCE_ASSISTED_BY": "codex:gpt-5",
    }


def _commit_message(repo: GitRepo, env: dict[str, str]) -> str:
    repo.write("f.txt", os.urandom(4).hex())
    repo.git("add", "-A")
    subprocess.run(
        ["git", "-C", str(repo.path), "commit", "-q", "-m", "subject"],
        env={
            **os.environ,
            "GIT_AUTHOR_NAME": "A",
            "GIT_AUTHOR_EMAIL": "a@x",
            "GIT_COMMITTER_NAME": "A",
            "GIT_COMMITTER_EMAIL": "a@x",
            **env,
        },
        check=True,
    )
    return repo.git("log", "-1", "--format=%B")


def test_hooks_install_never_clobbers_and_can_chain(repo: GitRepo) -> None:
    session = {"PROVENANCE_SESSION": "s", "PROVENANCE_ASSISTED_BY": "claude-code:opus"}
    hooks = repo.path / ".git" / "hooks"
    foreign = hooks / "prepare-commit-msg"
    foreign.write_text('#!/bin/sh\necho "Ticket: ID-1" >> "$1"\n')
    foreign.chmod(0o755)
    with pytest.raises(UsageError, match="not written by provenance"):
        invoke(["hooks", "install", "--repo", str(repo.path)])
    assert invoke(["hooks", "install", "--repo", str(repo.path), "--chain"])[0] == 0
    assert MARKER in foreign.read_text()
    message = _commit_message(repo, session)
    assert "Ticket: ID-1" in message and "Assisted-by: claude-code:opus" in message
    assert "Assisted-by" not in _commit_message(repo, {})  # outside a session: no trailer
    assert invoke(["hooks", "install", "--repo", str(repo.path)])[0] == 0  # ours: idempotent
    assert invoke(["hooks", "uninstall", "--repo", str(repo.path)])[0] == 0
    assert foreign.read_text().startswith('#!/bin/sh\necho "Ticket')  # the chained one is back
    assert invoke(["hooks", "install", "--repo", str(repo.path), "--force"])[0] == 0
    assert MARKER in foreign.read_text()


def test_hooks_install_honours_core_hooks_path(repo: GitRepo) -> None:
    repo.git("config", "core.hooksPath", ".githooks")
    assert invoke(["hooks", "install", "--repo", str(repo.path)])[0] == 0
    assert MARKER in (repo.path / ".githooks" / "prepare-commit-msg").read_text()
    message = _commit_message(repo, {"PROVENANCE_SESSION": "s", "PROVENANCE_ASSISTED_BY": "a:b"})
    assert "Assisted-by: a:b" in message.splitlines()
