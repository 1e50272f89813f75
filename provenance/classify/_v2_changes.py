"""Small readings of one file change that ``@2``'s classifier asks for."""

from __future__ import annotations

from dataclasses import replace

from provenance.classify._locate import Line
from provenance.models import FileChange

#: The mode of a side that does not exist (an added or deleted file).
ABSENT = "000000"


def identity_of(change: FileChange) -> tuple[str, str, str, str]:
    """What names one change of a commit (paths and blob ids), whatever else is attached."""
    return (change.path, change.old_path, change.old_oid, change.new_oid)


def present(change: FileChange) -> list[tuple[str, str | None]]:
    """(path, source) of each side that exists (its source ``None`` when it was not read)."""
    return [
        (path, source)
        for path, source, mode in (
            (change.old_path, change.old_source, change.old_mode),
            (change.path, change.new_source, change.new_mode),
        )
        if mode != ABSENT
    ]


def with_lines(change: FileChange, lines: tuple[Line, ...]) -> FileChange:
    """``change`` with only the given changed lines (new side added, old side removed)."""
    added = tuple(text for side, _, text in lines if side == "new")
    removed = tuple(text for side, _, text in lines if side == "old")
    return replace(change, added=added, removed=removed)
