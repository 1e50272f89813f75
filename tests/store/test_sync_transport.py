"""``sync`` runs nothing the repository configures, reaches ssh remotes, reads notes as git does.

Real git on real bare remotes. A planted program records that it ran by writing a sentinel
file; every test asserts the sentinel is absent (THREATS.md G53, G60, G62).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import provenance.store.sync as sync_module
from provenance.app.sync import sync
from provenance.errors import GitError, StoreError
from provenance.gitio import Git
from provenance.gitio.remotes import resolve_endpoint
from provenance.gitio.transport import pin_programs, transport
from provenance.store import MAX_LINES_PER_COMMIT, NotesStore
from provenance.store.sync import NotesSync
from tests.helpers import GitRepo

REF = "refs/notes/provenance"


def _world(tmp: Path) -> tuple[GitRepo, GitRepo, str]:
    remote = GitRepo.init(tmp / "remote.git", bare=True)
    seed = GitRepo.init(tmp / "seed")
    commit = seed.commit("c0", {"f.txt": "0"})
    seed.git("push", "-q", str(remote.path), "main")
    GitRepo(tmp).git("clone", "-q", str(remote.path), str(tmp / "a"))
    return remote, GitRepo(tmp / "a"), commit


def _program(tmp: Path, name: str) -> tuple[Path, Path]:
    """An executable that leaves ``sentinel-NAME`` when anything runs it."""
    sentinel = tmp / f"sentinel-{name}"
    script = tmp / f"{name}.sh"
    script.write_text(f"#!/bin/sh\necho ran >> '{sentinel}'\nexit 1\n")
    script.chmod(0o755)
    return script, sentinel


def _add(repo: GitRepo, commit: str, line: str) -> None:
    NotesStore(Git.discover(repo.path)).add(commit, [line.encode()])


def _lines(repo: GitRepo, commit: str) -> set[bytes]:
    return set(NotesStore(Git.discover(repo.path)).read(commit))


PLANTED = {
    "remote.origin.uploadpack": "{prog}",
    "remote.origin.receivepack": "{prog}",
    "core.sshCommand": "{prog}",
    "core.gitProxy": "{prog}",
    "credential.helper": "!{prog}",
    "url.{evil}.insteadOf": "{remote}",
    "core.alternateRefsCommand": "{prog}",
    "remote.origin.vcs": "ext",
}


@pytest.mark.parametrize("key", sorted(PLANTED))
def test_transport_settings_in_the_repository_config_never_run(tmp_path: Path, key: str) -> None:
    """THREATS.md G53: `-c remote.NAME.uploadpack=…` lost to .git/config; nothing planted runs."""
    remote, a, c0 = _world(tmp_path)
    prog, sentinel = _program(tmp_path, "planted")
    evil = GitRepo.init(tmp_path / "evil.git", bare=True)
    places = {"prog": prog, "remote": remote.path, "evil": evil.path}
    a.git("config", key.format(**places), PLANTED[key].format(**places))
    _add(a, c0, '{"a":1}')
    with pytest.raises(GitError, match="transport options") as refused:
        sync(a.path)
    assert refused.value.exit_code == 3
    # The refusal is only the loud part: the transport itself never reads that config.
    git = Git.discover(a.path)
    with transport(git, pin_programs()) as moving:
        done = NotesSync(git, resolve_endpoint(git, "origin"), moving).run()
    assert done.pushed
    assert _lines(remote, c0) == {b'{"a":1}'}
    assert not sentinel.exists()
    assert evil.git("for-each-ref") == ""  # no rewrite sent anything elsewhere


def test_hooks_of_a_local_bare_remote_never_run(tmp_path: Path) -> None:
    """THREATS.md G53: git clears GIT_CONFIG_PARAMETERS for local transports; hooks stay off."""
    remote, a, c0 = _world(tmp_path)
    hooks = remote.path / "hooks"
    sentinels = []
    for hook in ("pre-receive", "update", "post-receive", "post-update", "reference-transaction"):
        prog, sentinel = _program(tmp_path, hook)
        (hooks / hook).write_text(prog.read_text().replace("exit 1", "exit 0"))
        (hooks / hook).chmod(0o755)
        sentinels.append(sentinel)
    remote.git("config", "core.alternateRefsCommand", str(_program(tmp_path, "alt")[0]))
    _add(a, c0, '{"a":1}')
    assert sync(a.path).pushed
    assert _lines(remote, c0) == {b'{"a":1}'}
    assert [s.name for s in sentinels if s.exists()] == []
    assert not (tmp_path / "sentinel-alt").exists()


def test_a_remote_url_from_a_config_file_others_can_write_is_refused(tmp_path: Path) -> None:
    """THREATS.md G53: only the URL comes from .git/config, and only if nobody else can write it."""
    remote, a, c0 = _world(tmp_path)
    config = a.path / ".git" / "config"
    config.chmod(config.stat().st_mode | stat.S_IWGRP)
    with pytest.raises(GitError, match="someone else could write"):
        sync(a.path)
    _add(a, c0, '{"a":1}')
    assert sync(a.path, str(remote.path)).pushed  # the URL itself is the user's word
    assert _lines(remote, c0) == {b'{"a":1}'}


@pytest.mark.parametrize("url", ["ext::sh -c touch% {sentinel}", "git://127.0.0.1:9/x.git"])
def test_transports_other_than_file_ssh_https_are_refused(tmp_path: Path, url: str) -> None:
    """THREATS.md G53: only file, ssh, https and http are allowed."""
    _, a, _ = _world(tmp_path)
    sentinel = tmp_path / "sentinel-ext"
    with pytest.raises(GitError, match="refusing the"):
        sync(a.path, url.format(sentinel=sentinel))
    assert not sentinel.exists()


def test_ssh_remotes_use_the_users_ssh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """THREATS.md G62g: sync reaches ssh remotes with the ssh of the user's environment."""
    remote, a, c0 = _world(tmp_path)
    calls = tmp_path / "ssh-calls"
    fake_ssh = tmp_path / "bin" / "ssh"
    fake_ssh.parent.mkdir()
    # An ssh that runs the remote command here (no sshd on this machine): the last argument.
    fake_ssh.write_text(
        f'#!/bin/sh\necho "$@" >> \'{calls}\'\nfor last; do :; done\nexec sh -c "$last"\n'
    )
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake_ssh.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("GIT_SSH_VARIANT", "ssh")
    a.git("remote", "set-url", "origin", f"ssh://git.example{remote.path}")
    _add(a, c0, '{"a":1}')
    assert sync(a.path).pushed
    assert _lines(remote, c0) == {b'{"a":1}'}
    assert "git.example" in calls.read_text()


def test_a_remote_notes_ref_pointing_at_a_blob_fails_at_once(tmp_path: Path) -> None:
    """THREATS.md G62e: not a retry storm ending in "the remote kept moving"."""
    remote, a, c0 = _world(tmp_path)
    blob = remote.git("hash-object", "-w", "--stdin", input=b"not a notes commit\n")
    remote.git("update-ref", REF, blob)
    _add(a, c0, '{"a":1}')
    with pytest.raises(StoreError, match="points to a blob") as refused:
        sync(a.path)
    assert "kept moving" not in str(refused.value)
    assert _lines(a, c0) == {b'{"a":1}'}


def _move_note_off_git_paths(repo: GitRepo, commit: str) -> None:
    """A notes commit on top of the tip whose note for ``commit`` sits at ``abc/def…``."""
    tip = repo.git("rev-parse", REF)
    entries = repo.git("ls-tree", tip).splitlines()
    blob = next(e.split()[2] for e in entries if e.endswith(commit))
    inner = repo.git("mktree", input=f"100644 blob {blob}\t{commit[3:]}\n".encode())
    kept = "".join(f"{e}\n" for e in entries if not e.endswith(commit))
    tree = repo.git("mktree", input=(kept + f"040000 tree {inner}\t{commit[:3]}\n").encode())
    new = repo.git("commit-tree", tree, "-p", tip, "-m", "move", env={"GIT_CONFIG_NOSYSTEM": "1"})
    repo.git("update-ref", REF, new, tip)


def test_a_note_moved_where_git_does_not_read_notes_is_not_pushed_as_kept(tmp_path: Path) -> None:
    """THREATS.md G60: sync compares notes as git reads them, not by joining tree paths."""
    remote, a, c0 = _world(tmp_path)
    _add(a, c0, '{"decision":"reject"}')
    assert sync(a.path).pushed
    _move_note_off_git_paths(a, c0)
    assert _lines(a, c0) == set()  # git (and the gate) no longer see the reject here
    sync(a.path)
    assert _lines(remote, c0) == {b'{"decision":"reject"}'}  # it was not hidden upstream
    assert _lines(a, c0) == {b'{"decision":"reject"}'}  # and it is back locally


def test_a_remote_with_junk_lines_cannot_push_a_local_note_over_the_limit(
    tmp_path: Path,
) -> None:
    """THREATS.md G62f: merging must not turn valid local evidence into too_many/too_large."""
    remote, a, c0 = _world(tmp_path)
    junk = GitRepo(tmp_path / "junk")
    GitRepo(tmp_path).git("clone", "-q", str(remote.path), str(junk.path))
    NotesStore(Git.discover(junk.path)).add(
        c0, [f'{{"junk":{i}}}'.encode() for i in range(MAX_LINES_PER_COMMIT)]
    )
    junk.git("push", "-q", "origin", f"{REF}:{REF}")
    _add(a, c0, '{"valid":1}')
    before = a.git("rev-parse", REF)
    with pytest.raises(StoreError, match="more than the 512"):
        sync(a.path)
    assert a.git("rev-parse", REF) == before
    assert _lines(a, c0) == {b'{"valid":1}'}


def test_note_blobs_are_sized_before_they_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md G62f: memory does not grow with any note size the remote chooses."""
    remote, a, c0 = _world(tmp_path)
    monkeypatch.setattr(sync_module, "MAX_NOTE_BYTES", 4096)
    junk = GitRepo(tmp_path / "junk")
    GitRepo(tmp_path).git("clone", "-q", str(remote.path), str(junk.path))
    junk.git("notes", f"--ref={REF}", "add", "-m", "x" * 10_000, c0)
    junk.git("push", "-q", "origin", f"{REF}:{REF}")
    _add(a, c0, '{"valid":1}')
    with pytest.raises(StoreError, match="larger than the 4096 bytes"):
        sync(a.path)
    assert _lines(a, c0) == {b'{"valid":1}'}


def test_a_push_refused_for_another_reason_is_not_retried(tmp_path: Path) -> None:
    """THREATS.md G62e: only "the remote moved" is retried; any other refusal fails at once."""
    remote, a, c0 = _world(tmp_path)
    remote.git("config", "receive.hideRefs", REF)  # git answers "deny updating a hidden ref"
    _add(a, c0, '{"a":1}')
    with pytest.raises(StoreError, match="hidden ref") as refused:
        sync(a.path, attempts=5)
    assert "kept moving" not in str(refused.value)
