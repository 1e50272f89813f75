"""Attestation stores: git notes (default) and evidence-pack directories; notes sync.

:mod:`~provenance.store.interface` is the boundary (``AttestationStore``, the bounded line
reader ``NoteLines``, a memory fake, stores opened by URI scheme with ``open_store``);
:mod:`~provenance.store.notes` the git-notes store (``NotesStore.of_policy`` opens the one a
policy names); :mod:`~provenance.store.directory` evidence packs;
:mod:`~provenance.store.refs` the one compare-and-swap every ref update goes through;
:mod:`~provenance.store.pending` the pending ref and :mod:`~provenance.store.registry` its
private registry; :mod:`~provenance.store.sync` union sync with a remote.
"""

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
    open_store,
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
    "open_store",
]
