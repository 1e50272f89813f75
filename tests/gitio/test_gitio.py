"""Hardened git: hostile repository config runs nothing; unsafe repositories are refused."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from provenance.app.gate import verify, verify_range
from provenance.app.options import VerifyOptions
from provenance.errors import GitError, UsageError
from provenance.gitio import Git, check_repository_safe, parse_commit, read_commit, resolve_commit
from provenance.gitio.batch import read_objects
from provenance.gitio.stream import diff_against
from provenance.store import NotesStore
from tests.helpers import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo.init(tmp_path / "repo")
    r.commit("one", {"a.txt": "a\n"})
    return r


def test_commit_digest_is_sha256_of_git_framed_object(repo: GitRepo) -> None:
    git = Git.discover(repo.path)
    commit = read_commit(git, resolve_commit(git, "HEAD"))
    raw = subprocess.run(
        ["git", "-C", str(repo.path), "cat-file", "commit", "HEAD"], capture_output=True, check=True
    ).stdout
    assert commit.raw == raw
    assert commit.digest == hashlib.sha256(b"commit %d\x00" % len(raw) + raw).hexdigest()
    # git's own sha1 over the same framing proves the framing is git's
    assert hashlib.sha1(b"commit %d\x00" % len(raw) + raw).hexdigest() == commit.sha


def test_revision_is_never_parsed_as_an_option(repo: GitRepo) -> None:
    git = Git.discover(repo.path)
    with pytest.raises(UsageError):
        resolve_commit(git, "--output=/tmp/pwned")
    assert not Path("/tmp/pwned").exists()


def test_duplicate_headers_are_refused() -> None:
    raw = (
        b"tree "
        + b"a" * 40
        + b"\ntree "
        + b"b" * 40
        + b"\nauthor A <a> 1 +0000\ncommitter A <a> 1 +0000\n\nx"
    )
    with pytest.raises(GitError, match="duplicate tree"):
        parse_commit("c" * 40, raw)


def test_shallow_partial_and_replace_refs_are_refused(tmp_path: Path, repo: GitRepo) -> None:
    repo.commit("two", {"a.txt": "b\n"})
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth=1", f"file://{repo.path}", str(shallow)], check=True
    )
    with pytest.raises(GitError, match="shallow"):
        check_repository_safe(Git.discover(shallow))
    repo.git("config", "uploadpack.allowFilter", "true")
    partial = tmp_path / "partial"
    subprocess.run(
        ["git", "clone", "-q", "--filter=blob:none", f"file://{repo.path}", str(partial)],
        check=True,
    )
    with pytest.raises(GitError, match="partial clone"):
        check_repository_safe(Git.discover(partial))
    # The gate refuses before reading any object (which would fetch from the promisor remote).
    subprocess.run(["git", "-C", str(partial), "remote", "set-url", "origin", "/nonexistent"])
    options = VerifyOptions(offline=True, trusted_root=tmp_path / "root.json")
    with pytest.raises(GitError, match="partial clone"):
        verify_range(partial, "HEAD~1..HEAD", options)
    with pytest.raises(GitError, match="partial clone"):
        verify(partial, ["HEAD"], options)
    check_repository_safe(Git.discover(repo.path))  # a full repository is fine
    head, parent = repo.git("rev-parse", "HEAD"), repo.git("rev-parse", "HEAD~1")
    repo.git("replace", head, parent)
    with pytest.raises(GitError, match="refs/replace"):
        check_repository_safe(Git.discover(repo.path))


def test_hostile_config_runs_nothing(tmp_path: Path, repo: GitRepo) -> None:
    sentinel = tmp_path / "sentinel"
    evil = tmp_path / "evil.sh"
    evil.write_text(f"#!/bin/sh\necho ran >> {sentinel}\n")
    evil.chmod(0o755)
    for key in (
        "core.fsmonitor",
        "diff.external",
        "diff.evil.textconv",
        "core.pager",
        "filter.evil.clean",
        "filter.evil.smudge",
        "core.sshCommand",
    ):
        repo.git("config", key, str(evil))
    repo.write(".gitattributes", "*.py diff=evil filter=evil\n")
    hooks = repo.path / ".git" / "hooks"
    for hook in ("post-checkout", "pre-commit", "post-commit", "reference-transaction"):
        (hooks / hook).write_text(evil.read_text())
        (hooks / hook).chmod(0o755)
    repo.git("-c", "core.hooksPath=/dev/null", "-c", "core.fsmonitor=false", "add", "-A")
    repo.git(
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
        "commit",
        "-q",
        "-m",
        "x",
        "--no-verify",
    )
    sentinel.unlink(missing_ok=True)
    git = Git.discover(repo.path)
    sha = resolve_commit(git, "HEAD")
    commit = read_commit(git, sha)
    changes = diff_against(git, sha, commit.parents[0])
    assert [c.path for c in changes] == [".gitattributes"]
    check_repository_safe(git)
    store = NotesStore(git)
    store.add(sha, [b'{"x":1}'])  # ref updates would fire the reference-transaction hook
    assert store.read(sha) == [b'{"x":1}']
    assert not sentinel.exists(), "a command from the repository's config ran"


def test_diff_handles_odd_paths_renames_and_type_changes(repo: GitRepo) -> None:
    odd = "auth/new\nline\tand tab é.py"
    repo.write(odd, "x = 1\n")
    repo.git("mv", "a.txt", "renamed.txt")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "odd")
    git = Git.discover(repo.path)
    sha = resolve_commit(git, "HEAD")
    changes = {c.path: c for c in diff_against(git, sha, read_commit(git, sha).parents[0])}
    assert changes[odd].status == "A" and changes[odd].added == ("x = 1",)
    assert changes["renamed.txt"].status == "R" and changes["renamed.txt"].old_path == "a.txt"
    (repo.path / "renamed.txt").unlink()
    (repo.path / "renamed.txt").symlink_to("auth")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "typechange")
    sha = resolve_commit(git, "HEAD")
    (change,) = diff_against(git, sha, read_commit(git, sha).parents[0])
    assert (change.status, change.old_mode, change.new_mode) == ("T", "100644", "120000")
    assert change.added == ("auth",)


def test_gitattributes_binary_does_not_hide_lines(repo: GitRepo) -> None:
    repo.commit("attrs", {".gitattributes": "*.py -diff binary\n"})
    sha = repo.commit("code", {"auth.py": "def login():\n    return True\n"})
    git = Git.discover(repo.path)
    (change,) = diff_against(git, sha, read_commit(git, sha).parents[0])
    assert change.added == ("def login():", "    return True")


def test_read_objects_pipelines_in_order_and_stops_cleanly(repo: GitRepo) -> None:
    git = Git.discover(repo.path)
    files = []
    for i in range(300):  # enough requests and answers to fill both pipes
        files.append(repo.path / f"blob{i}")
        files[-1].write_bytes(f"blob {i}\n".encode() * 200)
    blobs = repo.git("hash-object", "-w", "--", *map(str, files)).split()
    missing = "0" * 40
    got = list(read_objects(git, [*blobs, missing, blobs[0]]))
    assert [oid for oid, _, _ in got] == [*blobs, missing, blobs[0]]
    assert got[7][1:] == ("blob", b"blob 7\n" * 200)
    assert got[-2][1:] == ("missing", None)
    # A reader that stops early leaves no process behind and does not hang.
    reader = read_objects(git, blobs * 20)
    assert next(reader)[0] == blobs[0]
    reader.close()
    assert list(read_objects(git, [])) == []
