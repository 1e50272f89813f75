"""The pending ref: statements whose signing failed or never finished, visibly not evidence.

``refs/notes/provenance-pending`` holds, per commit, JSON lines ``{"pending": true, "reason",
"recorded_at", "statement": base64}``. The gate never reads it as evidence; it only renames
a missing attestation ``attestation_pending``. Recording a statement also registers it in the
private registry (:mod:`provenance.store.registry`), so ``stamp --pending`` signs only what
provenance itself recorded. Lines leave by compare-and-swap, with their registry entries.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from provenance.errors import StoreError
from provenance.gitio.runner import Git
from provenance.policy import PENDING_NOTES_REF
from provenance.store.notes import NotesStore
from provenance.store.refs import rounds
from provenance.store.registry import forget, register

PENDING_REF = PENDING_NOTES_REF
_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class PendingEntry:
    """One pending statement of one commit, with the latest recorded reason."""

    commit: str
    statement: bytes
    reason: str
    recorded_at: str | None


def pending_line(statement: bytes, reason: str) -> bytes:
    """One line of the pending ref: the unsigned statement and why it is unsigned."""
    entry = {
        "pending": True,
        "reason": reason,
        "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "statement": base64.b64encode(statement).decode(),
    }
    return json.dumps(entry, separators=(",", ":")).encode()


def decode(line: bytes) -> tuple[bytes, str, str | None] | None:
    """(statement, reason, recorded_at) of a pending line; ``None`` when it is not one."""
    try:
        entry = json.loads(line)
        statement = base64.b64decode(entry["statement"], validate=True)
        return statement, str(entry.get("reason", "")), entry.get("recorded_at")
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def record_pending(git: Git, items: dict[str, tuple[bytes, str]], notes_ref: str) -> None:
    """Leave commits visibly pending (a separate ref the gate never reads as evidence).

    ``notes_ref`` is where their attestations must be stored once signed; it is kept in the
    private registry, never read back from the repository.
    """
    lines: dict[str, Sequence[bytes]] = {
        sha: [pending_line(statement, reason)] for sha, (statement, reason) in items.items()
    }
    if lines:
        # registered first: a statement missing from the registry is never signed later
        register(git, [statement for statement, _ in items.values()], notes_ref)
        NotesStore(git, PENDING_REF).add_many(lines)


def pending_commits(git: Git) -> dict[str, list[bytes]]:
    """Commit id -> pending lines, for every commit in the pending ref."""
    store = NotesStore(git, PENDING_REF)
    return store.read_many(store.note_blobs())


def pending_ids(git: Git) -> set[str]:
    """Commits with an entry in the pending ref; a broken ref reads as none.

    For the gate, which only renames a refusal with it: nothing passes by a broken ref.
    """
    try:
        return set(NotesStore(git, PENDING_REF).note_blobs())
    except StoreError:
        return set()


def list_pending(git: Git) -> list[PendingEntry]:
    """Every distinct pending statement (unreadable lines are skipped, never signed)."""
    out: list[PendingEntry] = []
    for sha, lines in pending_commits(git).items():
        latest: dict[bytes, PendingEntry] = {}
        for line in lines:
            decoded = decode(line)
            if decoded is not None:
                statement, reason, recorded = decoded
                latest[statement] = PendingEntry(sha, statement, reason, recorded)
        out.extend(latest.values())
    return out


def _kept(lines: list[bytes], statements: set[bytes] | None) -> list[bytes]:
    """The lines to keep when dropping ``statements`` (``None``: drop every line)."""
    if statements is None:
        return []
    return [ln for ln in lines if (decode(ln) or (b"",))[0] not in statements]


def remove_pending(git: Git, drop: dict[str, set[bytes] | None]) -> int:
    """Remove, per commit, the lines carrying one of the given statements (``None``: all).

    Their registry entries go too (G62h): a completed statement needs none.
    """
    store = NotesStore(git, PENDING_REF)
    for _attempt in rounds(PENDING_REF, _MAX_ATTEMPTS):
        old = store.tip()
        if old is None or not drop:
            return 0
        writes: dict[str, str | None] = {}
        removed, gone = 0, []
        for sha, lines in store.read_many(list(drop)).items():
            keep = _kept(lines, drop[sha])
            if len(keep) == len(lines):
                continue
            removed += len(lines) - len(keep)
            gone += [d[0] for ln in lines if ln not in keep and (d := decode(ln)) and d[0]]
            writes[sha] = store.write_note(keep) if keep else None
        if not writes:
            return 0
        if store.replace_notes(old, writes, "provenance: pending completed"):
            forget(git, gone)
            return removed
    raise AssertionError("unreachable: rounds() raises when attempts run out")


def clear_pending(git: Git, commits: Iterable[str]) -> int:
    """The commits have a stored attestation now: they are pending no more."""
    return remove_pending(git, dict.fromkeys(commits))


__all__ = [
    "PENDING_REF",
    "PendingEntry",
    "clear_pending",
    "decode",
    "list_pending",
    "pending_commits",
    "pending_ids",
    "pending_line",
    "record_pending",
    "remove_pending",
]
