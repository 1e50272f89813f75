"""``provenance revoke``: add an entry to the work tree's ``.provenance/revocations.toml``.

The entry is appended as text (the file's comments and order stay as the user wrote them),
the whole new text is parsed before it is written, and the write is atomic (a temporary
file in the same directory, fsync, rename) under an exclusive lock on the directory, so two
revokers never lose an entry. The user reviews and commits the file: the gate reads it from
BASE, so a revocation takes effect for ranges whose BASE contains it.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from provenance.errors import PolicyInvalid, UsageError
from provenance.gitio import Git
from provenance.reasons import Reason
from provenance.revocations import (
    REVOCATIONS_PATH,
    TEMPLATE_HEAD,
    Revocation,
    entry_id,
    parse_revocations,
    render_entry,
)
from provenance.safefiles import atomic_write


@dataclass(frozen=True)
class Revoked:
    """What ``revoke`` wrote: the file and the entry."""

    path: Path
    entry: Revocation


def build_entry(
    cause: str,
    value: str,
    reason: str,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    reference: str | None = None,
    issuer: str | None = None,
    rid: str | None = None,
) -> Revocation:
    """A validated entry (the same model the gate reads); its id derived when not given."""
    fields: dict[str, object] = {
        "id": rid or entry_id(cause, value, start, end),
        cause: value,
        "from": start,
        "until": end,
        "reason": reason,
        "reference": reference,
        "issuer": issuer,
    }
    try:
        return Revocation.model_validate({k: v for k, v in fields.items() if v is not None})
    except ValidationError as e:
        problems = "; ".join(err["msg"] for err in e.errors())
        raise UsageError(f"not a valid revocation: {problems}") from e


def revoke(repo: Path, entry: Revocation) -> Revoked:
    """Append ``entry`` to the work tree's revocations file (created when absent)."""
    top = Git.discover(repo).work_tree()
    if top is None:
        raise UsageError("revoke needs a work tree (this repository is bare)")
    target = top / REVOCATIONS_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UsageError(f"{target} is not a plain file; refusing to write through it")
        old = target.read_text(encoding="utf-8") if target.exists() else TEMPLATE_HEAD
        current = parse_revocations(old, source=str(target))  # refuse to build on a bad file
        if current.by_id(entry.id) is not None:
            raise UsageError(f"{target} already has an entry {entry.id!r}", hint="pass --id")
        text = old + ("" if old.endswith("\n") else "\n") + "\n" + render_entry(entry)
        written = parse_revocations(text, source=str(target))
        if written.revocation[-1] != entry:  # what we write is what the gate will read
            raise PolicyInvalid(Reason.REVOCATION_INVALID, "the entry did not round-trip")
        atomic_write(target, text.encode("utf-8"))
    finally:
        os.close(lock)
    return Revoked(target, entry)


__all__ = ["Revoked", "build_entry", "revoke"]
