"""Attestation stores: git notes (default) and evidence-pack directories; notes sync."""

from provenance.store.directory import DirectoryStore, PackError
from provenance.store.interface import (
    MAX_LINE_BYTES,
    MAX_LINES_PER_COMMIT,
    MAX_NOTE_BYTES,
    NOT_LISTED,
    OVERSIZED_LINE,
    OVERSIZED_NOTE,
    AttestationStore,
    LineScreen,
    MemoryStore,
    NoteLines,
    StoreUnavailable,
)
from provenance.store.notes import DEFAULT_NOTES_REF, NotesStore

__all__ = [
    "DEFAULT_NOTES_REF",
    "MAX_LINES_PER_COMMIT",
    "MAX_LINE_BYTES",
    "MAX_NOTE_BYTES",
    "NOT_LISTED",
    "OVERSIZED_LINE",
    "OVERSIZED_NOTE",
    "AttestationStore",
    "DirectoryStore",
    "LineScreen",
    "MemoryStore",
    "NoteLines",
    "NotesStore",
    "PackError",
    "StoreUnavailable",
]
