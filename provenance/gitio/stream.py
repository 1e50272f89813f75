"""Changes of many commits from one ``git diff-tree --stdin`` process, parsed as a stream.

Framing: ``<oid>\\0``, then ``--raw -z`` entries, an empty field, then ``-p --text -U0`` patch
text. With ``--text`` a content line may hold NUL or look like anything, so hunk bodies are
consumed by the line counts in their ``@@`` headers, never by scanning for separators.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

from provenance.errors import GitError
from provenance.gitio.diff import EMPTY_TREE, MAX_LINE_CHARS, MAX_LINES_PER_FILE
from provenance.gitio.runner import Git
from provenance.models import FileChange

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_OID = re.compile(rb"[0-9a-f]{40}(?:[0-9a-f]{24})?")
#: Commits per ``diff-tree --stdin`` process.
_CHUNK = 250
STREAM_FLAGS = (
    "--always",
    "-r",
    "-z",
    "--raw",
    "-p",
    "--text",
    "-U0",
    "-M",
    "--root",
    "--no-ext-diff",
    "--no-textconv",
    "--ignore-submodules=none",
    "--full-index",
    "--no-color",
)
#: Flags of a two-tree diff (a merge against its automatic merge): no record header.
TREE_FLAGS = tuple(f for f in STREAM_FLAGS if f not in ("--always", "--root"))


class _Entry(NamedTuple):
    """One ``--raw`` entry: modes, status letter, paths and blob ids."""

    old_mode: str
    new_mode: str
    status: str
    src: str
    dst: str
    old_oid: str
    new_oid: str


#: Added lines, removed lines and hunk headers of one patch section.
_Section = tuple[list[str], list[str], list[tuple[int, int, int, int]]]


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


class _Parser:
    """Cursor over the whole output buffer."""

    def __init__(self, buf: bytes, *, patch: bool = True) -> None:
        self.buf = buf
        self.i = 0
        self.patch = patch  # False: ``--raw`` only, no separator and no patch text
        #: id() of the current record's sections whose lines exceeded the bounds
        self.cut: set[int] = set()

    def field(self) -> bytes:
        j = self.buf.find(b"\x00", self.i)
        if j < 0:
            raise GitError("truncated diff-tree output")
        out, self.i = self.buf[self.i : j], j + 1
        return out

    def line(self) -> bytes:
        j = self.buf.find(b"\n", self.i)
        if j < 0:
            j = len(self.buf)
        out, self.i = self.buf[self.i : j], j + 1
        return out

    def at_oid(self) -> bool:
        m = _OID.match(self.buf, self.i)
        return m is not None and self.buf[m.end() : m.end() + 1] == b"\x00"

    def raw_entries(self) -> list[_Entry]:
        entries = []
        while self.buf[self.i : self.i + 1] == b":":
            meta = _decode(self.field()[1:]).split(" ")
            if len(meta) != 5:
                raise GitError(f"unexpected raw diff entry {meta!r}")
            old_mode, new_mode, old_oid, new_oid, status = meta
            src = _decode(self.field())
            dst = _decode(self.field()) if status[0] in "RC" else src
            entries.append(_Entry(old_mode, new_mode, status[0], src, dst, old_oid, new_oid))
        if entries and self.patch and self.field() != b"":
            raise GitError("diff-tree output: raw entries not followed by the patch separator")
        return entries

    def sections(self) -> list[_Section]:
        out: list[_Section] = []
        while self.i < len(self.buf) and not self.at_oid():
            line = self.line()
            if line.startswith(b"diff --git "):
                out.append(([], [], []))
                continue
            m = _HUNK.match(line)
            if m is None or not out:
                continue  # extended header lines (mode, index, rename, ---/+++)
            removed = int(m.group(2)) if m.group(2) is not None else 1
            added = int(m.group(4)) if m.group(4) is not None else 1
            out[-1][2].append((int(m.group(1)), removed, int(m.group(3)), added))
            self._body(out[-1], removed + added)
        return out

    def _body(self, section: _Section, count: int) -> None:
        """The ``count`` lines of one hunk (``line`` inlined: this loop reads every line)."""
        added, removed, _ = section
        buf, i, end = self.buf, self.i, len(self.buf)
        cut = False
        for _ in range(count):
            j = buf.find(b"\n", i)
            if j < 0:
                j = end
            line, i = buf[i:j], j + 1
            bucket = added if line[:1] == b"+" else removed
            if len(bucket) >= MAX_LINES_PER_FILE or len(line) > MAX_LINE_CHARS + 1:
                cut = True
            if len(bucket) < MAX_LINES_PER_FILE:
                bucket.append(line[1 : 1 + MAX_LINE_CHARS].decode("utf-8", "surrogateescape"))
            if buf.startswith(b"\\ ", i):  # "\ No newline at end of file"
                j = buf.find(b"\n", i)
                i = (end if j < 0 else j) + 1
        self.i = i
        if cut:
            self.cut.add(id(section))


def _assemble(
    oid: str,
    entries: list[_Entry],
    sections: list[_Section],
    cut: set[int] | frozenset[int] = frozenset(),
    *,
    lines: bool = True,
) -> list[FileChange]:
    expected = sum(2 if e.status == "T" else 1 for e in entries) if lines else 0
    if expected != len(sections):
        raise GitError(
            f"could not align the diff of {oid}: {expected} patch sections "
            f"expected, {len(sections)} found"
        )
    changes, cursor = [], 0
    for e in entries:
        take = 2 if e.status == "T" else 1
        parts = sections[cursor : cursor + take]
        cursor += take
        changes.append(
            FileChange(
                path=e.dst,
                old_path=e.src,
                status=e.status,
                old_mode=e.old_mode,
                new_mode=e.new_mode,
                added=tuple(ln for p in parts for ln in p[0]),
                removed=tuple(ln for p in parts for ln in p[1]),
                truncated=any(id(p) in cut for p in parts),
                old_oid=e.old_oid,
                new_oid=e.new_oid,
                hunks=tuple(h for p in parts for h in p[2]),
            )
        )
    return changes


def parse_stream(buf: bytes) -> Iterator[tuple[str, list[FileChange]]]:
    """Yield ``(commit, changes)`` for each record of ``diff-tree --stdin`` output."""
    p = _Parser(buf)
    while p.i < len(buf):
        oid = p.field()
        if not _OID.fullmatch(oid):
            raise GitError(f"unexpected diff-tree record header {oid[:60]!r}")
        entries = p.raw_entries()
        p.cut.clear()  # ids of a finished record's sections are reused by new ones
        sections = p.sections() if entries else []
        yield oid.decode(), _assemble(oid.decode(), entries, sections, p.cut)


def changes_of(
    git: Git,
    commits: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    chunk: int = _CHUNK,
    against: Mapping[str, str] | None = None,
) -> dict[str, list[FileChange]]:
    """Changes of each non-merge commit against its parent (root commits: the empty tree).

    ``against`` names another parent for some commits (a merge against its first parent:
    what the merge brings into the mainline); ``diff-tree --stdin`` reads ``<commit>
    <parent>`` lines as a commit with that one parent.
    """
    if not commits:
        return {}
    pairs = against or {}

    def diff(chunk: Sequence[str]) -> bytes:
        lines = (f"{c} {pairs[c]}" if c in pairs else c for c in chunk)
        stdin = "\n".join(lines).encode() + b"\n"
        return git.run("diff-tree", "--stdin", *STREAM_FLAGS, input=stdin, env=env).stdout

    # Chunks let git produce the next diffs while this thread parses the previous ones.
    chunks = [commits[i : i + chunk] for i in range(0, len(commits), chunk)]
    result: dict[str, list[FileChange]] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for out in pool.map(diff, chunks):
            result.update(parse_stream(out))
    missing = [c for c in commits if c not in result]
    if missing:
        raise GitError(f"diff-tree returned no record for {missing[0]}")
    return result


RAW_FLAGS = tuple(f for f in STREAM_FLAGS if f not in ("-p", "--text", "-U0", "--root"))


def raw_changes_of(
    git: Git, against: Mapping[str, str], *, env: dict[str, str] | None = None
) -> dict[str, list[FileChange]]:
    """Paths, modes and blob ids (no lines) of each commit against the parent ``against`` names.

    Cheap even for a merge that brings thousands of files: no patch is produced.
    """
    if not against:
        return {}
    stdin = "".join(f"{c} {p}\n" for c, p in against.items()).encode()
    out = git.run("diff-tree", "--stdin", *RAW_FLAGS, input=stdin, env=env).stdout
    p = _Parser(out, patch=False)
    result: dict[str, list[FileChange]] = {}
    while p.i < len(out):
        oid = p.field()
        if not _OID.fullmatch(oid):
            raise GitError(f"unexpected diff-tree record header {oid[:60]!r}")
        result[oid.decode()] = _assemble(oid.decode(), p.raw_entries(), [], lines=False)
    missing = [c for c in against if c not in result]
    if missing:
        raise GitError(f"diff-tree returned no record for {missing[0]}")
    return result


def changes_between(
    git: Git,
    old: str,
    new: str,
    *,
    env: dict[str, str] | None = None,
    paths: Sequence[str] = (),
) -> list[FileChange]:
    """Changes from tree-ish ``old`` to ``new``, through the same count-driven parser.

    ``paths`` limits the diff to those paths (literal pathspecs, never patterns).
    """
    if paths:
        env = {**(env or {}), "GIT_LITERAL_PATHSPECS": "1"}
    limit = ("--", *paths) if paths else ()
    out = git.run("diff-tree", *TREE_FLAGS, old, new, *limit, env=env).stdout
    p = _Parser(out)
    entries = p.raw_entries()
    sections = p.sections() if entries else []
    if p.i < len(out):
        raise GitError(f"unexpected diff-tree output after the diff of {new}")
    return _assemble(new, entries, sections, p.cut)


def diff_against(git: Git, commit: str, parent: str | None) -> list[FileChange]:
    """Every path ``commit`` changed relative to ``parent`` (the empty tree for a root)."""
    return changes_between(git, parent or EMPTY_TREE, commit)
