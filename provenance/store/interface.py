"""The attestation store boundary: an abstract base, a registry by URI scheme, a memory fake."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence

from provenance.errors import StoreError

#: Upper bounds a reader enforces before anything is parsed (THREATS.md A6).
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_LINES_PER_COMMIT = 512


class StoreUnavailable(StoreError):
    """The store holds no attestations at all (e.g. the notes ref was never fetched)."""


class AttestationStore(ABC):
    """Attestations keyed by commit id, one opaque line each, append-only and idempotent."""

    uri: str

    @abstractmethod
    def available(self) -> bool:
        """True when the store exists (an empty but present store is available)."""

    @abstractmethod
    def read_many(self, commits: Iterable[str]) -> dict[str, list[bytes]]:
        """Lines stored for each commit (missing commits map to an empty list)."""

    @abstractmethod
    def add_many(self, items: dict[str, Sequence[bytes]]) -> int:
        """Append lines per commit; lines already present are skipped. Returns lines added."""

    def read(self, commit: str) -> list[bytes]:
        """Lines stored for one commit."""
        return self.read_many([commit])[commit]

    def add(self, commit: str, lines: Sequence[bytes]) -> int:
        """Append lines for one commit."""
        return self.add_many({commit: lines})


def split_lines(blob: bytes) -> list[bytes]:
    """Non-empty lines of a note blob, in order, duplicates removed."""
    seen: set[bytes] = set()
    out: list[bytes] = []
    for line in blob.split(b"\n"):
        line = line.strip(b"\r")
        if line and line not in seen:
            seen.add(line)
            out.append(line)
    return out


def merge_lines(existing: Sequence[bytes], new: Sequence[bytes]) -> list[bytes]:
    """Union preserving order: existing lines first, then new ones not yet present."""
    out = list(existing)
    seen = set(existing)
    for line in new:
        if b"\n" in line or not line:
            raise StoreError("an attestation line must be non-empty and contain no newline")
        if line not in seen:
            seen.add(line)
            out.append(line)
    return out


class MemoryStore(AttestationStore):
    """In-memory store for tests of code that only needs the interface."""

    def __init__(self, *, present: bool = True) -> None:
        self.uri = "memory:"
        self._present = present
        self._lines: dict[str, list[bytes]] = {}
        self._lock = threading.Lock()

    def available(self) -> bool:
        return self._present

    def read_many(self, commits: Iterable[str]) -> dict[str, list[bytes]]:
        with self._lock:
            return {c: list(self._lines.get(c, [])) for c in commits}

    def add_many(self, items: dict[str, Sequence[bytes]]) -> int:
        added = 0
        with self._lock:
            self._present = True
            for commit, lines in items.items():
                before = self._lines.get(commit, [])
                after = merge_lines(before, lines)
                added += len(after) - len(before)
                self._lines[commit] = after
        return added


#: Store factories by URI scheme; ``git-notes:REF`` is the default store.
STORE_FOR_SCHEME: dict[str, Callable[[str, object], AttestationStore]] = {}
