"""``.provenance/revocations.toml``: evidence withdrawn by cause, judged on the signed time.

Each ``[[revocation]]`` names one cause: a skill digest, a model, an agent version range, a
signer identity, a prompter, a key id, or an approver; optionally a window (``from``
inclusive, ``until`` exclusive) on the **verified** signed time of the line (the transparency
log's or the timestamp authority's, never the host clock); a reason; a reference. A line that
verified and matches an entry is refused with ``revoked`` and the entry named; a revoked
approval no longer counts. A windowed entry matches a line without a proven time (a
key-signed envelope): what cannot be placed outside the window is inside it (fail closed).

The gate reads this file from BASE, like the policy (its edits are identity-related: every
path under ``.provenance/`` is). A malformed file or entry refuses to decide
(``revocation_invalid``): a revocation the gate could not read must never be dropped.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from fnmatch import fnmatchcase
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from provenance.allow import parse_agent, parse_digest, parse_glob
from provenance.errors import PolicyInvalid
from provenance.predicates import Agent, ApprovalPredicate, ChangePredicate, ResourceDescriptor
from provenance.reasons import Reason

REVOCATIONS_PATH = ".provenance/revocations.toml"
#: The cause keys, one per entry, in the order ``provenance revoke`` documents them.
CAUSES = ("skill", "model", "agent", "signer", "prompter", "key", "approver")
Cause = Literal["skill", "model", "agent", "signer", "prompter", "key", "approver"]
_KEY_ID = re.compile(r"^[0-9a-f]{16,128}$")


def _fold(text: str) -> str:
    return text.strip().casefold()


class Revocation(BaseModel):
    """One entry: exactly one cause, an optional window on the signed time, and why."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    skill: str | None = Field(default=None, description='"sha256:HEX" or "NAME@sha256:HEX"')
    model: str | None = Field(default=None, description="Model id glob")
    agent: str | None = Field(default=None, description='"TOOL@RANGE", e.g. "claude-code@<2.1.3"')
    signer: str | None = Field(default=None, description="Verified signer identity (exact)")
    issuer: str | None = Field(default=None, description="With signer: only from this issuer")
    prompter: str | None = Field(default=None, description="Prompter (asserted or signed)")
    key: str | None = Field(default=None, description="Key id of key-signed envelopes (hex)")
    approver: str | None = Field(default=None, description="Approver identity or person")
    from_: datetime | None = Field(
        default=None, alias="from", description="Window start on the verified signed time"
    )
    until: datetime | None = Field(default=None, description="Window end (exclusive)")
    reason: str = Field(min_length=1, max_length=1024)
    reference: str | None = Field(default=None, max_length=1024)

    @field_validator("from_", "until")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("a window time needs an offset (write 2026-11-03T00:00:00Z)")
        return v

    @model_validator(mode="after")
    def _one_cause(self) -> Revocation:
        named = [c for c in CAUSES if getattr(self, c) is not None]
        if len(named) != 1:
            raise ValueError(f"an entry names exactly one cause of {', '.join(CAUSES)}")
        value = getattr(self, named[0])
        if not str(value).strip():
            raise ValueError(f"{named[0]} must not be blank")
        if self.skill is not None:
            parse_digest(self.skill)
        if self.model is not None:
            parse_glob(self.model)
        if self.agent is not None and parse_agent(self.agent).versions is None:
            raise ValueError(f"agent {self.agent!r} needs a version range: TOOL@RANGE")
        if self.key is not None and not _KEY_ID.match(self.key):
            raise ValueError(f"key {self.key!r} is not a key id (lowercase hex)")
        if self.issuer is not None and self.signer is None:
            raise ValueError("issuer narrows a signer entry only")
        if self.from_ and self.until and self.from_ >= self.until:
            raise ValueError("from must be earlier than until")
        return self

    @property
    def cause(self) -> Cause:
        """Which cause this entry names."""
        for c in CAUSES:
            if getattr(self, c) is not None:
                return c  # type: ignore[return-value]
        raise AssertionError("validated: one cause")

    def in_window(self, signed_time: datetime | None) -> bool:
        """Is the verified signed time inside the window? Unproven time is (fail closed)."""
        if self.from_ is None and self.until is None:
            return True
        if signed_time is None:
            return True
        if self.from_ is not None and signed_time < self.from_:
            return False
        return self.until is None or signed_time < self.until


class Revocations(BaseModel):
    """The whole file: a version and the entries (ids unique)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    revocation: list[Revocation] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_ids(self) -> Revocations:
        ids = [r.id for r in self.revocation]
        if len(set(ids)) != len(ids):
            raise ValueError("revocation ids must be unique")
        return self

    def by_id(self, rid: str) -> Revocation | None:
        """The entry called ``rid``."""
        return next((r for r in self.revocation if r.id == rid), None)


NO_REVOCATIONS = Revocations()


def parse_revocations(text: str, *, source: str) -> Revocations:
    """Parse the file; any problem is :class:`PolicyInvalid` (``revocation_invalid``)."""
    try:
        data = tomllib.loads(text)
        return Revocations.model_validate(data)
    except tomllib.TOMLDecodeError as e:
        problem = f"not valid TOML: {e}"
        cause: Exception = e
    except ValidationError as e:
        problem = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in e.errors()
        )
        cause = e
    raise PolicyInvalid(
        Reason.REVOCATION_INVALID,
        f"{source}: invalid revocations: {problem}",
        hint="fix the entry (see schemas/revocations.v1.json); nothing is decided with a "
        "revocations file the gate cannot read",
    ) from cause


@dataclass(frozen=True)
class Line:
    """What matching needs of one verified line."""

    kind: str
    signed_time: datetime | None
    signer: str | None = None
    issuer: str | None = None
    predicate: ChangePredicate | ApprovalPredicate | None = None
    approver: str | None = None
    signed_prompter: str | None = None


def _person_forms(who: str) -> set[str]:
    name, address = parseaddr(who)
    return {f for f in (_fold(who), _fold(address), _fold(name)) if f}


@dataclass(frozen=True)
class Facts:
    """What a cause is matched against, from a verified line or from an index row.

    ``agent`` and ``skills`` are a change attestation's (``None``/empty otherwise);
    ``prompters`` the asserted prompter and, when bound, who signed the prompt.
    """

    kind: str
    signer: str | None = None
    issuer: str | None = None
    agent: Agent | None = None
    skills: tuple[ResourceDescriptor, ...] = ()
    prompters: tuple[str, ...] = ()
    approver: str | None = None


def line_facts(line: Line) -> Facts:
    """The facts of a verified line."""
    p = line.predicate
    change = p if isinstance(p, ChangePredicate) and line.kind == "change" else None
    prompters = () if change is None else (change.prompter, line.signed_prompter or "")
    return Facts(
        kind=line.kind,
        signer=line.signer,
        issuer=line.issuer,
        agent=change.agent if change is not None else None,
        skills=tuple(change.skills) if change is not None else (),
        prompters=tuple(x for x in prompters if x),
        approver=line.approver,
    )


def cause_matches(r: Revocation, f: Facts) -> bool:
    """Does the entry's cause (not its window) name these facts?"""
    if r.skill is not None:
        pattern = parse_digest(r.skill)
        return any(pattern.matches(s) for s in f.skills)
    if r.model is not None:
        return f.agent is not None and fnmatchcase(f.agent.model, r.model)
    if r.agent is not None:
        return f.agent is not None and parse_agent(r.agent).matches(f.agent)
    if r.prompter is not None:
        forms = {form for who in f.prompters for form in _person_forms(who)}
        return _fold(r.prompter) in forms
    if r.signer is not None:
        return f.signer == r.signer and (r.issuer is None or f.issuer == r.issuer)
    if r.key is not None:
        return f.signer == f"key:{r.key}"
    assert r.approver is not None
    if f.kind != "approval":
        return False
    return _fold(r.approver) in {_fold(x) for x in (f.approver, f.signer) if x}


def matching(revocations: Revocations, line: Line) -> tuple[Revocation, ...]:
    """The entries that withdraw this verified line (cause and window both match)."""
    facts = line_facts(line)
    return tuple(
        r
        for r in revocations.revocation
        if r.in_window(line.signed_time) and cause_matches(r, facts)
    )


def entry_id(cause: str, value: str, start: datetime | None, end: datetime | None) -> str:
    """A stable id for a new entry: the cause and a digest of what it revokes and when."""
    basis = json.dumps([cause, value, str(start), str(end)]).encode()
    return f"{cause}-{hashlib.sha256(basis).hexdigest()[:10]}"


def _toml_string(text: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes, \\uXXXX included).
    return json.dumps(text, ensure_ascii=False)


def render_entry(entry: Revocation) -> str:
    """The entry as a TOML ``[[revocation]]`` block, to append to the file."""
    lines = ["[[revocation]]", f"id = {_toml_string(entry.id)}"]
    for c in (*CAUSES, "issuer"):
        value = getattr(entry, c)
        if value is not None:
            lines.append(f"{c} = {_toml_string(value)}")
    for key, when in (("from", entry.from_), ("until", entry.until)):
        if when is not None:
            lines.append(f"{key} = {when.isoformat()}")
    lines.append(f"reason = {_toml_string(entry.reason)}")
    if entry.reference is not None:
        lines.append(f"reference = {_toml_string(entry.reference)}")
    return "\n".join(lines) + "\n"


TEMPLATE_HEAD = """\
# provenance revocations (schema: schemas/revocations.v1.json). Unknown keys are errors.
# The release gate reads this file from the BASE of the range, like the policy; any edit
# is identity-related. Each entry withdraws the evidence of one cause, optionally only for
# lines whose verified signed time is in [from, until). Add entries with `provenance revoke`.
version = 1
"""


__all__ = [
    "CAUSES",
    "NO_REVOCATIONS",
    "REVOCATIONS_PATH",
    "TEMPLATE_HEAD",
    "Facts",
    "Line",
    "Revocation",
    "Revocations",
    "cause_matches",
    "entry_id",
    "line_facts",
    "matching",
    "parse_revocations",
    "render_entry",
]
