"""The policy file ``.provenance/policy.toml``: model, loading, and the commented template.

Files we author forbid unknown keys so a typo fails loudly (STYLE.md 11). The gate reads the
policy from the base of a range or a file outside the repository, never from the candidate.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provenance.allow import Allow
from provenance.errors import ConfigError, PolicyInvalid
from provenance.reasons import Reason
from provenance.revocations import NO_REVOCATIONS, Revocations, parse_revocations

POLICY_PATH = ".provenance/policy.toml"
#: Read beside the policy: at the same revision, or next to ``--policy FILE``.
REVOCATIONS_FILE = "revocations.toml"
DEFAULT_NOTES_REF = "refs/notes/provenance"
#: Statements whose signing failed or never finished; never read as evidence (THREATS.md).
PENDING_NOTES_REF = "refs/notes/provenance-pending"
#: Scratch refs of the notes store and of sync (never a policy's notes ref).
_RESERVED_REF_PREFIXES = ("refs/notes/provenance-tmp/", "refs/notes/provenance-sync/")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_anchored(pattern: str) -> str:
    if not (pattern.startswith("^") and pattern.endswith("$")):
        raise ValueError("identity_pattern must be anchored: start with ^ and end with $")
    try:
        re.compile(pattern)
    except re.error as e:
        raise ValueError(f"identity_pattern is not a valid regular expression: {e}") from e
    return pattern


class _IdentityRule(_Strict):
    """An OIDC identity (exact, or an anchored pattern, at an exact issuer) or a public key."""

    issuer: str | None = None
    identity: str | None = None
    identity_pattern: str | None = None
    key: str | None = Field(default=None, description="PEM public key, relative to .provenance/")

    @field_validator("identity_pattern")
    @classmethod
    def _anchored(cls, v: str | None) -> str | None:
        return _check_anchored(v) if v is not None else None

    def _check_kind(self, role: str) -> None:
        keyless = self.identity is not None or self.identity_pattern is not None
        if self.key is not None and (keyless or self.issuer is not None):
            raise ValueError(f"a {role} is either `key` or `issuer` + `identity`, not both")
        if self.key is None and (self.issuer is None or not keyless):
            raise ValueError(f"a keyless {role} needs `issuer` and `identity` (or pattern)")
        if self.identity is not None and self.identity_pattern is not None:
            raise ValueError("use `identity` or `identity_pattern`, not both")

    def matches_identity(self, issuer: str, identity: str) -> bool:
        """Does a verified certificate identity satisfy this rule? Exact issuer always."""
        if self.key is not None or issuer != self.issuer:
            return False
        if self.identity is not None:
            return identity == self.identity
        assert self.identity_pattern is not None
        return re.fullmatch(self.identity_pattern, identity) is not None


class SignerRule(_IdentityRule):
    """Who may sign change attestations; a key signer may be limited in time."""

    valid_from: datetime | None = None
    valid_until: datetime | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SignerRule:
        self._check_kind("signer")
        if self.key is None and (self.valid_from or self.valid_until):
            raise ValueError("valid_from/valid_until apply to `key` signers only")
        return self


class ApproverRule(_IdentityRule):
    """A human allowed to approve, and the person those identities belong to.

    Several identities of one ``person`` count as one approver; the person also ties the
    approver to the prompter, author, committer and change signer for separation of duties.
    """

    person: str = Field(min_length=1)
    emails: list[str] = Field(
        default_factory=list,
        description="Other addresses of this person (git author/committer, prompter), used only "
        "to stop them approving their own changes; never to verify a signature. List them for "
        "key approvers, who have no identity to match.",
    )

    @field_validator("person")
    @classmethod
    def _fold_person(cls, person: str) -> str:
        # "Bob" and "bob" are one person: counted once, excluded together.
        folded = person.strip().casefold()
        if not folded:
            raise ValueError("person must not be blank")
        return folded

    @model_validator(mode="after")
    def _one_kind(self) -> ApproverRule:
        self._check_kind("approver")
        return self


#: Issuers of CI workload identities: their certificates name a workflow, never the human
#: who triggered it, so they can never stand for a prompter (THREATS.md G50). An entry ending
#: in ``/`` is a prefix; the others match exactly or followed by ``/`` (GitHub Enterprise
#: Cloud issues from ``https://token.actions.githubusercontent.com/<enterprise>``). This is
#: the second line: the gate refuses a prompter certificate that carries a URI SAN or
#: Fulcio's workload extensions, whichever issuer signed it.
CI_ISSUERS = (
    "https://token.actions.githubusercontent.com",
    "https://gitlab.com",
    "https://agent.buildkite.com",
    "https://oidc.circleci.com/",
    "https://api.bitbucket.org/2.0/workspaces/",
    "https://vstoken.dev.azure.com/",
    "https://app.terraform.io",
    "https://oidc.codefresh.io",
)


def is_ci_issuer(issuer: str) -> bool:
    """Does this OIDC issuer mint tokens for CI workloads rather than for people?"""
    issuer = issuer.rstrip("/")
    return any(
        issuer.startswith(i) if i.endswith("/") else issuer == i or issuer.startswith(i + "/")
        for i in CI_ISSUERS
    )


class PrompterRule(_IdentityRule):
    """A human whose signed prompt attestation binds the prompter of a change."""

    person: str | None = Field(
        default=None, description="Who this is: several identities of one person are one"
    )

    @field_validator("person")
    @classmethod
    def _fold_person(cls, person: str | None) -> str | None:
        return person.strip().casefold() or None if person is not None else None

    @model_validator(mode="after")
    def _one_kind(self) -> PrompterRule:
        self._check_kind("prompter")
        if self.issuer is not None and is_ci_issuer(self.issuer):
            raise ValueError(
                f"{self.issuer} issues CI workload identities: a certificate from it names a "
                "workflow, not the person who prompted"
            )
        if "://" in (self.identity or "") + (self.identity_pattern or ""):
            raise ValueError(
                "a URI identity names a workflow or service, not the person who prompted"
            )
        return self


class Approvals(_Strict):
    """How many distinct people must approve each identity-related commit."""

    required: int = Field(default=0, ge=0, le=16)


class Agents(_Strict):
    """The older trailer switch, and whether the prompter must be signed."""

    trailer: Literal["ignore", "warn", "refuse"] = Field(
        default="ignore",
        description="Older switch (see [trailers]): when not ignore, an AI trailer without a "
        "valid change attestation, or one without the other, on *any* commit of the target is "
        "reported (warn) or refused with this mode",
    )
    prompter: Literal["asserted", "signed"] = Field(
        default="asserted",
        description="signed: refuse change attestations whose prompter is not bound by a "
        "prompt attestation signed by one of [[prompters]]; asserted: accept the name the "
        "agent wrapper wrote (reports say which)",
    )


TrailerMode = Literal["refuse", "warn", "ignore"]


class Trailers(_Strict):
    """How the gate treats AI trailers (``Assisted-by``, ``Generated-by``, AI co-authors)."""

    on_mismatch: TrailerMode = Field(
        default="refuse",
        description="A trailer names an agent or model other than the attested one "
        "(trailer_mismatch)",
    )
    on_unattested: TrailerMode = Field(
        default="refuse",
        description="An AI trailer on an identity-related commit without a valid change "
        "attestation (trailer_without_attestation, the trailer named)",
    )
    on_missing: TrailerMode = Field(
        default="warn",
        description="A commit with a valid change attestation and no AI trailer "
        "(attestation_without_trailer)",
    )


class ContentRule(_Strict):
    """A policy-added content rule for the classifier."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.:-]+$")
    pattern: str
    description: str = ""


ExemptCategory = Literal["docs", "tests", "tooling"]


def _all_exempt() -> list[ExemptCategory]:
    return ["docs", "tests", "tooling"]


class IdentityRules(_Strict):
    """What counts as identity-related, on top of (or instead of) the built-in ruleset."""

    rulesets: list[str] = Field(default_factory=lambda: ["builtin:identity"])
    paths: list[str] = Field(default_factory=list)
    content: list[ContentRule] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    exempt: list[ExemptCategory] = Field(
        default_factory=_all_exempt,
        description=(
            "Path conventions builtin:identity@2 does not judge: tests (test folders and files, "
            "fixtures, cassettes, snapshots), docs (documentation, not code kept in docs/), "
            "tooling (linter and formatter settings). Set [] to judge them all; @1 ignores it."
        ),
    )


class Policy(_Strict):
    """The whole policy file."""

    version: Literal[1]
    repository: str | None = Field(
        default=None, description="Expected repository URI in change attestations"
    )
    notes_ref: str = Field(default=DEFAULT_NOTES_REF, pattern=r"^refs/notes/[A-Za-z0-9_./-]+$")
    signers: list[SignerRule] = Field(default_factory=list)
    identity: IdentityRules = Field(default_factory=IdentityRules)
    approvals: Approvals = Field(default_factory=Approvals)
    approvers: list[ApproverRule] = Field(default_factory=list)
    prompters: list[PrompterRule] = Field(default_factory=list)
    agents: Agents = Field(default_factory=Agents)
    allow: Allow = Field(default_factory=Allow)
    trailers: Trailers = Field(default_factory=Trailers)

    @field_validator("notes_ref")
    @classmethod
    def _not_reserved(cls, ref: str) -> str:
        # Pending statements and scratch refs live there: attestations stored in them would be
        # cleared or never read (an agent's commit could otherwise make its stamps vanish).
        if ref == PENDING_NOTES_REF or ref.startswith(_RESERVED_REF_PREFIXES):
            raise ValueError(f"{ref} is reserved by provenance for its own bookkeeping")
        if ".." in ref or ref.endswith(("/", ".lock")) or "//" in ref:
            raise ValueError(f"{ref} is not a valid notes ref")
        return ref

    @model_validator(mode="after")
    def _prompters_when_signed(self) -> Policy:
        if self.agents.prompter == "signed" and not self.prompters:
            raise ValueError('agents.prompter = "signed" needs at least one [[prompters]] entry')
        wrappers = {(s.issuer, s.identity, s.identity_pattern, s.key) for s in self.signers}
        for p in self.prompters:
            if (p.issuer, p.identity, p.identity_pattern, p.key) in wrappers:
                raise ValueError("a [[signers]] identity (the agent wrapper) cannot be a prompter")
        return self

    @model_validator(mode="after")
    def _enough_approvers(self) -> Policy:
        people = {a.person for a in self.approvers}
        if len(people) < self.approvals.required:
            raise ValueError(
                f"approvals.required = {self.approvals.required} but only "
                f"{len(people)} distinct approver person(s) are listed"
            )
        return self


def parse_policy(text: str, *, source: str) -> Policy:
    """Parse policy TOML; every problem becomes a :class:`ConfigError` naming the location."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source}: not valid TOML: {e}") from e
    try:
        return Policy.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        if any(err["loc"][:1] == ("allow",) for err in e.errors()):
            raise PolicyInvalid(
                Reason.ALLOW_ENTRY_INVALID,
                f"{source}: invalid policy: {problems}",
                hint="fix the [allow] entry (see schemas/policy.v1.json); nothing is decided "
                "with a policy the gate cannot read",
            ) from e
        raise ConfigError(
            f"{source}: invalid policy: {problems}",
            hint="see schemas/policy.v1.json and `provenance init`",
        ) from e


#: Reads a file relative to the policy's directory (``.provenance/``); used for signer keys.
FileReader = Callable[[str], bytes]


class LoadedPolicy(BaseModel):
    """A parsed policy plus where it came from and how to read the files it names.

    ``revocations`` come from beside the policy (``.provenance/revocations.toml`` at the
    same revision, or ``revocations.toml`` next to ``--policy FILE``); ``revocations_source``
    and ``revocations_digest`` name that file when there is one.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    policy: Policy
    source: str
    digest: str
    read_file: FileReader
    revocations: Revocations = NO_REVOCATIONS
    revocations_source: str | None = None
    revocations_digest: str | None = None


def with_revocations(loaded: LoadedPolicy, raw: bytes | None, source: str) -> LoadedPolicy:
    """``loaded`` with the revocations file ``raw`` (``None``: there is none) parsed in."""
    if raw is None:
        return loaded
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"  # not TOML: refused below with the file named
    return loaded.model_copy(
        update={
            "revocations": parse_revocations(text, source=source),
            "revocations_source": source,
            "revocations_digest": "sha256:" + hashlib.sha256(raw).hexdigest(),
        }
    )


def load_policy_file(path: Path) -> LoadedPolicy:
    """Load a policy from a file on disk (``--policy FILE``), revocations beside it."""

    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(
            f"cannot read policy {path}: {e.strerror}",
            hint="run `provenance init` or pass --policy FILE",
        ) from e
    base = path.resolve().parent

    def read(rel: str) -> bytes:
        target = (base / rel).resolve()
        if base not in target.parents:
            raise ConfigError(f"policy file reference {rel!r} leaves {base}")
        return target.read_bytes()

    policy = parse_policy(raw.decode("utf-8", errors="strict"), source=str(path))
    loaded = LoadedPolicy(
        policy=policy,
        source=str(path),
        digest="sha256:" + hashlib.sha256(raw).hexdigest(),
        read_file=read,
    )
    beside = base / REVOCATIONS_FILE
    try:
        revocations = beside.read_bytes()
    except FileNotFoundError:
        return loaded
    except OSError as e:
        raise ConfigError(f"cannot read revocations {beside}: {e.strerror}") from e
    return with_revocations(loaded, revocations, str(beside))


TEMPLATE = """\
# provenance policy (schema: schemas/policy.v1.json). Unknown keys are errors.
# The release gate reads this file from the BASE of the range it verifies, never from
# the candidate, and any change to it is itself an identity-related change.
version = 1

# Expected repository URI inside change attestations (refuses attestations made in a fork).
# repository = "https://github.com/example/app"

# Where attestations live (git notes). Fetch it in CI:
#   git fetch origin 'refs/notes/provenance:refs/notes/provenance'
# notes_ref = "refs/notes/provenance"

# Who may sign change attestations. With no signer, `provenance verify` refuses to run.
# Keyless (Sigstore): the OIDC issuer and the exact identity in the certificate ...
[[signers]]
issuer = "{issuer}"
identity = "{identity}"
# ... or an anchored regular expression (must start with ^ and end with $):
# identity_pattern = "^https://github\\\\.com/example/app/\\\\.github/workflows/agent\\\\.yml@refs/heads/main$"

# Key-signed attestations (where Sigstore cannot be reached): a PEM public key, relative
# to this directory, optionally limited in time.
# [[signers]]
# key = "keys/agent.pub.pem"
# valid_until = 2027-12-31T00:00:00Z

# Human approval: how many distinct people must approve each identity-related commit,
# and who may. Never counted: the change's signer, the prompter, the commit author or
# committer (matched by identity and by person), duplicates, approvals of other changes.
[approvals]
required = 0
# [[approvers]]
# issuer = "https://accounts.example.com"
# identity = "alice@example.com"
# person = "alice"            # several identities of one person count once
# emails = ["alice@laptop.local"]  # her other addresses (author, prompter): never self-approves

# AI trailers (Assisted-by, Generated-by, Co-authored-by of a known AI agent) are compared
# with the verified change attestation of each identity-related commit; each case is
# "refuse", "warn" (reported) or "ignore". Defaults shown.
# [trailers]
# on_mismatch = "refuse"    # names another agent or model: trailer_mismatch
# on_unattested = "refuse"  # AI trailer, no valid attestation: trailer_without_attestation
# on_missing = "warn"       # valid attestation, no AI trailer: attestation_without_trailer
# [agents]
# trailer = "warn"  # older switch: applies its mode to the last two on *every* commit
# The prompter the wrapper names is only asserted. With prompter = "signed" a change
# attestation must carry a prompt attestation signed by one of [[prompters]]
# (`provenance run --prompter-sign`, or `provenance prompt sign` for CI-triggered agents).
# prompter = "signed"
# [[prompters]]
# issuer = "https://accounts.example.com"
# identity = "alice@example.com"
# person = "alice"

# What may produce an accepted change attestation (absent: anything; [] : nothing).
# Globs match names; agents take a PEP 440 range after "@"; skills and agent configs are
# pinned by digest ("NAME@sha256:HEX" or "sha256:HEX"). Outside: agent_not_allowed,
# model_not_allowed, skill_not_allowed, agent_config_not_allowed.
# [allow]
# agents = ["claude-code@>=2.0"]
# models = ["claude-opus-4*"]
# skills = ["auth-helper@sha256:<64 hex>"]
# agent_configs = ["CLAUDE.md@sha256:<64 hex>"]

# What counts as identity-related (see `provenance classify`).
[identity]
rulesets = ["builtin:identity"]
# paths = ["src/myapp/permissions/**"]
# exclude = ["docs/**"]
# [[identity.content]]
# id = "tenant-guard"
# pattern = "\\\\bassert_tenant_access\\\\("
# description = "our tenant isolation guard"
"""


def render_template(issuer: str, identity: str) -> str:
    """The commented policy ``provenance init`` writes."""
    return TEMPLATE.replace("{issuer}", issuer).replace("{identity}", identity)
