"""Commit message trailers, as git itself parses them (``git interpret-trailers --parse``).

Git decides what a trailer block is (the last paragraph, the share of trailer lines, the
``(cherry picked from`` and ``Signed-off-by`` exceptions, continuation lines); we never
re-implement it. The parser runs with no repository and no user config: a repository's
``trailer.<alias>.key`` would otherwise rename keys and hide an ``Assisted-by`` trailer.
One process per commit, and only for a message that could hold a trailer at all (a ``:``
after its first line; the separator is pinned to ``:``).
"""

from __future__ import annotations

from collections.abc import Mapping

from provenance.gitio.runner import run_without_repository

_PARSE = ("-c", "trailer.separators=:", "interpret-trailers", "--parse", "--no-divider")


def message_of(raw_commit: bytes) -> bytes:
    """A raw commit object's message (everything after the header block)."""
    return raw_commit.partition(b"\n\n")[2]


def could_have_trailers(message: bytes) -> bool:
    """False only when git could find no ``key: value`` trailer: no ``:`` after the first line.

    Conservative on purpose (git's first paragraph may end at a whitespace-only line).
    """
    return b":" in message.lstrip(b"\n").partition(b"\n")[2]


def parse_trailers(message: bytes) -> list[tuple[str, str]]:
    """(key, value) of each trailer of a commit message, in order (values unfolded)."""
    if not could_have_trailers(message):
        return []
    out = run_without_repository(_PARSE, message)
    pairs = []
    for line in out.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            pairs.append((key.strip(), value.strip()))
    return pairs


def trailers_of(raw_commits: Mapping[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """Trailers of each commit (by id), from its raw object."""
    return {sha: parse_trailers(message_of(raw)) for sha, raw in raw_commits.items()}


__all__ = ["could_have_trailers", "message_of", "parse_trailers", "trailers_of"]
