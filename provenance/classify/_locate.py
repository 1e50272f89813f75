"""Where a fired rule fired: the hunk lines it matched, so a reviewer sees why in one line.

Content rules are located on the changed lines they match one line at a time (new side first,
then removed lines on the old side); a rule that only matches across lines, and every path or
mode rule, is located at the first hunk of the change. Without hunk headers (a change built by
hand) findings name the path alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from provenance.classify._model import Finding
from provenance.models import FileChange

#: One changed line: side (``"new"``/``"old"``), its 1-based number, its text.
Line = tuple[str, int, str]
#: The indices of the lines (of a list of changed lines) a rule matches.
Finder = Callable[[str, Sequence[str]], list[int] | None]
#: At most this many line ranges are reported per rule and path.
MAX_RANGES = 3


#: The last changes ``numbered`` read, by identity (a change is immutable): id -> (it, lines).
_NUMBERED: dict[int, tuple[FileChange, list[Line]]] = {}
_NUMBERED_ENTRIES = 64


def numbered(change: FileChange) -> list[Line]:
    """The changed lines with their numbers, from the hunk headers (empty when unknown).

    Several stages ask about the same change; each gets its own copy of the list.
    """
    found = _NUMBERED.get(id(change))
    if found is None or found[0] is not change:
        if len(_NUMBERED) >= _NUMBERED_ENTRIES:
            del _NUMBERED[next(iter(_NUMBERED))]  # the oldest
        found = _NUMBERED[id(change)] = (change, _numbered(change))
    return list(found[1])


def _numbered(change: FileChange) -> list[Line]:
    if not change.hunks:
        return []
    lines: list[Line] = []
    added = removed = 0
    for old_start, old_count, new_start, new_count in change.hunks:
        old = change.removed[removed : removed + old_count]
        new = change.added[added : added + new_count]
        if len(old) != old_count or len(new) != new_count:
            return []  # truncated: the numbers would be wrong
        lines += [("new", new_start + i, text) for i, text in enumerate(new)]
        lines += [("old", old_start + i, text) for i, text in enumerate(old)]
        added += new_count
        removed += old_count
    return lines


def changed_lines(change: FileChange) -> list[Line]:
    """``numbered`` lines, or without hunk headers the added then removed lines counted from 1.

    The second form (a change built by hand) keeps each side's lines in order, so stages that
    read runs of lines still see them together; its numbers are not the file's.
    """
    lines = numbered(change)
    if lines or change.hunks:
        return lines
    return [("new", n, t) for n, t in enumerate(change.added, 1)] + [
        ("old", n, t) for n, t in enumerate(change.removed, 1)
    ]


def first_hunk(change: FileChange) -> tuple[str, int, int] | None:
    """The first hunk's range on the new side, or on the old side for a pure removal."""
    if not change.hunks:
        return None
    old_start, old_count, new_start, new_count = change.hunks[0]
    if new_count:
        return ("new", new_start, new_start + new_count - 1)
    if old_count:
        return ("old", old_start, old_start + old_count - 1)
    return None


def ranges(numbers: Iterable[tuple[str, int]]) -> Iterator[tuple[str, int, int]]:
    """Consecutive line numbers of one side merged into ranges, new side first."""
    ordered = sorted(set(numbers), key=lambda n: (n[0] != "new", n[0], n[1]))
    start: tuple[str, int] | None = None
    last = 0
    for side, number in ordered:
        if start is not None and side == start[0] and number == last + 1:
            last = number
            continue
        if start is not None:
            yield (start[0], start[1], last)
        start, last = (side, number), number
    if start is not None:
        yield (start[0], start[1], last)


def locate(
    change: FileChange,
    rules: Sequence[str],
    finder: Finder,
    lines: Sequence[Line] | None = None,
) -> tuple[Finding, ...]:
    """Findings for ``rules`` in ``change``; ``lines`` overrides the changed lines searched.

    ``finder(rule, texts)`` gives the indices of the texts a content rule matches (``None``
    for a rule that is not matched on lines).
    """
    searched = numbered(change) if lines is None else list(lines)
    texts = [text for _, _, text in searched]
    fallback = first_hunk(change)
    out: list[Finding] = []
    for rule in rules:
        found = finder(rule, texts) if texts else None
        hits = [(searched[i][0], searched[i][1]) for i in found or ()]
        spans = list(ranges(hits))[:MAX_RANGES]
        if not spans and fallback is not None:
            spans = [fallback]
        path = change.path
        for side, first, last in spans:
            out.append(Finding(rule, change.old_path if side == "old" else path, side, first, last))
        if not spans:
            out.append(Finding(rule, path))
    return tuple(out)
