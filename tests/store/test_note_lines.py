"""A note is read within bounded memory, whatever its size (THREATS.md A6, G52)."""

from __future__ import annotations

from provenance.store import (
    MAX_LINE_BYTES,
    MAX_NOTE_BYTES,
    NOT_LISTED,
    OVERSIZED_LINE,
    OVERSIZED_NOTE,
    NoteLines,
)


def test_lines_are_split_stripped_and_deduplicated() -> None:
    assert NoteLines().extend(b"a\r\n\nb\na\n").lines == [b"a", b"b"]


def test_a_long_line_is_a_stand_in_and_the_next_line_is_kept() -> None:
    note = NoteLines().extend(b"x" * (MAX_LINE_BYTES + 1) + b"\nok\n")
    assert note.lines == [OVERSIZED_LINE, b"ok"]
    note.add(None)  # a line too long to read at all
    assert note.lines == [OVERSIZED_LINE, b"ok"]


def test_a_screen_swaps_junk_for_stand_ins_that_collapse() -> None:
    """G52: junk held as one stand-in per distinct refusal, never the junk itself."""
    note = NoteLines(lambda line: line if line.startswith(b"{") else b"<junk>")
    for i in range(10_000):
        note.add(b"junk %d" % i)
    note.add(b'{"valid": 1}')
    assert note.lines == [b"<junk>", b'{"valid": 1}']


def test_kept_lines_are_bounded_in_total() -> None:
    big = b"y" * (MAX_LINE_BYTES - 10)
    note = NoteLines()
    for i in range(MAX_NOTE_BYTES // len(big) + 2):
        note.add(big + b"%d" % i)
    assert note.lines[-1] == OVERSIZED_NOTE
    assert sum(len(line) for line in note.lines) <= MAX_NOTE_BYTES + len(OVERSIZED_NOTE)


def test_stand_ins_are_bounded_in_total() -> None:
    note = NoteLines(lambda line: b"<refused " + line + b">")
    line = b"z" * 1000
    for i in range(MAX_NOTE_BYTES // 1000 + 10):
        note.add(line + b"%d" % i)
    assert note.lines[-1] == NOT_LISTED
    assert len(note.lines) < MAX_NOTE_BYTES // 1000 + 10
