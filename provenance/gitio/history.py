"""``git log`` and ``git blame`` read as records: who changed what, for the auditor's views.

Revisions come in resolved to full commit ids (never git's guess, THREATS.md G42); paths are
passed after ``--``. Text fields are decoded leniently: they are shown, never trusted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from provenance.gitio.runner import Git

_PORCELAIN_HEADER = re.compile(rb"^([0-9a-f]{40}|[0-9a-f]{64}) \d+ (\d+)(?: \d+)?$")


class LogRecord(NamedTuple):
    """One commit as ``git log`` shows it."""

    commit: str
    author: str
    date: str
    subject: str


class BlamedLine(NamedTuple):
    """One line of a file and the commit that last changed it."""

    line: int
    commit: str
    text: str


def log_records(
    git: Git, revisions: Sequence[str], max_count: int | None = None
) -> list[LogRecord]:
    """``git log`` of resolved ``revisions`` (``^id`` excludes), newest first."""
    args = ["log", "-z", "--format=%H%x1f%an <%ae>%x1f%aI%x1f%s"]
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    out = git.out(*args, "--end-of-options", *revisions, "--")
    records = [r.split(b"\x1f") for r in out.split(b"\0") if r.strip()]
    return [
        LogRecord(
            sha.decode().strip(),
            author.decode(errors="replace"),
            date.decode(),
            subject.decode(errors="replace"),
        )
        for sha, author, date, subject in records
    ]


def path_exists(git: Git, commit: str, path: str) -> bool:
    """Does ``path`` exist in ``commit``'s tree?"""
    return git.run("cat-file", "-e", f"{commit}:{path}", check=False).returncode == 0


def blame_lines(git: Git, commit: str, path: str) -> list[BlamedLine]:
    """``git blame --porcelain`` of ``path`` at ``commit``: each line and its last commit."""
    out = git.out("blame", "--porcelain", commit, "--", path)
    rows: list[BlamedLine] = []
    current: tuple[str, int] | None = None
    for raw in out.split(b"\n"):
        header = _PORCELAIN_HEADER.match(raw)
        if header:
            current = (header.group(1).decode(), int(header.group(2)))
        elif raw.startswith(b"\t") and current is not None:
            rows.append(BlamedLine(current[1], current[0], raw[1:].decode(errors="replace")))
            current = None
    return rows


__all__ = ["BlamedLine", "LogRecord", "blame_lines", "log_records", "path_exists"]
