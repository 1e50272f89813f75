"""Small readings of one file change that ``@2``'s classifier asks for."""

from __future__ import annotations

from collections.abc import Sequence
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


def read_as(
    change: FileChange, lines: Sequence[Line], sources: dict[str, str | None]
) -> FileChange:
    """``change`` with ``sources`` (per side, line numbers kept) and its changed ``lines``
    taken from them. Lines are split at ``\n`` only, as git numbers them (``splitlines``
    also splits at form feeds and other separators); a line a side cannot give keeps its
    text as written."""
    split = {side: (text or "").split("\n") for side, text in sources.items()}
    added: list[str] = []
    removed: list[str] = []
    for side, number, text in lines:
        plain = split[side]
        if sources[side] is not None and 0 < number <= len(plain):
            text = plain[number - 1]
        (added if side == "new" else removed).append(text)
    return replace(
        change,
        old_source=sources["old"],
        new_source=sources["new"],
        added=tuple(added),
        removed=tuple(removed),
    )
