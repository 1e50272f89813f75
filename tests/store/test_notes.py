"""Git-notes store: idempotence, bounds, and no lost notes under concurrent writers."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from provenance.errors import StoreError
from provenance.gitio import Git
from provenance.store import MAX_LINE_BYTES, MemoryStore, NotesStore
from tests.helpers import GitRepo


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    r = GitRepo.init(tmp_path / "repo")
    r.commit("first", {"a.txt": "a"})
    return r


def test_missing_ref_is_unavailable_and_reads_empty(repo: GitRepo) -> None:
    store = NotesStore(Git.discover(repo.path))
    head = repo.git("rev-parse", "HEAD")
    assert not store.available()
    assert store.read(head) == []


def test_add_is_idempotent_and_keeps_order(repo: GitRepo) -> None:
    store = NotesStore(Git.discover(repo.path))
    head = repo.git("rev-parse", "HEAD")
    assert store.add(head, [b'{"a":1}', b'{"b":2}']) == 2
    assert store.add(head, [b'{"b":2}', b'{"a":1}']) == 0
    assert store.add(head, [b'{"c":3}']) == 1
    assert store.read(head) == [b'{"a":1}', b'{"b":2}', b'{"c":3}']
    # The note is readable by plain git too, one attestation per line.
    shown = repo.git("notes", "--ref=refs/notes/provenance", "show", head)
    assert shown.splitlines() == ['{"a":1}', '{"b":2}', '{"c":3}']


def test_read_many_gives_identical_notes_to_every_commit(repo: GitRepo) -> None:
    # Byte-identical notes share one blob; each commit must still get its lines.
    first = repo.git("rev-parse", "HEAD")
    repo.commit("second", {"b.txt": "b"})
    second = repo.git("rev-parse", "HEAD")
    store = NotesStore(Git.discover(repo.path))
    store.add_many({first: [b'{"same":1}'], second: [b'{"same":1}']})
    assert store.read_many([first, second]) == {first: [b'{"same":1}'], second: [b'{"same":1}']}


def test_no_temporary_refs_are_left_behind(repo: GitRepo) -> None:
    store = NotesStore(Git.discover(repo.path))
    store.add(repo.git("rev-parse", "HEAD"), [b"x"])
    refs = repo.git("for-each-ref", "--format=%(refname)")
    assert "provenance-tmp" not in refs


def test_other_notes_refs_are_never_read(repo: GitRepo) -> None:
    head = repo.git("rev-parse", "HEAD")
    repo.git("notes", "--ref=refs/notes/other", "add", "-m", '{"forged":1}', head)
    repo.git("notes", "add", "-m", '{"forged":2}', head)  # refs/notes/commits
    store = NotesStore(Git.discover(repo.path))
    assert not store.available()
    assert store.read(head) == []


def test_oversized_line_is_kept_as_marker_not_parsed(repo: GitRepo) -> None:
    head = repo.git("rev-parse", "HEAD")
    store = NotesStore(Git.discover(repo.path))
    store.add(head, [b"x" * (MAX_LINE_BYTES + 1)])
    assert store.read(head) == [b"<oversized line>"]


def test_line_with_newline_is_refused(repo: GitRepo) -> None:
    store = NotesStore(Git.discover(repo.path))
    with pytest.raises(StoreError):
        store.add(repo.git("rev-parse", "HEAD"), [b"a\nb"])


def test_invalid_ref_is_refused(repo: GitRepo) -> None:
    with pytest.raises(StoreError):
        NotesStore(Git.discover(repo.path), "refs/heads/main")


def test_memory_store_matches_interface() -> None:
    store = MemoryStore(present=False)
    assert not store.available()
    assert store.add("c" * 40, [b"1", b"1", b"2"]) == 2
    assert store.available()
    assert store.read("c" * 40) == [b"1", b"2"]


_WORKER = """
import sys
from provenance.gitio import Git
from provenance.store import NotesStore
store = NotesStore(Git.discover(sys.argv[1]))
for commit in sys.argv[2:]:
    store.add(commit, [('{"worker":"%s"}' % commit).encode()])
"""


@pytest.mark.slow
def test_eight_concurrent_writers_keep_all_200_notes(repo: GitRepo) -> None:
    # 200 commits, each written by exactly one of 8 processes running at the same time.
    repo.git("commit", "-q", "--allow-empty", "-m", "base")
    script = "".join(
        f"commit refs/heads/main\nmark :{i}\ncommitter D <d@e> {1700000000 + i} +0000\n"
        f"data 2\nc{i % 10}\n" + ("from refs/heads/main^0\n" if i == 1 else "") + "\n"
        for i in range(1, 201)
    )
    repo.git("fast-import", "--quiet", input=script.encode())
    commits = repo.git("rev-list", "--max-count=200", "main").split()
    assert len(commits) == 200
    procs = [
        subprocess.Popen([sys.executable, "-c", _WORKER, str(repo.path), *commits[i::8]])
        for i in range(8)
    ]
    assert all(p.wait(timeout=240) == 0 for p in procs)
    stored = NotesStore(Git.discover(repo.path)).read_many(commits)
    assert sum(1 for c in commits if stored[c] == [f'{{"worker":"{c}"}}'.encode()]) == 200


def test_a_notes_ref_that_is_not_a_commit_is_an_error_not_an_absence(repo: GitRepo) -> None:
    blob = repo.git("hash-object", "-w", "--stdin", input=b"junk\n")
    repo.git("update-ref", "refs/notes/provenance", blob)
    store = NotesStore(Git.discover(repo.path))
    with pytest.raises(StoreError, match="does not point to a notes commit"):
        store.add(repo.git("rev-parse", "HEAD"), [b"x"])


def test_stores_open_by_uri_scheme(tmp_path: Path) -> None:
    """STYLE.md 3: the registry by scheme opens the notes store a policy names; unknown fails."""
    from provenance.policy import parse_policy
    from provenance.store.interface import open_store

    git = Git.discover(GitRepo.init(tmp_path / "repo").path)
    store = open_store("git-notes:refs/notes/other", git)
    assert isinstance(store, NotesStore) and store.ref == "refs/notes/other"
    policy = parse_policy('version = 1\nnotes_ref = "refs/notes/audit"\n', source="test")
    assert NotesStore.of_policy(git, policy).ref == "refs/notes/audit"
    for uri in ("s3:bucket", "git-notes:", "nothing"):
        with pytest.raises(StoreError):
            open_store(uri, git)
