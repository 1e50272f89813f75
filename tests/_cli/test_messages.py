"""Errors name their real cause and the next step (issue 17, item 6).

Each case was seen naming the wrong cause before the fix: a trust config given as
``--trusted-root`` printed a pydantic dump of six validation errors; an expired token was
"malformed or missing claims"; a failed stamp did not say the commit was now pending.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import AGENT_ID, Golden
from tests.helpers import SSO_CALLBACK, Result


def cli(args: list[str], cwd: Path, **env: str) -> Result:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "provenance"), *args],
        cwd=cwd, env={**base, **env}, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_trust_files_given_to_the_wrong_option_are_named_as_what_they_are(golden: Golden) -> None:
    """THREATS.md G51: the root is never guessed; the refusal says which option takes the file."""
    config, root = golden.inst.trust_config_path, golden.inst.trusted_root_path
    swapped = cli(["verify", "--offline", "--trusted-root", str(config), "HEAD"], golden.repo.path)
    assert swapped.returncode == 3, swapped.stderr
    assert f"{config} is a client trust config" in swapped.stderr
    assert f"hint: pass it as --trust-config {config}" in swapped.stderr
    assert "validation error" not in swapped.stderr and "pydantic" not in swapped.stderr

    reverse = cli(["verify", "--offline", "--trust-config", str(root), "HEAD"], golden.repo.path)
    assert reverse.returncode == 3 and f"pass it as --trusted-root {root}" in reverse.stderr

    broken = golden.repo.path.parent / "broken-root.json"
    broken.write_text('{"mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1"}')
    invalid = cli(["verify", "--offline", "--trusted-root", str(broken), "HEAD"], golden.repo.path)
    assert invalid.returncode == 3
    (line,) = [x for x in invalid.stderr.splitlines() if x.startswith("error:")]
    assert "is not a valid trusted root (3 problem(s), first at tlogs: Field required)" in line
    assert "pydantic" not in invalid.stderr


def test_an_expired_token_says_expired_and_the_commit_is_left_pending(golden: Golden) -> None:
    """Nothing lost: the failed stamp says the commit is pending and how to finish it."""
    g = golden
    sha = g.repo.commit("more SSO", {"app/auth/sso2.py": SSO_CALLBACK})
    task = g.repo.path.parent / "task.md"
    task.write_text("add SSO\n")
    args = ["stamp", "--agent", "claude-code@2.1.0", "--model", "m", "--prompter",
            "alice@example.com", "--prompt-file", str(task), "HEAD"]  # fmt: skip
    trust = {"PROVENANCE_TRUST_CONFIG": str(g.inst.trust_config_path)}
    expired = g.inst.issue_token(AGENT_ID, ttl=-60)
    failed = cli(args, g.repo.path, PROVENANCE_IDENTITY_TOKEN=expired, **trust)
    assert failed.returncode == 3, failed.stderr
    assert "the identity token has expired" in failed.stderr
    assert "malformed" not in failed.stderr and expired not in failed.stderr
    assert f"commit {sha[:12]} is now pending" in failed.stderr
    assert "provenance stamp --pending" in failed.stderr
    listed = g.repo.git("notes", "--ref=refs/notes/provenance", "list")
    assert sha not in listed  # nothing unsigned was stored

    fresh = g.inst.issue_token(AGENT_ID)
    done = cli(["stamp", "--pending"], g.repo.path, PROVENANCE_IDENTITY_TOKEN=fresh, **trust)
    assert done.returncode == 0, done.stderr
    assert len(g.notes(sha)) == 1


def test_a_repository_of_another_user_is_named_as_such(golden: Golden) -> None:
    """git's "dubious ownership" refusal is reported as that, not "not inside a repository"
    (git's own test switch stands in for another owner: the test may not run as root)."""
    sub = golden.repo.path / "app"
    other = cli(["verify", "HEAD"], sub, GIT_TEST_ASSUME_DIFFERENT_OWNER="1")
    assert other.returncode == 3
    assert f'git refuses {sub}: it is owned by another user ("dubious ownership")' in other.stderr
    assert f"safe.directory {golden.repo.path}" in other.stderr
    assert "not inside a git repository" not in other.stderr
    nowhere = cli(["verify", "HEAD"], golden.repo.path.parent)
    assert nowhere.returncode == 3 and "is not inside a git repository" in nowhere.stderr
