"""The attestation vocabulary: statement and predicate types, and the predicate models.

Predicates we read tolerate unknown keys (they never change a decision, THREATS.md B11); every
field a decision uses is required and typed, so a malformed predicate fails validation and is
refused, never skipped.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PAYLOAD_TYPE = "application/vnd.in-toto+json"

#: The one namespace the project owns for its predicate types (docs/decisions/0001).
PREDICATE_NAMESPACE = "https://provenance.dev/attestation"
CHANGE_PREDICATE_TYPE = f"{PREDICATE_NAMESPACE}/change/v1"
APPROVAL_PREDICATE_TYPE = f"{PREDICATE_NAMESPACE}/approval/v1"
PROMPT_PREDICATE_TYPE = f"{PREDICATE_NAMESPACE}/prompt/v1"
#: A signed rewrite link: who claimed the link (never evidence; the gate recomputes it).
LINK_PREDICATE_TYPE = f"{PREDICATE_NAMESPACE}/link/v1"

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
GitOid = Annotated[str, StringConstraints(pattern=r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")]
_OID_PATTERN = r"(?:[0-9a-f]{40}|[0-9a-f]{64})"
_SOURCE_PATTERN = rf"^(?:{_OID_PATTERN}\.\.)?{_OID_PATTERN}$"
NonEmpty = Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class _Predicate(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Agent(_Predicate):
    """The AI agent that produced the change."""

    tool: NonEmpty
    version: str | None = None
    model: NonEmpty
    session_id: str | None = None


class PromptCommitment(_Predicate):
    """A commitment to the prompt; the text itself is never stored by default."""

    algorithm: Literal["sha256", "hmac-sha256"]
    digest: Hex64
    salt_id: str | None = None


class ResourceDescriptor(_Predicate):
    """A skill package or agent configuration file, pinned by digest."""

    name: NonEmpty
    uri: str | None = None
    version: str | None = None
    digest: dict[str, Hex64] = Field(default_factory=dict)
    annotations: dict[str, str] | None = None


class RepositoryRef(_Predicate):
    """Where the change was made."""

    uri: NonEmpty


class CommitRef(_Predicate):
    """The commit the attestation is about (also bound by the subject digest)."""

    sha: GitOid
    tree: GitOid
    parents: list[GitOid]


class ChangedPath(_Predicate):
    """One changed path and the classifier rules that fired on it."""

    path: str
    old_path: str | None = None
    status: str
    rules: list[str] = Field(default_factory=list)


class ClassifierInfo(_Predicate):
    """Which classifier and ruleset produced the verdicts in ``changes``."""

    version: NonEmpty
    ruleset_digest: NonEmpty
    identity_related: bool


class SessionInfo(_Predicate):
    """The wrapped agent session a commit came from (recorded by ``provenance run``)."""

    started_at: datetime | None = None
    ended_at: datetime | None = None
    exit_status: int | None = Field(
        default=None, description="The agent process's exit status (128+N: killed by signal N)"
    )


class StoredPrompt(_Predicate):
    """The prompt text, kept only on request and only after a secret scan found nothing."""

    text: Annotated[str, StringConstraints(max_length=65536)]
    scanner: NonEmpty = Field(description="Secret scanner and version that passed the text")


class PromptAttestationRef(_Predicate):
    """The prompter's signed prompt attestation, carried verbatim inside the change predicate.

    ``sha256`` names its signed payload (as approvals name a change attestation); ``line``
    is the stored line exactly as the prompter's signing produced it. The verifier checks
    the signature, the prompter and the binding (THREATS.md G50, docs/decisions/0007).
    """

    sha256: Hex64
    line: Annotated[str, StringConstraints(min_length=1, max_length=65536)]


class ChangePredicate(_Predicate):
    """Who and what produced one commit: agent, prompter, prompt, skills, paths."""

    agent: Agent
    prompter: NonEmpty
    prompt: PromptCommitment
    skills: list[ResourceDescriptor] = Field(default_factory=list)
    agent_config: list[ResourceDescriptor] = Field(default_factory=list)
    repository: RepositoryRef
    commit: CommitRef
    changes: list[ChangedPath]
    classifier: ClassifierInfo | None = None
    stamped_at: datetime
    session: SessionInfo | None = None
    stored_prompt: StoredPrompt | None = None
    prompt_attestation: PromptAttestationRef | None = None


class ApprovalPredicate(_Predicate):
    """A human decision on one change attestation, signed by that human."""

    change_attestation: dict[str, Hex64]
    commit: CommitRef
    decision: Literal["approve", "reject"]
    comment: str | None = None
    decided_at: datetime


class PromptPredicate(_Predicate):
    """A prompter's own signed word: this prompt, for an agent session in this repository.

    The subject is the prompt commitment's digest. The prompter is whoever the signature
    proves; ``prompter`` is only how they name themselves. ``expires_at`` bounds when a
    change attestation may still carry it (at most a week after ``issued_at``).
    """

    prompter: NonEmpty
    prompt: PromptCommitment
    repository: RepositoryRef
    session_id: str | None = None
    nonce: Hex64
    issued_at: datetime
    expires_at: datetime


class LinkPredicate(_Predicate):
    """Who linked a rewritten commit (the subject) to its sources (``SHA`` or ``A..B``).

    Carried inside a link line so auditors see who made the claim; the gate never trusts it
    and recomputes the link from git objects (:mod:`provenance.verify.links`).
    """

    sources: list[Annotated[str, StringConstraints(pattern=_SOURCE_PATTERN)]]


PREDICATE_MODELS: dict[str, type[_Predicate]] = {
    CHANGE_PREDICATE_TYPE: ChangePredicate,
    APPROVAL_PREDICATE_TYPE: ApprovalPredicate,
}
