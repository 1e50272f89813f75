"""Attestation stores: git notes (default) and, later, evidence-pack directories."""

from provenance.store.interface import (
    MAX_LINE_BYTES,
    MAX_LINES_PER_COMMIT,
    AttestationStore,
    MemoryStore,
    StoreUnavailable,
)
from provenance.store.notes import DEFAULT_NOTES_REF, NotesStore

__all__ = [
    "DEFAULT_NOTES_REF",
    "MAX_LINES_PER_COMMIT",
    "MAX_LINE_BYTES",
    "AttestationStore",
    "MemoryStore",
    "NotesStore",
    "StoreUnavailable",
]
