"""The documents provenance writes for programs, as models: their JSON Schemas are generated
from these (``schemas/``, ``scripts/gen-schemas``) and shipped in the wheel.

- :class:`GateReportDocument`: ``verify``'s JSON report (a verdict, a refusal before any
  verdict, or an error), also ``show --format json`` (which adds each ``predicate``);
- :class:`RunReportDocument`: ``provenance run --report FILE``;
- :class:`EvidenceManifest`: an evidence pack's ``manifest.json``.

The renderers build these documents; the tests validate real outputs against the generated
schemas, so a field added to a renderer without a model (and a schema) fails. Every model
forbids unknown keys: the schema is the exact description of what is written, and a
consumer that validates against it learns of a change from a new schema ``$id``. Shared
module: it imports no stage.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel

from provenance.reasons import Reason

#: The ``format`` of an evidence pack's manifest (``store.directory.PACK_FORMAT``).
EVIDENCE_FORMAT = "https://provenance.dev/evidence/v1"
_DIGEST = r"^sha256:[0-9a-f]{64}$"
_SHA = r"^[0-9a-f]{40}([0-9a-f]{24})?$"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorDocument(_Document):
    """Exit 2 (usage) or 3 (could not decide): nothing was judged, and why."""

    result: Literal["error"]
    exit_code: Literal[2, 3]
    error: str = Field(description="What went wrong, as the command said it on stderr")
    hint: str | None = Field(description="What to do next")


# --------------------------------------------------------------------------- the gate


class RevocationsRef(_Document):
    """The revocations file that decided with the policy."""

    source: str
    digest: str = Field(pattern=_DIGEST)
    entries: int = Field(ge=0)


class RevokedEntry(_Document):
    """A revocation entry that withdrew an attestation: its cause, window and reason."""

    id: str
    cause: Literal["skill", "model", "agent", "signer", "prompter", "key", "approver"]
    value: str
    from_: str | None = Field(alias="from", description="RFC 3339, inclusive, on the signed time")
    until: str | None = Field(description="RFC 3339, exclusive")
    reason: str
    reference: str | None


class FindingEntry(_Document):
    """Where an identity rule fired: a path, the side of the diff, and lines when known."""

    rule: str
    path: str
    side: Literal["new", "old"]
    start_line: int | None = Field(default=None, ge=1)
    end_line: int | None = Field(default=None, ge=1)


class PolicyRef(_Document):
    """The policy that decided: where it was read, its digest, and who chose it."""

    source: str
    digest: str = Field(pattern=_DIGEST)
    from_: Literal["BASE", "HEAD", "--policy"] | None = Field(default=None, alias="from")
    revocations: RevocationsRef | None = Field(
        default=None, description="The revocations file read beside the policy (issue 18)"
    )


class TrustedRootRef(_Document):
    """The trusted root that decided (THREATS.md G51); no digest when none was loaded."""

    source: str
    path: str | None
    digest: str | None = Field(pattern=_DIGEST)


class RangeRef(_Document):
    """The range decided, and the tree the build must be of."""

    base: str = Field(pattern=_SHA)
    head: str = Field(pattern=_SHA)
    head_tree: str = Field(pattern=_SHA)


class TrailerWarningEntry(_Document):
    """An ``Assisted-by:`` trailer and the attestations disagree (policy ``trailer = "warn"``)."""

    commit: str = Field(pattern=_SHA)
    reason: Reason
    trailers: list[str] | None = Field(default=None, description="The AI trailers, as written")


class PrompterEntry(_Document):
    """Who prompted: bound by a signed prompt attestation, or only asserted by the wrapper."""

    status: Literal["signed", "asserted"]
    claimed: str | None
    identity: str | None = None
    issuer: str | None = None
    person: str | None = None
    reasons: list[Reason] | None = None
    prompt_attestation: str | None = Field(default=None, pattern=_DIGEST)


class AttestationEntry(_Document):
    """One stored line and its verification."""

    index: int = Field(ge=0)
    kind: Literal["change", "approval", "unknown"]
    status: Literal["ok", "refused"]
    reasons: list[Reason]
    format: str | None
    signer: str | None
    issuer: str | None
    signed_time: str | None = Field(description="RFC 3339, from the log or the TSA")
    digest: str | None = Field(pattern=_DIGEST, description="sha256 of the signed statement")
    predicate_type: str | None
    approver: str | None = Field(description="The approver's person, for a valid approval")
    prompter: PrompterEntry | None = None
    revoked: list[RevokedEntry] | None = None
    predicate: dict[str, Any] | None = Field(
        default=None, description="The decoded predicate (show --format json only)"
    )


class CommitEntry(_Document):
    """One commit's verdict."""

    commit: str = Field(pattern=_SHA)
    status: Literal["ok", "refused", "not-required"]
    reasons: list[Reason]
    identity_related: bool | None = None
    rules: list[str] | None = None
    paths: list[str] | None = Field(default=None, description="The identity-related paths")
    findings: list[FindingEntry] | None = Field(
        default=None, description="Where the identity rules fired (hunks and rules)"
    )
    approvers: list[str] | None = None
    trailers: list[str] | None = Field(
        default=None, description="The AI trailers a trailer refusal is about, as written"
    )
    via: str | None = Field(
        default=None, description="How a commit without evidence of its own passed: a link"
    )
    sources: list[str] | None = Field(default=None, description="The link's source commits")
    attestations: list[AttestationEntry]


class EvidenceRootAge(_Document):
    """How old the trusted root of an evidence pack is."""

    digest: str = Field(pattern=_DIGEST)
    captured_at: str | None
    age_days: float | None
    oldest_key_since: str | None
    newest_key_since: str | None
    expired_keys: int = Field(ge=0)
    newest_key_age_days: float | None


class EvidenceRef(_Document):
    """The evidence pack a verdict came from (``verify --evidence``)."""

    pack: str
    created_at: str | None
    range: dict[str, Any] | None
    policy_digest: str = Field(pattern=_DIGEST)
    trusted_root: EvidenceRootAge


class GateVerdict(_Document):
    """The gate's decision over a range or named commits (exit 0 or 1)."""

    result: Literal["passed", "refused"]
    policy: PolicyRef
    range: RangeRef | None = None
    warnings: list[TrailerWarningEntry] | None = None
    trusted_root: TrustedRootRef | None = None
    evidence: EvidenceRef | None = None
    commits: list[CommitEntry]


class GateRefusal(_Document):
    """Refused before any commit was judged (exit 1): the range proves nothing, say."""

    result: Literal["refused"]
    reasons: list[Reason] = Field(min_length=1)
    error: str
    commits: list[CommitEntry] = Field(max_length=0)


class GateError(ErrorDocument):
    """The gate could not decide (exit 3) or was called wrongly (exit 2)."""

    commits: list[CommitEntry] = Field(max_length=0)


class GateReportDocument(RootModel[GateVerdict | GateRefusal | GateError]):
    """``provenance verify --format json`` (and ``show --format json``), on every exit."""


# --------------------------------------------------------------------------- run --report


class StampedEntry(_Document):
    """A commit of the session, signed and stored."""

    commit: str = Field(pattern=_SHA)
    digest: str = Field(pattern=_DIGEST)
    signer: str


class CommitReason(_Document):
    """A commit and why it is listed (pending: why signing failed; skipped: why not the
    session's)."""

    commit: str = Field(pattern=_SHA)
    reason: str


class RunReport(_Document):
    """What ``provenance run`` did: ``pending`` commits need ``provenance stamp --pending``."""

    result: Literal["complete", "pending"]
    session_id: str
    exit_status: int = Field(description="The agent's exit status (128+N: killed by signal N)")
    started_at: str
    ended_at: str
    head_before: str | None
    head_after: str | None
    branch_before: str | None
    branch_after: str | None
    stamped: list[StampedEntry]
    pending: list[CommitReason]
    skipped: list[CommitReason]
    rewritten_or_dropped: list[str]
    undecided: list[str]


class RunReportDocument(RootModel[RunReport | ErrorDocument]):
    """``provenance run --report FILE``: the session, or why the run failed before it."""


# --------------------------------------------------------------------------- evidence packs


class ManifestRange(_Document):
    """The range the pack was exported for."""

    spec: str
    base: str = Field(pattern=_SHA)
    head: str = Field(pattern=_SHA)
    head_tree: str = Field(pattern=_SHA)
    commits: int = Field(ge=0)


class ManifestPolicy(_Document):
    """The policy committed at BASE (or the pinned one), as a file of the pack."""

    file: str
    digest: str = Field(pattern=_DIGEST)
    source: str


class ManifestRoot(_Document):
    """The trusted root used at export; it proves nothing unless it equals the auditor's pin."""

    file: str
    digest: str = Field(pattern=_DIGEST)
    source: str
    oldest_key_since: str | None
    newest_key_since: str | None
    expired_keys: int = Field(ge=0)


class EvidenceManifest(_Document):
    """``manifest.json`` of an evidence pack: every other file and its sha256 (unsigned)."""

    format: Literal["https://provenance.dev/evidence/v1"]
    created_at: str
    range: ManifestRange
    notes_ref: str
    policy: ManifestPolicy
    trusted_root: ManifestRoot
    files: dict[str, Annotated[str, Field(pattern=_DIGEST)]] = Field(
        description="Relative path -> sha256:<hex> of its bytes"
    )


__all__ = [
    "EVIDENCE_FORMAT",
    "ErrorDocument",
    "EvidenceManifest",
    "GateReportDocument",
    "RunReportDocument",
]
