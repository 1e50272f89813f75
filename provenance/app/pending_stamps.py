"""``stamp --pending``: complete the statements whose signing failed or never finished.

The pending ref and its registry are the store's (:mod:`provenance.store.pending`).
Completing a pending commit re-signs the stored statement (so the record keeps the
session's times), stores the signed attestation, and only then removes the pending lines.
Running it twice does nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from provenance.app.stamp import StampResult, payload_of, sign_and_store
from provenance.errors import GitError, SigningError
from provenance.gitio import Git, read_commit
from provenance.predicates import CHANGE_PREDICATE_TYPE, STATEMENT_TYPE, ChangePredicate
from provenance.sign.signing import SigningOptions
from provenance.store import NotesStore
from provenance.store.pending import PendingEntry, list_pending, record_pending, remove_pending
from provenance.store.registry import registered_ref

_MAX_ATTEMPTS = 200


@dataclass
class Completion:
    """What ``stamp --pending`` did."""

    completed: list[StampResult] = field(default_factory=list)
    already_stored: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    invalid: list[tuple[str, str]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.failed and not self.invalid


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
                signed, added = sign_and_store(git, sha, entry.statement, notes_ref, signing)
            except SigningError as e:
                failure = str(e)
                record_pending(git, {sha: (entry.statement, failure)}, notes_ref)
                result.failed.append((sha, failure))
                continue
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
