"""The attestation store boundary: an abstract base, a registry by URI scheme, a memory fake."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence

from provenance.errors import StoreError

#: Upper bounds a reader enforces before anything is parsed (THREATS.md A6).
MAX_LINE_BYTES = 4 * 1024 * 1024
#: Lines that may count (what a screen keeps) per commit, and their total size (G52).
MAX_LINES_PER_COMMIT = 512
MAX_NOTE_BYTES = 64 * 1024 * 1024
#: Stand-ins a reader puts where it keeps no line (never valid JSON, so always refused).
OVERSIZED_LINE = b"<oversized line>"
OVERSIZED_NOTE = b"<oversized note>"
NOT_LISTED = b"<refused lines not listed>"

#: Applied to each line as a note is read: the line itself to keep it, or a short stand-in
#: (a refusal the verifier can report) so junk costs no memory and never counts (G52).
LineScreen = Callable[[bytes], bytes]


class NoteLines:
    """One note's lines, collected within bounded memory (THREATS.md A6, G52).

    Lines longer than ``MAX_LINE_BYTES`` become ``OVERSIZED_LINE``; a ``screen`` may swap a
    line for a stand-in. Duplicates collapse. Kept lines beyond ``MAX_NOTE_BYTES`` in total
    end the note with ``OVERSIZED_NOTE``; stand-ins beyond it collapse into ``NOT_LISTED``.
    """

    def __init__(self, screen: LineScreen | None = None) -> None:
        self.lines: list[bytes] = []
        self._seen: set[bytes] = set()
        self._screen = screen
        self._kept = self._swapped = 0

    def add(self, raw: bytes | None) -> None:
        """One line as read (``None``: it was too long to read)."""
        line = b"" if raw is None else raw.strip(b"\r")
        if raw is not None and not line:
            return
        if raw is None or len(line) > MAX_LINE_BYTES:
            self._append(OVERSIZED_LINE)
            return
        if self._screen is not None:
            screened = self._screen(line)
            if screened != line:  # a stand-in: it never counts, and is bounded in total
                self._swapped += len(screened)
                self._append(screened if self._swapped <= MAX_NOTE_BYTES else NOT_LISTED)
                return
        if line in self._seen:
            return
        self._kept += len(line)
        self._append(line if self._kept <= MAX_NOTE_BYTES else OVERSIZED_NOTE)

    def _append(self, line: bytes) -> None:
        if line not in self._seen:
            self._seen.add(line)
            self.lines.append(line)

    def extend(self, blob: bytes) -> NoteLines:
        """Every line of a blob held in memory."""
        for line in blob.split(b"\n"):
            self.add(line)
        return self


class StoreUnavailable(StoreError):
    """The store holds no attestations at all (e.g. the notes ref was never fetched)."""


class AttestationStore(ABC):
    """Attestations keyed by commit id, one opaque line each, append-only and idempotent."""

    uri: str

    @abstractmethod
    def available(self) -> bool:
        """True when the store exists (an empty but present store is available)."""

    @abstractmethod
    def read_many(
        self, commits: Iterable[str], screen: LineScreen | None = None
    ) -> dict[str, list[bytes]]:
        """Lines stored for each commit (missing commits map to an empty list).

        Memory is bounded as :class:`NoteLines` describes; ``screen`` is applied to each line.
        """

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

    def read_many(
        self, commits: Iterable[str], screen: LineScreen | None = None
    ) -> dict[str, list[bytes]]:
        with self._lock:
            stored = {c: list(self._lines.get(c, [])) for c in commits}
        return {c: NoteLines(screen).extend(b"\n".join(ls)).lines for c, ls in stored.items()}

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


#: Store factories by URI scheme (``git-notes:REF``, ``dir:PATH``), each given the rest of
#: the URI and the repository (:func:`open_store`). A new backend registers itself here.
STORE_FOR_SCHEME: dict[str, Callable[[str, object], AttestationStore]] = {}


def open_store(uri: str, git: object) -> AttestationStore:
    """The store a URI names (``git-notes:refs/notes/provenance``, ``dir:PATH``)."""
    scheme, _, rest = uri.partition(":")
    factory = STORE_FOR_SCHEME.get(scheme)
    if factory is None or not rest:
        raise StoreError(
            f"no attestation store for {uri!r}",
            hint=f"use one of: {', '.join(f'{s}:...' for s in sorted(STORE_FOR_SCHEME))}",
        )
    return factory(rest, git)
