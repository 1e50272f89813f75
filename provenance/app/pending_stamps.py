"""Pending stamps: statements whose signing failed or never finished, and completing them.

``refs/notes/provenance-pending`` holds, per commit, JSON lines ``{"pending": true, "reason",
"recorded_at", "statement": base64}``. The gate never reads it as evidence. Completing a
pending commit re-signs the stored statement (so the record keeps the session's times), stores
the signed attestation, and only then removes the pending lines, with the same
compare-and-swap discipline as the notes store. Running it twice does nothing the second time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import random
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from provenance.app.pending_registry import forget, registered_ref
from provenance.app.stamp import (
    PENDING_REF,
    SigningOptions,
    StampResult,
    payload_of,
    record_pending,
    sign_statement,
)
from provenance.errors import GitError, SigningError, StoreError
from provenance.gitio import Git, read_commit
from provenance.predicates import CHANGE_PREDICATE_TYPE, STATEMENT_TYPE, ChangePredicate
from provenance.store import NotesStore

_ZERO = "0" * 40
_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class PendingEntry:
    """One pending statement of one commit, with the latest recorded reason."""

    commit: str
    statement: bytes
    reason: str
    recorded_at: str | None


@dataclass
class Completion:
    """What ``stamp --pending`` did."""

    completed: list[StampResult] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.failed and not self.invalid


def _decode(line: bytes) -> tuple[bytes, str, str | None] | None:
    try:
        entry = json.loads(line)
        statement = base64.b64decode(entry["statement"], validate=True)
        return statement, str(entry.get("reason", "")), entry.get("recorded_at")
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def pending_commits(git: Git) -> dict[str, list[bytes]]:
    """Commit id -> pending lines, for every commit in the pending ref."""
    store = NotesStore(git, PENDING_REF)
    if store.tip() is None:
        return {}
    listed = git.out("notes", f"--ref={PENDING_REF}", "list").decode().split()
    return store.read_many(listed[1::2])


def list_pending(git: Git) -> list[PendingEntry]:
    """Every distinct pending statement (unreadable lines are skipped, never signed)."""
    out: list[PendingEntry] = []
    for sha, lines in pending_commits(git).items():
        latest: dict[bytes, PendingEntry] = {}
        for line in lines:
            decoded = _decode(line)
            if decoded is not None:
                statement, reason, recorded = decoded
                latest[statement] = PendingEntry(sha, statement, reason, recorded)
        out.extend(latest.values())
    return out


def remove_pending(git: Git, drop: dict[str, set[bytes] | None]) -> int:
    """Remove, per commit, the lines carrying one of the given statements (``None``: all).

    Their registry entries go too (G62h): a completed statement needs none.
    """
    if not drop or NotesStore(git, PENDING_REF).tip() is None:
        return 0
    for attempt in range(_MAX_ATTEMPTS):
        old = NotesStore(git, PENDING_REF).tip()
        if old is None:
            return 0
        tmp = f"refs/notes/provenance-tmp/{os.getpid()}-{uuid.uuid4().hex}"
        git.out("update-ref", "--no-deref", tmp, old, _ZERO)
        try:
            removed, statements = _drop_lines(git, tmp, drop)
            if removed == 0:
                return 0
            new = git.out("rev-parse", "--verify", tmp).decode().strip()
            proc = git.run(
                "update-ref",
                "--no-deref",
                "-m",
                "provenance: pending completed",
                PENDING_REF,
                new,
                old,
                check=False,
            )
            if proc.returncode == 0:
                forget(git, statements)
                return removed
        finally:
            git.run("update-ref", "--no-deref", "-d", tmp, check=False)
        time.sleep(min(0.5, 0.005 * (attempt + 1)) * random.random())  # noqa: S311
    raise StoreError(f"could not update {PENDING_REF}: too much concurrent writing")


def _drop_lines(git: Git, ref: str, drop: dict[str, set[bytes] | None]) -> tuple[int, list[bytes]]:
    removed = 0
    gone: list[bytes] = []
    for sha, lines in NotesStore(git, ref).read_many(list(drop)).items():
        statements = drop[sha]
        keep = [
            ln
            for ln in lines
            if statements is not None and (_decode(ln) or (b"",))[0] not in statements
        ]
        if len(keep) == len(lines):
            continue
        gone += [d[0] for ln in lines if ln not in keep and (d := _decode(ln)) and d[0]]
        removed += len(lines) - len(keep)
        if keep:
            blob = git.out("hash-object", "-w", "--stdin", input=b"\n".join(keep) + b"\n")
            git.out("notes", f"--ref={ref}", "add", "-f", "-C", blob.decode().strip(), sha)
        else:
            git.out("notes", f"--ref={ref}", "remove", "--ignore-missing", sha)
    return removed, gone


def clear_pending(git: Git, commits: Iterable[str]) -> int:
    """The commits have a stored attestation now: they are pending no more."""
    return remove_pending(git, dict.fromkeys(commits))


def check_statement(git: Git, sha: str, statement: bytes) -> str | None:
    """Why a pending statement must not be signed for ``sha`` (``None``: it may).

    The pending ref is not evidence and anyone who can write refs can write it, so a stored
    statement is re-signed only when it is a change statement about exactly this commit.
    """
    try:
        commit = read_commit(git, sha)
    except GitError:
        return "the commit no longer exists in this repository"
    try:
        data = json.loads(statement)
        subjects = data["subject"]
        ok_shape = (
            data["_type"] == STATEMENT_TYPE
            and data["predicateType"] == CHANGE_PREDICATE_TYPE
            and len(subjects) == 1
            and subjects[0]["digest"] == {"sha256": commit.digest}
        )
        predicate = ChangePredicate.model_validate(data["predicate"])
    except (ValueError, KeyError, TypeError, IndexError, ValidationError):
        return "the pending statement is malformed"
    if not ok_shape or predicate.commit.sha != sha:
        return "the pending statement is not a change statement about this commit"
    return None


def complete_pending(repo: Path, signing: SigningOptions) -> Completion:
    """Sign and store every pending statement; stop at the first signing failure."""
    git = Git.discover(repo)
    result = Completion()
    failure: str | None = None
    by_commit: dict[str, list[PendingEntry]] = {}
    for entry in list_pending(git):
        by_commit.setdefault(entry.commit, []).append(entry)
    for sha, entries in by_commit.items():
        done: set[bytes] = set()
        for entry in entries:
            if failure is not None:
                result.failed.append((sha, f"not attempted after: {failure}"))
                continue
            problem = check_statement(git, sha, entry.statement)
            notes_ref = registered_ref(git, entry.statement)
            if problem is None and notes_ref is None:
                problem = (
                    "provenance did not record this pending statement here (it may have been "
                    "written by someone else into the repository)"
                )
            elif problem is None and not notes_ref:
                problem = "it was recorded without the notes ref its attestation belongs in"
            if problem is not None or not notes_ref:
                result.invalid.append((sha, problem or "no notes ref recorded"))
                continue
            # Where the session meant it to go (G62a), never the policy of the agent's commit.
            store = NotesStore(git, notes_ref)
            if any(payload_of(line) == entry.statement for line in store.read(sha)):
                done.add(entry.statement)
                result.already_stored.append(sha)
                continue
            try:
                signed = sign_statement(entry.statement, signing)
            except SigningError as e:
                failure = str(e)
                record_pending(git, {sha: (entry.statement, failure)}, notes_ref)
                result.failed.append((sha, failure))
                continue
            added = store.add(sha, [signed.line]) > 0
            done.add(entry.statement)
            result.completed.append(
                StampResult(
                    sha,
                    _digest(entry.statement),
                    signed.signer,
                    signed.issuer,
                    _identity_related(entry.statement),
                    added,
                )
            )
        if done:
            remove_pending(git, {sha: done})
    return result


def _digest(statement: bytes) -> str:
    return "sha256:" + hashlib.sha256(statement).hexdigest()


def _identity_related(statement: bytes) -> bool:
    classifier = json.loads(statement).get("predicate", {}).get("classifier") or {}
    return bool(classifier.get("identity_related"))
