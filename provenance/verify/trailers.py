"""AI trailers in commit messages, compared with the verified change attestations.

Which trailers name an AI: ``Assisted-by:`` (this project's hook writes ``TOOL:MODEL``),
``Generated-by:``, and ``Co-authored-by:`` with a known agent's address. A trailer proves
nothing; the gate compares it with what was signed (policy ``[trailers]``):

* ``trailer_mismatch``: a trailer names an agent or model that no valid change attestation
  of the commit has (``on_mismatch``);
* ``trailer_without_attestation``: an AI trailer on an identity-related commit without a
  valid change attestation; the refusal names the trailer (``on_unattested``);
* ``attestation_without_trailer``: a valid change attestation and no AI trailer
  (``on_missing``).

The older ``[agents] trailer`` setting, when not ``ignore``, still applies its mode to the
last two on every commit of the target (not only identity-related ones), as it always did.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.utils import parseaddr
from fnmatch import fnmatchcase

from provenance.policy import Policy
from provenance.predicates import Agent, ChangePredicate
from provenance.reasons import Reason
from provenance.verify.attestation import AttestationResult
from provenance.verify.report import CommitVerdict, TrailerWarning

#: ``Co-authored-by`` addresses of AI agents (glob, casefolded) and the tool family they name.
KNOWN_AI_COAUTHORS: tuple[tuple[str, str], ...] = (
    ("*@anthropic.com", "claude"),
    ("cursoragent@cursor.com", "cursor"),
    ("noreply@aider.chat", "aider"),
    ("*@openai.com", "codex"),
    ("*+copilot@users.noreply.github.com", "copilot"),
    ("*+copilot-swe-agent[[]bot]@users.noreply.github.com", "copilot"),
    ("*+chatgpt-codex-connector[[]bot]@users.noreply.github.com", "codex"),
    ("*+devin-ai-integration[[]bot]@users.noreply.github.com", "devin"),
    ("*+gemini-code-assist[[]bot]@users.noreply.github.com", "gemini"),
    ("*+google-labs-jules[[]bot]@users.noreply.github.com", "jules"),
)
#: Keys whose value is ``TOOL[@VERSION][:MODEL]`` (first word), matched case-insensitively.
AGENT_KEYS = ("assisted-by", "generated-by")
_VERSION = re.compile(r"[@/].*$")


@dataclass(frozen=True)
class AiTrailer:
    """One trailer that names an AI, and the tool family and model it claims (if any)."""

    key: str
    value: str
    tool: str | None
    model: str | None

    @property
    def text(self) -> str:
        """The trailer as written (``Key: value``)."""
        return f"{self.key}: {self.value}"


def may_name_an_ai(message: bytes) -> bool:
    """False only when no AI trailer key appears anywhere in the message (no git needed)."""
    lowered = message.lower()
    return any(key.encode() in lowered for key in (*AGENT_KEYS, "co-authored-by"))


def _coauthor_tool(value: str) -> str | None:
    address = parseaddr(value)[1].casefold()
    return next((tool for glob, tool in KNOWN_AI_COAUTHORS if fnmatchcase(address, glob)), None)


def ai_trailers(pairs: Sequence[tuple[str, str]]) -> list[AiTrailer]:
    """The trailers among ``pairs`` that name an AI agent."""
    found = []
    for key, value in pairs:
        folded = key.casefold()
        if folded in AGENT_KEYS:
            word = value.split()[0] if value.split() else ""
            tool, _, model = word.partition(":")
            tool = _VERSION.sub("", tool).casefold()
            found.append(AiTrailer(key, value, tool or None, model.casefold() or None))
        elif folded == "co-authored-by":
            family = _coauthor_tool(value)
            if family is not None:
                found.append(AiTrailer(key, value, family, None))
    return found


def agrees(trailer: AiTrailer, agent: Agent) -> bool:
    """Does the trailer's tool (a family: ``claude`` names ``claude-code``) and model fit?"""
    tool = agent.tool.casefold()
    if trailer.tool is not None:
        family = trailer.tool
        parts = re.split(r"[-_ .]", tool)
        if not (tool == family or family in parts or tool.startswith(family + "-")):
            return False
    return trailer.model is None or trailer.model == agent.model.casefold()


@dataclass(frozen=True)
class TrailerModes:
    """What each disagreement does, and whether it is judged on every commit (legacy)."""

    mismatch: str
    unattested: str
    missing: str
    every_commit: bool

    @property
    def active(self) -> bool:
        """Is any of the three checked?"""
        return any(m != "ignore" for m in (self.mismatch, self.unattested, self.missing))


def trailer_modes(policy: Policy) -> TrailerModes:
    """``[trailers]``, or the older ``[agents] trailer`` for the last two when it is set."""
    t, legacy = policy.trailers, policy.agents.trailer
    if legacy != "ignore":
        return TrailerModes(t.on_mismatch, legacy, legacy, every_commit=True)
    return TrailerModes(t.on_mismatch, t.on_unattested, t.on_missing, every_commit=False)


def _finding(
    identity: bool, trailers: Sequence[AiTrailer], valid: Sequence[Agent], modes: TrailerModes
) -> tuple[Reason, str, tuple[AiTrailer, ...]] | None:
    if trailers and not valid:
        return Reason.TRAILER_WITHOUT_ATTESTATION, modes.unattested, tuple(trailers)
    if valid and not trailers:
        return Reason.ATTESTATION_WITHOUT_TRAILER, modes.missing, ()
    off = tuple(t for t in trailers if not any(agrees(t, a) for a in valid))
    if identity and off:
        return Reason.TRAILER_MISMATCH, modes.mismatch, off
    return None


def check_trailers(
    verdict: CommitVerdict,
    identity: bool,
    trailers: Sequence[AiTrailer],
    results: Sequence[AttestationResult],
    modes: TrailerModes,
) -> tuple[CommitVerdict, TrailerWarning | None]:
    """The verdict after comparing the commit's AI trailers with its valid attestations."""
    if not (identity or modes.every_commit):
        return verdict, None
    valid = [
        r.predicate.agent
        for r in results
        if r.ok and r.kind == "change" and isinstance(r.predicate, ChangePredicate)
    ]
    found = _finding(identity, trailers, valid, modes)
    if found is None or found[1] == "ignore":
        return verdict, None
    reason, mode, named = found
    texts = tuple(t.text for t in named)
    if mode == "warn":
        return verdict, TrailerWarning(verdict.commit, reason, texts)
    shown = verdict.attestations or tuple(results)
    refused = replace(verdict, status="refused", reasons=(*verdict.reasons, reason),
                      attestations=shown, trailers=texts)  # fmt: skip
    return refused, None


__all__ = [
    "KNOWN_AI_COAUTHORS",
    "AiTrailer",
    "TrailerModes",
    "agrees",
    "ai_trailers",
    "check_trailers",
    "may_name_an_ai",
    "trailer_modes",
]
