"""The streaming ``diff-tree --stdin`` parser agrees with the per-commit ``diff_against``.

One module repository holds one commit per shape (THREATS.md A6, E23-E28): hunk bodies are
consumed by the counts in their ``@@`` headers, so content that looks like a record header, a
``diff --git`` line or a hunk header never desynchronises the stream.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provenance.errors import GitError
from provenance.gitio import Git
from provenance.gitio.diff import MAX_LINES_PER_FILE
from provenance.gitio.stream import changes_between, changes_of, parse_stream
from provenance.models import FileChange
from tests.gitio._oracle import diff_against
from tests.helpers import GitRepo

LOGIN = "".join(f"def login_{i}(user):\n    return user.ok_{i}\n" for i in range(6))
HEX = "0123456789abcdef" * 2 + "01234567"  # 40 hex digits
#: A blob whose lines imitate every framing element of the stream (NUL, header, hunk, oid).
TRICKY = (
    b"\x00\x01\x02 binary\n"
    b"diff --git a/app/auth/x.py b/app/auth/x.py\n"
    + HEX.encode()
    + b"\x00:100644 100644 "
    + HEX.encode()
    + b"\n@@ -1 +1,900 @@\n"
    b"\\ No newline at end of file\n"
    b"+++ b/evil\n"
    b"--- a/evil\n" + HEX.encode() + b"\x00\n"
    b"last line without newline"
)
ODD_NAMES = (
    "we\nird.py",
    "ta\tb.py",
    "caf\u00e9.py",
    "cafe\u0301.py",  # NFD
    "zw\u200bauth.py",  # zero-width space
    "\u0430uth.py",  # Cyrillic a
    "diff --git a b",
    '"quoted" \\ name.py',
    HEX,
    ":colon.py",
    " leading space.py",
)


def _commit_all(repo: GitRepo, message: str) -> str:
    repo.git("add", "-A")
    repo.git("commit", "-q", "--allow-empty", "-m", message)
    return repo.git("rev-parse", "HEAD")


def _commit_index(repo: GitRepo, message: str) -> str:
    repo.git("commit", "-q", "--allow-empty", "-m", message)
    return repo.git("rev-parse", "HEAD")


def _write(repo: GitRepo, rel: str, data: bytes) -> None:
    target = repo.path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink():
        target.unlink()
    target.write_bytes(data)


def _symlink(repo: GitRepo, rel: str, to: str) -> None:
    target = repo.path / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(to)


def _lines(n: int, mark: Callable[[int], str]) -> bytes:
    return "".join(f"{mark(i)}\n" for i in range(n)).encode()


def _shape_actions(repo: GitRepo) -> list[tuple[str, Callable[[], None]]]:
    """One action per commit, in order; gitlink actions edit the index only."""
    w = repo.path

    def root() -> None:
        _write(repo, "a.txt", b"one\ntwo\nthree\n")
        _write(repo, "app/auth/login.py", LOGIN.encode())

    def rename_with_edits() -> None:
        (w / "lib").mkdir(exist_ok=True)
        repo.git("mv", "app/auth/login.py", "lib/login.py")
        _write(repo, "lib/login.py", (LOGIN + "EXTRA = 1\n").encode())

    def mode_and_content() -> None:
        os.chmod(w / "crlf.txt", 0o644)
        _write(repo, "crlf.txt", b"x\n")

    def odd_names() -> None:
        for name in ODD_NAMES:
            _write(repo, name, f"value = {name!r}\n".encode())

    def git(*args: str) -> Callable[[], None]:
        def action() -> None:
            repo.git(*args)

        return action

    def gitlink(sha: str) -> Callable[[], None]:
        return git("update-index", "--add", "--cacheinfo", f"160000,{sha},app/auth/vendor")

    def gitlink_to_file() -> None:
        repo.git("rm", "-q", "--cached", "app/auth/vendor")
        _write(repo, "app/auth/vendor", b"plain\n")

    return [
        ("root", root),
        ("modify", lambda: _write(repo, "a.txt", b"one\nTWO\nthree\nfour\n")),
        ("no_trailing_newline", lambda: _write(repo, "a.txt", b"one\nTWO\nthree\nfour")),
        ("add_newline_back", lambda: _write(repo, "a.txt", b"one\nTWO\nthree\nfour\n")),
        ("rename_with_edits", rename_with_edits),
        ("pure_rename", git("mv", "lib/login.py", "lib/signin.py")),
        ("copy", lambda: _write(repo, "app/auth/copy.py", (LOGIN + "X = 2\n").encode())),
        ("empty_commit", lambda: None),
        ("binary_nul", lambda: _write(repo, "blob.bin", TRICKY)),
        ("binary_edit", lambda: _write(repo, "blob.bin", TRICKY.replace(b"900", b"901"))),
        ("crlf", lambda: _write(repo, "crlf.txt", b"first\r\nsecond\r\n\r\n")),
        ("crlf_edit", lambda: _write(repo, "crlf.txt", b"first\r\nSECOND\r\n\r\n")),
        ("delete", lambda: os.remove(w / "a.txt")),
        ("symlink_add", lambda: _symlink(repo, "link", "app/auth/copy.py")),
        ("symlink_to_file", lambda: _write(repo, "link", b"now a file\n")),
        ("file_to_symlink", lambda: _symlink(repo, "link", "../etc/passwd")),
        ("symlink_retarget", lambda: _symlink(repo, "link", "app/auth")),
        ("mode_only", lambda: os.chmod(w / "crlf.txt", 0o744)),
        ("mode_and_content", mode_and_content),
        ("odd_names", odd_names),
        ("odd_names_edit", lambda: _write(repo, ODD_NAMES[0], b"changed\n")),
        ("hex_lines", lambda: _write(repo, "hex.txt", f"{HEX}\n{HEX}\x00tail\n".encode())),
        ("empty_file", lambda: _write(repo, "empty.txt", b"")),
        ("empty_file_filled", lambda: _write(repo, "empty.txt", b"now\n")),
        ("gitlink_add", gitlink("1" * 40)),
        ("gitlink_bump", gitlink("2" * 40)),
        ("gitlink_to_file", gitlink_to_file),
        ("many_hunks", lambda: _write(repo, "lines.txt", _lines(40, str))),
        ("many_hunks_edit", lambda: _write(
            repo, "lines.txt", _lines(40, lambda i: "x" if i % 7 == 0 else str(i))
        )),
        ("delete_many", lambda: shutil.rmtree(w / "lib")),
    ]  # fmt: skip


def _build_shapes(repo: GitRepo) -> dict[str, str]:
    shas: dict[str, str] = {}
    for name, action in _shape_actions(repo):
        action()
        index_only = name in ("gitlink_add", "gitlink_bump")
        shas[name] = (_commit_index if index_only else _commit_all)(repo, name)
    return shas


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> tuple[GitRepo, dict[str, str]]:
    repo = GitRepo.init(tmp_path_factory.mktemp("stream") / "repo")
    return repo, _build_shapes(repo)


@pytest.fixture(scope="module")
def streamed(shapes: tuple[GitRepo, dict[str, str]]) -> dict[str, list[FileChange]]:
    repo, shas = shapes
    return changes_of(Git.discover(repo.path), list(shas.values()))


def _parent(repo: GitRepo, sha: str) -> str | None:
    parents = repo.git("rev-list", "--parents", "-n1", sha).split()[1:]
    return parents[0] if parents else None


SHAPE_NAMES = [
    "root", "modify", "no_trailing_newline", "add_newline_back", "rename_with_edits",
    "pure_rename", "copy", "empty_commit", "binary_nul", "binary_edit", "crlf", "crlf_edit",
    "delete", "symlink_add", "symlink_to_file", "file_to_symlink", "symlink_retarget",
    "mode_only", "mode_and_content", "odd_names", "odd_names_edit", "hex_lines", "empty_file",
    "empty_file_filled", "gitlink_add", "gitlink_bump", "gitlink_to_file", "many_hunks",
    "many_hunks_edit", "delete_many",
]  # fmt: skip


def test_every_shape_is_built(shapes: tuple[GitRepo, dict[str, str]]) -> None:
    assert list(shapes[1]) == SHAPE_NAMES


@pytest.mark.parametrize("shape", SHAPE_NAMES)
def test_stream_agrees_with_per_commit_diff(
    shape: str,
    shapes: tuple[GitRepo, dict[str, str]],
    streamed: dict[str, list[FileChange]],
) -> None:
    repo, shas = shapes
    sha = shas[shape]
    expected = diff_against(Git.discover(repo.path), sha, _parent(repo, sha))
    assert streamed[sha] == expected


def _one(changes: list[FileChange], path: str) -> FileChange:
    (found,) = [c for c in changes if c.path == path]
    return found


def test_shapes_carry_what_the_classifier_needs(
    shapes: tuple[GitRepo, dict[str, str]], streamed: dict[str, list[FileChange]]
) -> None:
    _repo, shas = shapes
    renamed = _one(streamed[shas["rename_with_edits"]], "lib/login.py")
    assert (renamed.status, renamed.old_path) == ("R", "app/auth/login.py")
    assert renamed.added == ("EXTRA = 1",)
    assert streamed[shas["empty_commit"]] == []
    tricky = _one(streamed[shas["binary_nul"]], "blob.bin")
    assert tricky.added[0] == "\x00\x01\x02 binary"
    assert tricky.added[-1] == "last line without newline"
    assert f"{HEX}\x00" in tricky.added and "@@ -1 +1,900 @@" in tricky.added
    assert len(tricky.added) == TRICKY.count(b"\n") + 1
    assert _one(streamed[shas["crlf"]], "crlf.txt").added == ("first\r", "second\r", "\r")
    to_link = _one(streamed[shas["file_to_symlink"]], "link")
    assert (to_link.status, to_link.old_mode, to_link.new_mode) == ("T", "100644", "120000")
    assert to_link.added == ("../etc/passwd",) and to_link.removed == ("now a file",)
    mode = _one(streamed[shas["mode_only"]], "crlf.txt")
    assert (mode.status, mode.old_mode, mode.new_mode) == ("M", "100644", "100755")
    assert mode.added == mode.removed == ()
    assert {c.path for c in streamed[shas["odd_names"]]} == set(ODD_NAMES)
    bump = _one(streamed[shas["gitlink_bump"]], "app/auth/vendor")
    assert (bump.old_mode, bump.new_mode) == ("160000", "160000")
    assert bump.added == (f"Subproject commit {'2' * 40}",)
    gone = _one(streamed[shas["gitlink_to_file"]], "app/auth/vendor")
    assert (gone.status, gone.old_mode, gone.new_mode, gone.added) == (
        "T", "160000", "100644", ("plain",),
    )  # fmt: skip
    hunks = _one(streamed[shas["many_hunks_edit"]], "lines.txt")
    assert hunks.removed == ("0", "7", "14", "21", "28", "35")
    assert hunks.added == ("x",) * 6
    tail = _one(streamed[shas["no_trailing_newline"]], "a.txt")
    assert (tail.removed, tail.added) == (("four",), ("four",))


def test_changes_between_two_commits_agrees(shapes: tuple[GitRepo, dict[str, str]]) -> None:
    repo, shas = shapes
    git = Git.discover(repo.path)
    old, new = shas["modify"], shas["odd_names_edit"]
    expected = {(c.old_path, c.path): c for c in diff_against(git, new, old)}
    got = {(c.old_path, c.path): c for c in changes_between(git, old, new)}
    assert got == expected and len(got) > 10


def test_gitmodules_ignore_all_does_not_hide_a_gitlink_bump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """THREATS.md E27: ``submodule.<name>.ignore = all`` in the work tree's .gitmodules."""
    repo = GitRepo.init(tmp_path / "repo")
    repo.commit("base", {"README.md": "x\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{'1' * 40},app/auth/vendor")
    repo.git("commit", "-q", "-m", "add")
    modules = '[submodule "v"]\n\tpath = app/auth/vendor\n\turl = https://x\n\tignore = all\n'
    repo.write(".gitmodules", modules)
    repo.git("add", ".gitmodules")
    repo.git("update-index", "--cacheinfo", f"160000,{'2' * 40},app/auth/vendor")
    repo.git("commit", "-q", "-m", "bump")
    repo.git("config", "diff.ignoreSubmodules", "all")
    repo.git("config", "submodule.v.ignore", "all")
    monkeypatch.chdir(repo.path)  # git treats the working directory as the work tree
    git = Git.discover(repo.path)
    head = repo.git("rev-parse", "HEAD")
    changes = changes_of(git, [head])[head]
    assert {c.path for c in changes} == {".gitmodules", "app/auth/vendor"}


@pytest.mark.parametrize(
    "buf",
    [
        b"not-an-oid\x00",
        HEX.encode(),  # header without its NUL
        HEX.encode() + b"\x00:100644 100644 x\x00",  # raw entry with 3 fields
        HEX.encode() + b"\x00:100644 100644 " + HEX.encode() + b" " + HEX.encode() + b" M\x00a",
        # one raw entry, no patch section for it
        HEX.encode() + b"\x00:100644 100644 " + HEX.encode() + b" " + HEX.encode()
        + b" M\x00a\x00\x00",
    ],
)  # fmt: skip
def test_malformed_stream_is_an_error_not_a_silent_skip(buf: bytes) -> None:
    with pytest.raises(GitError):
        list(parse_stream(buf))


# --- property: random small repositories ---------------------------------------------------

_PATHS = ("a.py", "app/auth/x.py", "we\nird", "t\tab", "caf\u00e9", "d/e/f.txt", HEX)
_LINE = st.sampled_from(
    ["x", "", "+plus", "-minus", "@@ -1 +1,9 @@", "diff --git a/a b/b", f"{HEX}\x00", "\r", "é",
     "\\ No newline at end of file", " space"]
)  # fmt: skip
_CONTENT = st.tuples(st.lists(_LINE, max_size=6), st.booleans()).map(
    lambda t: ("\n".join(t[0]) + ("\n" if t[1] and t[0] else "")).encode()
)
_OP = st.one_of(
    st.tuples(st.just("write"), st.sampled_from(_PATHS), _CONTENT),
    st.tuples(st.just("delete"), st.sampled_from(_PATHS), st.just(b"")),
    st.tuples(st.just("rename"), st.sampled_from(_PATHS), st.sampled_from(_PATHS).map(str.encode)),
    st.tuples(st.just("chmod"), st.sampled_from(_PATHS), st.just(b"")),
    st.tuples(st.just("symlink"), st.sampled_from(_PATHS), st.sampled_from(_PATHS).map(str.encode)),
)
_HISTORY = st.lists(st.lists(_OP, max_size=4), min_size=1, max_size=4)


def _apply(root: Path, op: tuple[str, str, bytes]) -> None:
    kind, rel, arg = op
    path = root / rel
    exists = path.is_symlink() or path.is_file()
    if kind == "write":
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()
        if not path.is_dir():
            path.write_bytes(arg)
    elif kind == "delete" and exists:
        path.unlink()
    elif kind == "rename" and exists:
        dest = root / arg.decode()
        if not dest.exists() and not dest.is_symlink() and dest != path:
            dest.parent.mkdir(parents=True, exist_ok=True)
            path.rename(dest)
            if not dest.is_symlink():
                with dest.open("ab") as f:
                    f.write(b"edit\n")
    elif kind == "chmod" and exists and not path.is_symlink():
        path.chmod(path.stat().st_mode ^ 0o100)
    elif kind == "symlink":
        if exists:
            path.unlink()
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.symlink_to(arg.decode())


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(history=_HISTORY)
def test_property_stream_equals_per_commit_diff(
    history: list[list[tuple[str, str, bytes]]],
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = GitRepo.init(Path(tmp) / "r")
        for n, ops in enumerate(history):
            for op in ops:
                _apply(repo.path, op)
            _commit_all(repo, f"c{n}")
        git = Git.discover(repo.path)
        shas = repo.git("rev-list", "--reverse", "HEAD").split()
        streamed = changes_of(git, shas)
        for sha in shas:
            assert streamed[sha] == diff_against(git, sha, _parent(repo, sha))
        # Split across several diff-tree processes, the stream gives the same changes.
        assert changes_of(git, shas, chunk=2) == streamed


def _record(oid: str, paths: list[str], lines: int) -> bytes:
    """One synthetic ``diff-tree -z --raw -p`` record adding ``lines`` lines to each path."""
    raw = b"".join(
        b":100644 100644 " + HEX.encode() + b" " + HEX.encode() + b" M\x00" + p.encode() + b"\x00"
        for p in paths
    )
    patch = b"".join(
        f"diff --git a/{p} b/{p}\n@@ -0,0 +1,{lines} @@\n".encode()
        + b"".join(b"+x\n" for _ in range(lines))
        for p in paths
    )
    return oid.encode() + b"\x00" + raw + b"\x00" + patch


def test_truncation_of_one_record_never_leaks_into_later_ones() -> None:
    """A truncated section is marked by identity; ids of freed sections are reused by CPython.

    The stream of lobsters' history showed ``diff.truncated`` on small files of later commits
    (a false flag, not a miss): truncation is now tracked per record.
    """
    big = _record("1" * 40, ["big.txt"], MAX_LINES_PER_FILE + 5)
    small = b"".join(
        _record(f"{n:040x}", [f"f{i}.txt" for i in range(20)], 2) for n in range(2, 60)
    )
    out = dict(parse_stream(big + small))
    assert [c.truncated for c in out["1" * 40]] == [True]
    assert not [c.path for oid, cs in out.items() if oid != "1" * 40 for c in cs if c.truncated]
