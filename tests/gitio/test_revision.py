"""Revisions resolve to exactly one commit: an ambiguous name never moves BASE (THREATS.md G42).

``git rev-parse origin/main`` takes the first of six rules that exists, so a tag named
``origin/main`` (fetched by ``actions/checkout`` with ``fetch-depth: 0``) silently wins over
the remote-tracking branch. Every command resolves its revisions through ``resolve_commit``;
these tests drive it, the gate and the other commands over real repositories.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from provenance.app.approve import preview
from provenance.app.audit import log
from provenance.app.evidence import export_pack
from provenance.app.gate import classify_range, verify, verify_range
from provenance.app.options import VerifyOptions
from provenance.devinstance import DevInstance
from provenance.errors import UsageError
from provenance.gitio import Git, resolve_commit
from provenance.gitio.revision import REVISION_AMBIGUOUS, RangeError
from provenance.policy import render_template
from provenance.reasons import Reason
from tests.conftest import AGENT_ID
from tests.helpers import SSO_CALLBACK, GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """base (policy) -> auth (unattested identity change) -> docs; origin/main at base."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit(
        "policy",
        {
            ".provenance/policy.toml": render_template("https://issuer.example", AGENT_ID),
            "README.md": "app\n",
        },
    )
    repo.commit("auth", {"app/auth/sso.py": SSO_CALLBACK})
    repo.commit("docs", {"docs/guide.md": "# Guide\n"})
    repo.git("update-ref", "refs/remotes/origin/main", "HEAD~2")
    repo.git("notes", "--ref=refs/notes/provenance", "add", "-m", "{}", "HEAD~2")
    return repo


def sha(repo: GitRepo, rev: str) -> str:
    return repo.git("rev-parse", "--verify", "--end-of-options", rev)


def assert_ambiguous(repo: GitRepo, rev: str, *candidates: str) -> None:
    with pytest.raises(RangeError) as info:
        resolve_commit(Git.discover(repo.path), rev)
    assert info.value.reason == REVISION_AMBIGUOUS == Reason.REVISION_AMBIGUOUS.value
    assert info.value.exit_code == 1
    for candidate in candidates:
        assert candidate in info.value.diagnostics()


def test_a_tag_named_like_the_remote_tracking_branch_is_ambiguous(repo: GitRepo) -> None:
    """THREATS.md G42: the README recipe's ``origin/main`` with a pushed tag ``origin/main``."""
    repo.git("tag", "origin/main", "HEAD~1")
    assert_ambiguous(repo, "origin/main", "refs/tags/origin/main", "refs/remotes/origin/main")


@pytest.mark.parametrize("suffix", ["~0", "^0", "^{commit}", "^{}", "~1^", "^{tag}~0"])
def test_suffixes_do_not_hide_an_ambiguous_name(repo: GitRepo, suffix: str) -> None:
    """THREATS.md G42: ``origin/main~0``, ``^{commit}`` and friends apply to the one ref."""
    repo.git("tag", "-a", "-m", "t", "origin/main", "HEAD~1")
    assert_ambiguous(repo, f"origin/main{suffix}", "refs/tags/origin/main")


def test_a_tag_and_a_branch_of_one_name_are_ambiguous(repo: GitRepo) -> None:
    """THREATS.md G42: ``release`` as branch and tag."""
    repo.git("branch", "release", "HEAD~2")
    repo.git("tag", "release", "HEAD~1")
    assert_ambiguous(repo, "release", "refs/tags/release", "refs/heads/release")
    assert resolve_commit(Git.discover(repo.path), "refs/heads/release") == sha(repo, "HEAD~2")
    assert resolve_commit(Git.discover(repo.path), "refs/tags/release") == sha(repo, "HEAD~1")


def test_a_branch_named_like_a_commit_id_prefix_is_ambiguous(repo: GitRepo) -> None:
    """THREATS.md G42: git prefers the ref ``<prefix>`` over the commit the prefix names."""
    prefix = sha(repo, "HEAD~2")[:10]
    repo.git("branch", prefix, "HEAD~1")
    assert_ambiguous(repo, prefix, f"refs/heads/{prefix}", sha(repo, "HEAD~2"))
    assert_ambiguous(repo, f"{prefix}~0", f"refs/heads/{prefix}")
    git = Git.discover(repo.path)
    assert resolve_commit(git, sha(repo, "HEAD~2")) == sha(repo, "HEAD~2")  # full id: the object


def test_head_relative_forms(repo: GitRepo) -> None:
    """THREATS.md G42: ``HEAD~2``, ``@``, ``HEAD^^`` work; a tag ``HEAD`` makes them ambiguous."""
    git = Git.discover(repo.path)
    assert resolve_commit(git, "HEAD~2") == sha(repo, "HEAD~2")
    assert resolve_commit(git, "@") == sha(repo, "HEAD")
    assert resolve_commit(git, "HEAD^{commit}") == sha(repo, "HEAD")
    assert resolve_commit(git, "HEAD^^") == sha(repo, "HEAD~2")
    repo.git("update-ref", "refs/tags/HEAD", "HEAD~1")
    assert_ambiguous(repo, "HEAD~2", "refs/tags/HEAD")
    assert_ambiguous(repo, "@~1", "refs/tags/HEAD")


def test_a_ref_file_at_the_top_of_the_git_dir_is_a_candidate(repo: GitRepo) -> None:
    """THREATS.md G42: ``$GIT_DIR/origin/main`` is git's first rule; it wins over refs/."""
    top = repo.path / ".git" / "origin"
    top.mkdir()
    (top / "main").write_text(sha(repo, "HEAD~1") + "\n")
    assert_ambiguous(repo, "origin/main", "refs/remotes/origin/main")


def test_a_missing_full_ref_name_is_never_guessed(repo: GitRepo) -> None:
    """THREATS.md G42: with refs/remotes/origin/main not fetched, git would read the tag
    ``refs/tags/refs/remotes/origin/main`` for it; the name is refused instead."""
    repo.git("update-ref", "-d", "refs/remotes/origin/main")
    repo.git("tag", "refs/remotes/origin/main", "HEAD~1")
    assert repo.git("rev-parse", "refs/remotes/origin/main") == sha(repo, "HEAD~1")  # git guesses
    with pytest.raises(UsageError):
        resolve_commit(Git.discover(repo.path), "refs/remotes/origin/main")
    with pytest.raises(UsageError):
        resolve_commit(Git.discover(repo.path), "refs/remotes/origin/main~0")


def test_repository_config_cannot_silence_ambiguity(repo: GitRepo) -> None:
    """THREATS.md G42: ``core.warnAmbiguousRefs=false`` only silences git's warning."""
    repo.git("config", "core.warnAmbiguousRefs", "false")
    repo.git("tag", "origin/main", "HEAD~1")
    assert_ambiguous(repo, "origin/main", "refs/tags/origin/main")


def test_unambiguous_names_still_resolve(repo: GitRepo) -> None:
    git = Git.discover(repo.path)
    repo.git("tag", "v1.0", "HEAD~1")
    base = sha(repo, "HEAD~2")
    assert resolve_commit(git, "origin/main") == base
    assert resolve_commit(git, "origin/main~0") == base
    assert resolve_commit(git, "refs/remotes/origin/main") == base
    assert resolve_commit(git, "main~1") == sha(repo, "HEAD~1")
    assert resolve_commit(git, "v1.0") == sha(repo, "HEAD~1")
    assert resolve_commit(git, base[:12]) == base
    assert resolve_commit(git, base.upper()[:12]) == base
    repo.git("tag", "origin/main", "HEAD~1")  # full names stay exact whatever else exists
    assert resolve_commit(git, "refs/remotes/origin/main") == base
    assert resolve_commit(git, base) == base


@pytest.mark.parametrize(
    "rev",
    ["HEAD@{1}", "main@{upstream}", "@{-1}", ":/auth", "HEAD:README.md", "HEAD^{/auth}",
     "HEAD^!", "-n", "", "origin/main..HEAD", "no-such-branch", "refs/heads/nope", "../x"],
)  # fmt: skip
def test_forms_that_read_state_or_text_are_refused(repo: GitRepo, rev: str) -> None:
    """Reflogs, upstream config and message searches are writable by an attacker."""
    with pytest.raises(UsageError):
        resolve_commit(Git.discover(repo.path), rev)


def _options(dev: DevInstance) -> VerifyOptions:
    return VerifyOptions(trusted_root=dev.trusted_root_path, offline=True)


def test_the_gate_no_longer_passes_an_unattested_change_behind_a_tag(
    repo: GitRepo, dev: DevInstance
) -> None:
    """THREATS.md G42: before the fix ``origin/main..HEAD`` verified only ``docs`` and passed."""
    (repo.path / ".provenance/policy.toml").write_text(
        render_template(dev.default_issuer, AGENT_ID)
    )  # the policy's issuer is irrelevant here: nothing gets to signatures
    repo.git("tag", "origin/main", "HEAD~1")
    with pytest.raises(RangeError) as info:
        verify_range(repo.path, "origin/main..HEAD", _options(dev))
    assert info.value.reason == REVISION_AMBIGUOUS
    with pytest.raises(RangeError):
        classify_range(repo.path, "origin/main..HEAD")
    report = verify_range(repo.path, "refs/remotes/origin/main..HEAD", _options(dev))
    assert report.result == "refused"
    auth = sha(repo, "HEAD~1")
    assert [c.reasons for c in report.commits if c.commit == auth] == [("attestation_missing",)]


def test_every_command_refuses_an_ambiguous_revision(
    repo: GitRepo, dev: DevInstance, tmp_path: Path
) -> None:
    """THREATS.md G42: verify COMMIT, approve, export, log read revisions the same way."""
    repo.git("tag", "origin/main", "HEAD~1")
    options = _options(dev)
    calls: list[Callable[[], object]] = [
        lambda: verify(repo.path, ["origin/main"], options),
        lambda: preview(repo.path, "origin/main", options),
        lambda: export_pack(repo.path, "origin/main..HEAD", tmp_path / "pack", options),
        lambda: log(repo.path, "origin/main..HEAD", db=tmp_path / "index.sqlite"),
    ]
    for call in calls:
        with pytest.raises(RangeError) as info:
            call()
        assert info.value.reason == REVISION_AMBIGUOUS


def test_cli_refusal_is_exit_1_with_the_reason_in_json(repo: GitRepo, dev: DevInstance) -> None:
    """THREATS.md G42: the release pipeline sees exit 1 and ``revision_ambiguous``."""
    repo.git("tag", "origin/main", "HEAD~1")
    args = ["verify", "origin/main..HEAD", "--format", "json", "--offline"]
    args += ["--trusted-root", str(dev.trusted_root_path)]
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_TRUST_CONFIG"}
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=repo.path, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["reasons"] == [REVISION_AMBIGUOUS]
    assert "refs/tags/origin/main" in proc.stderr and "refs/remotes/origin/main" in proc.stderr
