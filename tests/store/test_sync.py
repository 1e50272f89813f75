"""Notes sync: union merge, fast-forward pushes only, retry when the remote moved, no line lost."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from provenance.app.sync import sync
from provenance.devinstance import DevInstance
from provenance.errors import GitError, StoreError
from provenance.gitio import Git
from provenance.gitio.remotes import resolve_endpoint
from provenance.store import NotesStore
from tests.conftest import AGENT_ID
from tests.helpers import SSO_CALLBACK, GitRepo

REF = "refs/notes/provenance"


def _clone(remote: GitRepo, path: Path) -> GitRepo:
    GitRepo(path.parent).git("clone", "-q", str(remote.path), str(path))
    return GitRepo(path)


def _world(tmp: Path, files: dict[str, str] | None = None) -> tuple[GitRepo, GitRepo, list[str]]:
    remote = GitRepo.init(tmp / "remote.git", bare=True)
    seed = GitRepo.init(tmp / "seed")
    commits = [seed.commit(f"c{i}", {f"f{i}.txt": str(i), **(files or {})}) for i in range(3)]
    seed.git("push", "-q", str(remote.path), "main")
    return remote, seed, commits


def _lines(repo: GitRepo, commits: list[str]) -> dict[str, set[bytes]]:
    stored = NotesStore(Git.discover(repo.path)).read_many(commits)
    return {c: set(ls) for c, ls in stored.items()}


def _tip(repo: GitRepo) -> str | None:
    return NotesStore(Git.discover(repo.path)).tip()


def _add(repo: GitRepo, commit: str, line: str) -> None:
    NotesStore(Git.discover(repo.path)).add(commit, [line.encode()])


def test_union_merge_keeps_every_line_and_pushes_fast_forward(tmp_path: Path) -> None:
    remote, _, (c1, c2, _c3) = _world(tmp_path)
    a, b = _clone(remote, tmp_path / "a"), _clone(remote, tmp_path / "b")
    first = sync(a.path)
    assert (first.pushed, first.remote_tip, first.local_after) == (False, None, None)
    _add(a, c1, '{"a":1}')
    assert sync(a.path).pushed
    _add(b, c1, '{"b":1}')
    _add(b, c2, '{"b":2}')
    _add(a, c2, '{"a":2}')
    before = _tip(remote)
    done = sync(b.path)  # b diverged from the remote: merged by union, then pushed
    assert done.merged and done.pushed
    after = _tip(remote)
    assert before and after
    assert remote.git("merge-base", "--is-ancestor", before, after) == ""  # a fast-forward
    assert sync(a.path).pushed
    assert not sync(b.path).pushed  # b only fast-forwards to what a pushed
    want = {c1: {b'{"a":1}', b'{"b":1}'}, c2: {b'{"a":2}', b'{"b":2}'}}
    for repo in (a, b, remote):
        assert {c: s for c, s in _lines(repo, [c1, c2]).items()} == want, repo.path.name
    assert "provenance-sync" not in a.git("for-each-ref", "--format=%(refname)")


def test_a_descendant_notes_commit_that_overwrites_a_line_does_not_erase_it(
    tmp_path: Path,
) -> None:
    # Fast-forwarding is not enough: a later notes commit can overwrite or remove a note.
    remote, _, (c1, _c2, _c3) = _world(tmp_path)
    a, b = _clone(remote, tmp_path / "a"), _clone(remote, tmp_path / "b")
    _add(a, c1, '{"a":1}')
    assert sync(a.path).pushed
    sync(b.path)
    b.git("notes", f"--ref={REF}", "add", "-f", "-m", '{"b":"replacement"}', c1)
    assert sync(b.path).pushed  # b's overwrite reaches the remote only as a union
    assert _lines(remote, [c1])[c1] == {b'{"a":1}', b'{"b":"replacement"}'}
    assert sync(a.path).merged  # a fast-forwards to the union, keeping its line
    assert _lines(a, [c1])[c1] == {b'{"a":1}', b'{"b":"replacement"}'}


def test_a_local_note_removal_is_never_pushed(tmp_path: Path) -> None:
    remote, _, (c1, _c2, _c3) = _world(tmp_path)
    a = _clone(remote, tmp_path / "a")
    _add(a, c1, '{"a":1}')
    assert sync(a.path).pushed
    a.git("notes", f"--ref={REF}", "remove", c1)  # a descendant of the remote's notes commit
    sync(a.path)
    assert _lines(remote, [c1])[c1] == {b'{"a":1}'}
    assert _lines(a, [c1])[c1] == {b'{"a":1}'}  # and the local ref has it back


def test_push_rejected_because_the_remote_moved_is_merged_and_retried(tmp_path: Path) -> None:
    remote, _, (c1, _c2, _c3) = _world(tmp_path)
    a, b = _clone(remote, tmp_path / "a"), _clone(remote, tmp_path / "b")
    _add(a, c1, '{"a":1}')
    _add(b, c1, '{"b":1}')

    def remote_moves(attempt: int) -> None:
        if attempt == 1:  # b pushes between a's merge and a's push
            assert sync(b.path).pushed

    done = sync(a.path, before_push=remote_moves)
    assert done.pushed and done.attempts == 2
    assert _lines(remote, [c1]) == {c1: {b'{"a":1}', b'{"b":1}'}}


def test_a_remote_that_keeps_moving_fails_loudly_after_bounded_attempts(tmp_path: Path) -> None:
    remote, _, (c1, _c2, _c3) = _world(tmp_path)
    a, b = _clone(remote, tmp_path / "a"), _clone(remote, tmp_path / "b")
    _add(a, c1, '{"a":1}')

    def always(attempt: int) -> None:
        _add(b, c1, f'{{"b":{attempt}}}')
        sync(b.path)

    with pytest.raises(StoreError, match="kept moving") as e:
        sync(a.path, attempts=2, before_push=always)
    assert e.value.exit_code == 3
    assert _lines(a, [c1])[c1] == {b'{"a":1}', b'{"b":1}'}  # merged before the last push
    assert sync(a.path).pushed  # once the remote is quiet, everything lands
    assert _lines(remote, [c1])[c1] == {b'{"a":1}', b'{"b":1}', b'{"b":2}'}


def test_bad_remotes_are_errors_not_silent(tmp_path: Path) -> None:
    remote, _, _ = _world(tmp_path)
    a = _clone(remote, tmp_path / "a")
    git = Git.discover(a.path)
    with pytest.raises(GitError):
        resolve_endpoint(git, "--upload-pack=touch /tmp/x")
    with pytest.raises(GitError):
        sync(a.path, "no-such-remote")


_WORKER = """
import json, sys
from pathlib import Path
from provenance.app.stamp import stamp
from provenance.sign.signing import SigningOptions
from provenance.app.sync import sync
from provenance.gitio import Git
from provenance.store import NotesStore
from tests.conftest import session

repo, token, trust_config, name, *commits = sys.argv[1:]
store = NotesStore(Git.discover(repo))
mine = []
for sha in commits:
    before = set(store.read(sha))
    stamp(Path(repo), sha, session(), SigningOptions(identity_token=token,
          trust_config=Path(trust_config)))
    mine += [line.decode() for line in set(store.read(sha)) - before]
    sync(Path(repo), attempts=40)
for i in range(4):
    line = json.dumps({"worker": name, "n": i})
    store.add(commits[i % len(commits)], [line.encode()])
    mine.append(line)
    sync(Path(repo), attempts=40)
print(json.dumps(mine))
"""


@pytest.mark.slow
def test_two_clones_stamping_and_syncing_concurrently_lose_nothing(
    tmp_path: Path, dev: DevInstance
) -> None:
    from provenance.app.audit import build_index
    from provenance.app.options import VerifyOptions
    from provenance.policy import render_template

    policy = {".provenance/policy.toml": render_template(dev.default_issuer, AGENT_ID)}
    remote, _, commits = _world(tmp_path, {**policy, "app/auth/sso.py": SSO_CALLBACK})
    clones = [_clone(remote, tmp_path / n) for n in ("a", "b")]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER,
                str(clone.path),
                dev.issue_token(AGENT_ID),
                str(dev.trust_config_path),
                clone.path.name,
                *commits,
            ],
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        for clone in clones
    ]
    written: set[bytes] = set()
    for proc in procs:
        out, _ = proc.communicate(timeout=240)
        assert proc.returncode == 0
        written |= {line.encode() for line in json.loads(out)}
    assert len(written) == 2 * (len(commits) + 4)  # every stamp and every extra line
    for clone in clones:
        sync(clone.path)
    for repo in (*clones, remote):
        stored = set().union(*_lines(repo, commits).values())
        assert stored == written, repo.path.name
    stats = build_index(
        clones[0].path, VerifyOptions(trusted_root=dev.trusted_root_path, offline=True)
    )
    assert stats.totals["attestations"] == 2 * len(commits)  # the real stamps all verify
    assert stats.refused == 8  # the extra lines are not attestations: never indexed
