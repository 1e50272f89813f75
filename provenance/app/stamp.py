"""Stamp: record -> sign -> check -> store one commit's change attestation."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from provenance.app.classification import classification_for
from provenance.app.policy_source import load_policy_at
from provenance.errors import SigningError
from provenance.gitio import Git, read_commit, remote_url, resolve_commit
from provenance.predicates import CHANGE_PREDICATE_TYPE
from provenance.record.change import SessionContext, build_change_predicate
from provenance.sign import SignedLine, build_statement, sign_keyless, sign_with_key
from provenance.store import NotesStore

PENDING_REF = "refs/notes/provenance-pending"


@dataclass(frozen=True)
class SigningOptions:
    """How to sign: a key URI, or keyless with a token and trust config."""

    key: str | None = None
    public_key: Path | None = None
    identity_token: str | None = None
    trust_config: Path | None = None


@dataclass(frozen=True)
class StampResult:
    """What a stamp stored."""

    commit: str
    digest: str
    signer: str
    issuer: str | None
    identity_related: bool
    added: bool


def repository_uri(git: Git, configured: str | None) -> str:
    """The policy's repository URI, else the origin remote, else the local path."""
    return configured or remote_url(git) or f"file://{git.root.parent}"


def sign_statement(statement: bytes, signing: SigningOptions) -> SignedLine:
    """Key-signed when a key is given, otherwise Sigstore keyless."""
    if signing.key:
        return sign_with_key(statement, signing.key, signing.public_key)
    return sign_keyless(statement, token=signing.identity_token, trust_config=signing.trust_config)


def _record_pending(git: Git, sha: str, statement: bytes, error: SigningError) -> None:
    """Leave the commit visibly pending (a separate ref the gate never reads as evidence)."""
    entry = {
        "pending": True,
        "reason": str(error),
        "statement": base64.b64encode(statement).decode(),
    }
    NotesStore(git, PENDING_REF).add(sha, [json.dumps(entry, separators=(",", ":")).encode()])


def stamp(repo: Path, rev: str, session: SessionContext, signing: SigningOptions) -> StampResult:
    """Build, sign, self-check and store the change attestation of ``rev``."""
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    commit = read_commit(git, sha)
    policy = load_policy_at(git, sha)
    rules = policy.policy.identity if policy else None
    repository = repository_uri(git, policy.policy.repository if policy else None)
    predicate = build_change_predicate(
        git, commit, session, repository=repository, classification=classification_for(rules)
    )
    statement = build_statement(commit, repository, CHANGE_PREDICATE_TYPE, predicate)
    try:
        signed = sign_statement(statement, signing)
    except SigningError as e:
        _record_pending(git, sha, statement, e)
        raise
    store = NotesStore(git, policy.policy.notes_ref if policy else NotesStore.default_ref)
    added = store.add(sha, [signed.line]) > 0
    return StampResult(
        commit=sha,
        digest="sha256:" + hashlib.sha256(statement).hexdigest(),
        signer=signed.signer,
        issuer=signed.issuer,
        identity_related=bool(predicate.classifier and predicate.classifier.identity_related),
        added=added,
    )
