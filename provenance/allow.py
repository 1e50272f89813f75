"""The policy's ``[allow]`` table: which agents, models, skills and agent configs may produce.

Entries are glob patterns matched with :func:`fnmatch.fnmatchcase` (names are not paths, so
no ``**`` and no case folding) and PEP 440 version ranges read by ``packaging.specifiers``:

* ``agents = ["claude-code@>=2.0,<3", "codex"]``: a tool glob, optionally ``@`` a range;
* ``models = ["claude-opus-4*"]``;
* ``skills`` and ``agent_configs``: ``"NAME@sha256:HEX"`` (a name glob and an exact digest)
  or ``"sha256:HEX"`` (the digest under any name). A name alone proves nothing, so it is no
  entry.

A list that is absent allows everything; an empty list allows nothing (fail closed). A
malformed entry makes the whole policy invalid (``allow_entry_invalid``): an entry the gate
could not read must never widen or silently narrow what it allows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator

from provenance.predicates import Agent, ChangePredicate, ResourceDescriptor
from provenance.reasons import Reason

_DIGEST = re.compile(r"^sha256:([0-9a-f]{64})$")
_GLOB = re.compile(r"^[^\s@]+$")


@dataclass(frozen=True)
class AgentPattern:
    """A tool glob and an optional version range (``None``: any version, even none)."""

    tool: str
    versions: SpecifierSet | None

    def matches(self, agent: Agent) -> bool:
        """Tool by glob; version inside the range (an unreadable or absent one never is)."""
        if not fnmatchcase(agent.tool, self.tool):
            return False
        if self.versions is None:
            return True
        try:
            version = Version(agent.version or "")
        except InvalidVersion:
            return False
        return self.versions.contains(version, prereleases=True)


@dataclass(frozen=True)
class DigestPattern:
    """A resource by exact sha256 digest, under a name glob (``None``: any name)."""

    name: str | None
    sha256: str

    def matches(self, resource: ResourceDescriptor) -> bool:
        """Same digest (never by name alone), and the name matches when one is given."""
        if resource.digest.get("sha256") != self.sha256:
            return False
        return self.name is None or fnmatchcase(resource.name, self.name)


@lru_cache(maxsize=4096)
def parse_agent(entry: str) -> AgentPattern:
    """``TOOL`` or ``TOOL@RANGE``; ``ValueError`` naming the entry when malformed."""
    tool, at, spec = entry.partition("@")
    if not _GLOB.match(tool):
        raise ValueError(f"{entry!r}: the agent needs a tool name or glob before any '@'")
    if not at:
        return AgentPattern(tool, None)
    try:
        versions = SpecifierSet(spec)
    except InvalidSpecifier as e:
        raise ValueError(f"{entry!r}: {spec!r} is not a PEP 440 version range ({e})") from e
    if not str(versions):
        raise ValueError(f"{entry!r}: an empty version range after '@'")
    return AgentPattern(tool, versions)


@lru_cache(maxsize=4096)
def parse_digest(entry: str) -> DigestPattern:
    """``sha256:HEX`` or ``NAME@sha256:HEX`` (lowercase hex); ``ValueError`` when malformed."""
    name, at, digest = entry.rpartition("@")
    m = _DIGEST.match(digest)
    if m is None:
        raise ValueError(f"{entry!r}: needs sha256:<64 lowercase hex>, optionally after NAME@")
    if at and not name.strip():
        raise ValueError(f"{entry!r}: an empty name before '@'")
    return DigestPattern(name if at else None, m.group(1))


def parse_glob(entry: str) -> str:
    """A non-empty glob without spaces or '@' (a model id pattern)."""
    if not _GLOB.match(entry):
        raise ValueError(f"{entry!r}: a model pattern is a non-empty glob without spaces or '@'")
    return entry


class Allow(BaseModel):
    """``[allow]``: what may produce a change attestation the gate accepts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    agents: list[str] | None = Field(
        default=None, description='Tool globs, optionally @ a PEP 440 range: "claude-code@>=2.0"'
    )
    models: list[str] | None = Field(default=None, description='Model id globs: "claude-opus-4*"')
    skills: list[str] | None = Field(
        default=None, description='"NAME@sha256:HEX" or "sha256:HEX"; every skill must match'
    )
    agent_configs: list[str] | None = Field(
        default=None, description='"PATH@sha256:HEX" or "sha256:HEX"; every config must match'
    )

    @field_validator("agents")
    @classmethod
    def _agents(cls, v: list[str] | None) -> list[str] | None:
        for entry in v or ():
            parse_agent(entry)
        return v

    @field_validator("models")
    @classmethod
    def _models(cls, v: list[str] | None) -> list[str] | None:
        for entry in v or ():
            parse_glob(entry)
        return v

    @field_validator("skills", "agent_configs")
    @classmethod
    def _digests(cls, v: list[str] | None) -> list[str] | None:
        for entry in v or ():
            parse_digest(entry)
        return v


def _all_allowed(resources: list[ResourceDescriptor], entries: list[str]) -> bool:
    patterns = [parse_digest(e) for e in entries]
    return all(any(p.matches(r) for p in patterns) for r in resources)


def allow_problems(allow: Allow, predicate: ChangePredicate) -> list[Reason]:
    """The reasons a verified change predicate falls outside ``allow`` (empty: inside)."""
    problems: list[Reason] = []
    agent = predicate.agent
    if allow.agents is not None and not any(parse_agent(e).matches(agent) for e in allow.agents):
        problems.append(Reason.AGENT_NOT_ALLOWED)
    if allow.models is not None and not any(fnmatchcase(agent.model, e) for e in allow.models):
        problems.append(Reason.MODEL_NOT_ALLOWED)
    if allow.skills is not None and not _all_allowed(predicate.skills, allow.skills):
        problems.append(Reason.SKILL_NOT_ALLOWED)
    if allow.agent_configs is not None and not _all_allowed(
        predicate.agent_config, allow.agent_configs
    ):
        problems.append(Reason.AGENT_CONFIG_NOT_ALLOWED)
    return problems


__all__ = [
    "AgentPattern",
    "Allow",
    "DigestPattern",
    "allow_problems",
    "parse_agent",
    "parse_digest",
    "parse_glob",
]
