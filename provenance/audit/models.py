"""Index rows (pydantic, frozen): what one verified attestation contributes, and query answers."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from provenance.predicates import ApprovalPredicate

if TYPE_CHECKING:  # queries never load the verifier (nor sigstore)
    from provenance.verify.attestation import AttestationResult


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SkillRow(_Row):
    """A skill package named by a change attestation."""

    name: str
    uri: str | None = None
    version: str | None = None
    digest: str | None = None  # "sha256:<hex>"


class PathRow(_Row):
    """A changed path and the classifier rules that fired on it."""

    path: str
    old_path: str | None = None
    status: str
    rules: tuple[str, ...] = ()


class AttestationRow(_Row):
    """One stored line that verified on ingest, with the facts it proves.

    ``signed_time`` is the time sigstore verified (SET or TSA); ``claimed_time`` is the
    predicate's own ``stamped_at``/``decided_at`` (signed, but not independently timestamped).
    """

    line_digest: str
    commit: str
    kind: Literal["change", "approval"]
    payload_digest: str
    format: str
    signer: str | None = None
    issuer: str | None = None
    signed_time: datetime | None = None
    claimed_time: datetime | None = None
    verified_at: datetime
    trust_root_digest: str | None = None
    policy_digest: str
    change_signer: bool = False
    approver: str | None = None
    predicate_type: str
    agent: str | None = None
    agent_version: str | None = None
    model: str | None = None
    session_id: str | None = None
    prompter: str | None = None
    #: Who signed the prompt attestation, when it bound (a ``prompter`` revocation matches it).
    signed_prompter: str | None = None
    #: The repository the signed predicate names (the index's own id is the run's).
    claimed_repository: str | None = None
    identity_related: bool | None = None
    skills: tuple[SkillRow, ...] = ()
    paths: tuple[PathRow, ...] = ()
    decision: str | None = None
    approves: str | None = None
    comment: str | None = None

    @classmethod
    def from_result(
        cls,
        line: bytes,
        commit: str,
        result: AttestationResult,
        *,
        verified_at: datetime,
        trust_root_digest: str | None,
        policy_digest: str,
    ) -> AttestationRow:
        """Row for a line whose :class:`AttestationResult` is ``ok`` (change or approval)."""
        if not result.ok or result.kind == "unknown" or result.predicate is None:
            raise ValueError("only verified change or approval attestations are indexed")
        common: dict[str, Any] = {
            "line_digest": line_digest(line),
            "commit": commit,
            "kind": result.kind,
            "payload_digest": str(result.digest),
            "format": str(result.format),
            "signer": result.signer,
            "issuer": result.issuer,
            "signed_time": result.signed_time,
            "verified_at": verified_at,
            "trust_root_digest": trust_root_digest,
            "policy_digest": policy_digest,
            "change_signer": result.change_signer,
            "approver": result.approver,
            "predicate_type": str(result.predicate_type),
        }
        p = result.predicate
        if isinstance(p, ApprovalPredicate):
            return cls(
                **common,
                claimed_time=_utc(p.decided_at),
                decision=p.decision,
                approves=p.change_attestation.get("sha256"),
                comment=p.comment,
            )
        return cls(
            **common,
            claimed_time=_utc(p.stamped_at),
            agent=p.agent.tool,
            agent_version=p.agent.version,
            model=p.agent.model,
            session_id=p.agent.session_id,
            prompter=p.prompter,
            signed_prompter=_signed_prompter(result),
            claimed_repository=p.repository.uri,
            identity_related=p.classifier.identity_related if p.classifier else None,
            skills=tuple(
                SkillRow(
                    name=s.name,
                    uri=s.uri,
                    version=s.version,
                    digest=f"sha256:{s.digest['sha256']}" if s.digest.get("sha256") else None,
                )
                for s in p.skills
            ),
            paths=tuple(
                PathRow(path=c.path, old_path=c.old_path, status=c.status, rules=tuple(c.rules))
                for c in p.changes
            ),
        )


class RefusedLine(_Row):
    """A stored line that did not verify: remembered so re-runs skip it, never queried."""

    line_digest: str
    commit: str
    reasons: tuple[str, ...]


class Hit(NamedTuple):
    """One answer to a query: a verified change attestation and its commit's standing.

    Answers are immutable named tuples, not pydantic models: a broad query builds tens of
    thousands of them from the index's own typed columns, where validation or a frozen
    dataclass's ``__init__`` would cost more than reading the rows.
    """

    commit: str
    signed_time: datetime | None
    agent: str | None
    agent_version: str | None
    model: str | None
    prompter: str | None
    session_id: str | None
    signer: str | None
    issuer: str | None
    skills: tuple[str, ...]
    paths: tuple[str, ...]
    rules: tuple[str, ...]
    approvers: tuple[str, ...]
    status: str
    reasons: tuple[str, ...]
    attestation: str
    trust_root_digest: str | None
    verified_at: datetime
    #: The index's id of the repository (canonical remote URL or ``--repository-id``).
    repository: str
    #: The policy this attestation was verified and its commit decided with.
    policy_digest: str


class CommitSummary(_Row):
    """Provenance columns of one commit for ``log`` and ``blame``."""

    commit: str
    agents: tuple[str, ...]
    models: tuple[str, ...]
    prompters: tuple[str, ...]
    approvers: tuple[str, ...]
    status: str
    reasons: tuple[str, ...]


def line_digest(line: bytes) -> str:
    """Hex sha256 of a stored line, exactly as stored."""
    return hashlib.sha256(line).hexdigest()


def _signed_prompter(result: AttestationResult) -> str | None:
    signed = result.prompter
    return signed.identity if signed is not None and signed.status == "signed" else None


def _utc(when: datetime) -> datetime:
    """A predicate's time, UTC when it names no zone (as :func:`parse_when_claimed`)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def parse_when_claimed(value: object) -> datetime | None:
    """An ISO 8601 time from a predicate (UTC when it names no zone); None when not one."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class LogEntry(NamedTuple):
    """One commit of ``provenance log``: git's facts plus the index's provenance columns."""

    commit: str
    author: str
    date: str
    subject: str
    agent: str
    model: str
    approvers: tuple[str, ...]
    status: str


class BlameLine(NamedTuple):
    """One line of ``provenance blame``: who and what produced the commit that last touched it."""

    line: int
    commit: str
    agent: str
    model: str
    approvers: tuple[str, ...]
    status: str
    text: str
