"""Stamp: record -> sign -> check -> store one commit's change attestation."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from provenance.app.policy_source import load_policy_at
from provenance.classify.configured import Classification, classification_for
from provenance.errors import SigningError, StoreError
from provenance.gitio import Git, read_commit, remote_url, resolve_commit
from provenance.policy import IdentityRules, LoadedPolicy
from provenance.predicates import CHANGE_PREDICATE_TYPE
from provenance.record.capture import agent_config_at
from provenance.record.change import SessionContext, build_change_predicate
from provenance.sign.signing import PinnedSigning, SigningOptions, sign
from provenance.store import NotesStore
from provenance.store.pending import clear_pending, record_pending

if TYPE_CHECKING:
    from provenance.sign.statement import SignedLine


@dataclass(frozen=True)
class StampResult:
    """What a stamp stored."""

    commit: str
    digest: str
    signer: str
    issuer: str | None
    identity_related: bool
    added: bool


@dataclass(frozen=True)
class Prepared:
    """A commit's statement, built and ready to sign, and where its attestation goes."""

    commit: str
    statement: bytes
    notes_ref: str
    identity_related: bool

    @property
    def digest(self) -> str:
        """``sha256:`` of the statement bytes (what the CLI prints)."""
        return "sha256:" + hashlib.sha256(self.statement).hexdigest()


def work_tree(git: Git) -> Path | None:
    """The work tree of a repository opened by its git dir (``None`` when bare)."""
    return git.work_tree()


def repository_uri(git: Git, configured: str | None) -> str:
    """The policy's repository URI, else the origin remote, else the local path."""
    return configured or remote_url(git) or f"file://{git.root.parent}"


def confirm_stored(git: Git, notes_ref: str, statements: dict[str, bytes]) -> list[str]:
    """Commits whose just-stored attestation of ``statements[commit]`` is not in ``notes_ref``.

    Checked after the pending entries are cleared (THREATS.md G59): clearing through a ref
    that is not what it seems must never go unnoticed.
    """
    if not statements:
        return []
    stored = NotesStore(git, notes_ref).read_many(list(statements))
    return [
        c
        for c, statement in statements.items()
        if not any(payload_of(line) == statement for line in stored.get(c, []))
    ]


class Preparer:
    """Builds statements for many commits, reusing classifiers across commits."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self._classifiers: dict[str, Classification] = {}

    def _classification(self, policy: LoadedPolicy | None) -> Classification:
        key = policy.digest if policy else ""
        if key not in self._classifiers:
            rules: IdentityRules | None = policy.policy.identity if policy else None
            self._classifiers[key] = classification_for(rules)
        return self._classifiers[key]

    def repository(self, rev: str) -> str:
        """The repository URI recorded for commits at ``rev``."""
        policy = load_policy_at(self.git, rev)
        return repository_uri(self.git, policy.policy.repository if policy else None)

    def prepare(self, sha: str, session: SessionContext) -> Prepared:
        """Record the commit (policy and agent configuration as of that commit)."""
        commit = read_commit(self.git, sha)
        policy = load_policy_at(self.git, sha)
        repository = repository_uri(self.git, policy.policy.repository if policy else None)
        predicate = build_change_predicate(
            self.git,
            commit,
            session,
            repository=repository,
            classification=self._classification(policy),
            agent_config=agent_config_at(self.git, sha),
        )
        from provenance.sign import build_statement

        statement = build_statement(commit, repository, CHANGE_PREDICATE_TYPE, predicate)
        return Prepared(
            commit=sha,
            statement=statement,
            notes_ref=policy.policy.notes_ref if policy else NotesStore.default_ref,
            identity_related=bool(predicate.classifier and predicate.classifier.identity_related),
        )


def sign_and_store(
    git: Git,
    commit: str,
    statement: bytes,
    notes_ref: str,
    signing: SigningOptions | PinnedSigning,
    *,
    while_signing: AbstractContextManager[object] | None = None,
) -> tuple[SignedLine, bool]:
    """Sign ``statement``, then store the line on ``commit`` in ``notes_ref``.

    The one sign-then-store of every use case (stamp, run, stamp --pending, approve); what a
    failure leaves behind (a pending entry, or nothing) is the caller's to decide.
    ``while_signing`` wraps the signing only (the agent wrapper puts the credential back in
    its environment there, and no git process is started inside). Returns the signed line
    and whether it was new in the store.
    """
    with while_signing if while_signing is not None else contextlib.nullcontext():
        signed = sign(statement, signing)
    return signed, NotesStore(git, notes_ref).add(commit, [signed.line]) > 0


def stamp_prepared(git: Git, prepared: Prepared, signing: SigningOptions) -> StampResult:
    """Sign and store a prepared statement; on a signing failure record it pending, re-raise."""
    try:
        signed, added = sign_and_store(
            git, prepared.commit, prepared.statement, prepared.notes_ref, signing
        )
    except SigningError as e:
        record_pending(git, {prepared.commit: (prepared.statement, str(e))}, prepared.notes_ref)
        raise SigningError(
            f"{e}; commit {prepared.commit[:12]} is now pending (nothing unsigned was stored)",
            hint=f"{e.hint + '; then ' if e.hint else ''}"
            "run `provenance stamp --pending` with a working credential to sign it",
        ) from e
    return StampResult(
        commit=prepared.commit,
        digest=prepared.digest,
        signer=signed.signer,
        issuer=signed.issuer,
        identity_related=prepared.identity_related,
        added=added,
    )


def stamp(repo: Path, rev: str, session: SessionContext, signing: SigningOptions) -> StampResult:
    """Build, sign, self-check and store the change attestation of ``rev``.

    A commit left pending by an earlier failure stops being pending once this succeeds.
    """
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    prepared = Preparer(git).prepare(sha, session)
    result = stamp_prepared(git, prepared, signing)
    with contextlib.suppress(StoreError):  # the attestation is stored: it wins
        clear_pending(git, [sha])
    if confirm_stored(git, prepared.notes_ref, {sha: prepared.statement}):
        raise StoreError(
            f"the attestation of {sha[:12]} is not in {prepared.notes_ref} after storing it",
            hint="check the notes refs for symbolic refs or concurrent rewrites, then stamp again",
        )
    return result


def payload_of(line: bytes) -> bytes | None:
    """The DSSE payload of a stored bundle or envelope line (unverified; only to find ours)."""
    try:
        data = json.loads(line)
        envelope = data.get("dsseEnvelope", data)
        return base64.b64decode(envelope["payload"])
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None
