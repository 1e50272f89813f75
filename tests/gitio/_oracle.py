"""Test oracle: an independent, line-scanning diff reader to check the production parser.

It reads the same ``diff-tree`` output differently (scans patch lines instead of consuming
hunks by count) so that the two disagree whenever either has a framing bug.
"""

from __future__ import annotations

import re

from provenance.errors import GitError
from provenance.gitio.diff import EMPTY_TREE, MAX_LINE_CHARS, MAX_LINES_PER_FILE
from provenance.gitio.runner import Git
from provenance.gitio.stream import TREE_FLAGS
from provenance.models import FileChange

_HUNK = re.compile(rb"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_Section = tuple[list[str], list[str], list[tuple[int, int, int, int]]]
_FLAGS = tuple(f for f in TREE_FLAGS if f not in ("-z", "--raw", "-p"))


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


def parse_raw_z(out: bytes) -> list[tuple[str, str, str, str, str, str, str]]:
    """Parse ``--raw -z`` output into (old_mode, new_mode, old_oid, new_oid, status, src, dst)."""
    fields = out.split(b"\x00")
    entries = []
    i = 0
    while i < len(fields) and fields[i]:
        meta = fields[i]
        if not meta.startswith(b":"):
            raise GitError(f"unexpected diff-tree output: {meta[:80]!r}")
        old_mode, new_mode, old_oid, new_oid, status = _decode(meta[1:]).split(" ")
        src = _decode(fields[i + 1])
        if status[0] in "RC":
            dst = _decode(fields[i + 2])
            i += 3
        else:
            dst = src
            i += 2
        entries.append((old_mode, new_mode, old_oid, new_oid, status[0], src, dst))
    return entries


def _patch_sections(patch: bytes) -> list[_Section]:
    """Added and removed lines and hunk headers per ``diff --git`` section, in output order."""
    sections: list[_Section] = []
    in_hunk = False
    for line in patch.split(b"\n"):
        if line.startswith(b"diff --git "):
            sections.append(([], [], []))
            in_hunk = False
        elif m := _HUNK.match(line):
            in_hunk = True
            counts = [int(g) if g is not None else 1 for g in m.groups()]
            sections[-1][2].append((counts[0], counts[1], counts[2], counts[3]))
        elif in_hunk and sections and line[:1] in (b"+", b"-"):
            added, removed, _ = sections[-1]
            bucket = added if line[:1] == b"+" else removed
            if len(bucket) < MAX_LINES_PER_FILE:
                bucket.append(_decode(line[1 : 1 + MAX_LINE_CHARS]))
    return sections


def diff_against(git: Git, commit: str, parent: str | None) -> list[FileChange]:
    """Every path ``commit`` changed relative to ``parent`` (the empty tree for a root)."""
    base = parent or EMPTY_TREE
    raw = git.out("diff-tree", *_FLAGS, "--raw", "-z", base, commit)
    entries = parse_raw_z(raw)
    patch = git.out("diff-tree", *_FLAGS, "-p", base, commit)
    sections = _patch_sections(patch)
    # A type change (file <-> symlink <-> gitlink) is printed as a deletion plus an addition.
    expected = sum(2 if e[4] == "T" else 1 for e in entries)
    if len(sections) != expected:
        raise GitError(
            f"could not align the diff of {commit}: "
            f"{expected} patch sections expected, {len(sections)} found"
        )
    changes: list[FileChange] = []
    cursor = 0
    for om, nm, oo, no, status, src, dst in entries:
        take = 2 if status == "T" else 1
        added = [ln for sec in sections[cursor : cursor + take] for ln in sec[0]]
        removed = [ln for sec in sections[cursor : cursor + take] for ln in sec[1]]
        cursor += take
        changes.append(
            FileChange(
                path=dst,
                old_path=src,
                status=status,
                old_mode=om,
                new_mode=nm,
                added=tuple(added),
                removed=tuple(removed),
                old_oid=oo,
                new_oid=no,
                hunks=tuple(h for sec in sections[cursor - take : cursor] for h in sec[2]),
            )
        )
    return changes
