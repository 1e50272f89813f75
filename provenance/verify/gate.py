"""The release gate: decide every commit of a target; identity-related ones need evidence.

A target is a range ``BASE..HEAD`` or named commits, each classified against its parents by
the same walk (a single commit is a range of one). The decision is the same for both: an
identity-related commit passes only if one stored change attestation passes every check and
enough people approved it (THREATS.md F35); any other commit is ``not-required``. For named
commits the attestations present on a commit that is not required are still verified and
shown (``Target.show_all``): a person asked about that commit.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from provenance.classify.classified import CommitClassification
from provenance.gitio import Commit, Git, parse_commit, read_commits
from provenance.gitio.trailers import message_of, trailers_of
from provenance.policy import LoadedPolicy, Policy
from provenance.reasons import Reason
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.store.pending import pending_ids
from provenance.verify.approvals import ApprovalFacts, ChangeFacts, evaluate, facts_of
from provenance.verify.attestation import AttestationResult, verify_line
from provenance.verify.links import (
    MAX_DEPTH,
    Followed,
    Plans,
    SourceStanding,
    follow,
    plan_commits,
    plan_links,
    read_links,
)
from provenance.verify.pool import run_all
from provenance.verify.report import CommitVerdict, RangeInfo, Report, Status, TrailerWarning
from provenance.verify.trailers import (
    AiTrailer,
    ai_trailers,
    check_trailers,
    may_name_an_ai,
    trailer_modes,
)
from provenance.verify.trust import TrustContext

Progress = Callable[[int, int], None]
Outcome = tuple[AttestationResult, ...] | Reason


@dataclass(frozen=True)
class Target:
    """What the gate decides: classified commits, and the range they came from (if any).

    ``policy_from`` names who chose the policy (``BASE``, ``HEAD`` or ``--policy``);
    ``show_all`` verifies and shows the attestations of commits that are not required.
    """

    commits: tuple[CommitClassification, ...]
    policy_from: str
    range: RangeInfo | None = None
    show_all: bool = False


@dataclass(frozen=True)
class Standing:
    """A required commit's decision: status, reasons, approvers, and the approvals counted."""

    status: Status
    reasons: tuple[Reason, ...]
    approvers: tuple[str, ...] = ()
    counted: tuple[int, ...] = ()


def standing(
    commit: Commit,
    changes: Sequence[ChangeFacts],
    approvals: Sequence[ApprovalFacts],
    policy: Policy,
    refusals: Sequence[Reason] = (),
) -> Standing:
    """ok iff some change attestation passed every check and enough people approved it.

    ``refusals`` are the reasons of the lines that did not verify (reported when no change
    attestation is valid). The index decides from its rows with this very function.
    """
    if not changes:
        return Standing("refused", tuple(sorted(set(refusals))) or (Reason.ATTESTATION_MISSING,))
    verdict = evaluate(policy, commit, changes, approvals)  # required = 0: a reject still blocks
    if policy.approvals.required == 0 and Reason.APPROVAL_REJECTED not in verdict.reasons:
        return Standing("ok", (), verdict.approvers, verdict.counted)
    status: Status = "refused" if verdict.reasons else "ok"
    return Standing(status, verdict.reasons, verdict.approvers, verdict.counted)


def decide(commit: Commit, results: Sequence[AttestationResult], policy: Policy) -> CommitVerdict:
    """The commit's verdict from its verified lines (:func:`standing`)."""
    changes, approvals = facts_of(results)
    refusals = [reason for r in results for reason in r.reasons]
    s = standing(commit, changes, approvals, policy, refusals)
    return CommitVerdict(commit.sha, s.status, s.reasons, tuple(results), approvers=s.approvers)


def candidates(lines: Sequence[bytes]) -> int:
    """Lines that may count: what the screen kept (stand-ins start with ``<``, JSON never)."""
    return sum(1 for line in lines if not line.startswith(b"<"))


def verify_note(lines: Sequence[bytes], commit: Commit, trust: TrustContext) -> Outcome:
    """Verify one commit's screened lines; too many candidates is a refusal (G52).

    Only lines the screen kept (well-formed, claiming a signer the policy knows) count
    toward ``MAX_LINES_PER_COMMIT``; junk never outvotes a valid attestation.
    """
    if candidates(lines) > MAX_LINES_PER_COMMIT:
        return Reason.TOO_MANY_ATTESTATIONS
    return tuple(verify_line(i, line, commit, trust) for i, line in enumerate(lines))


def mark_pending(verdict: CommitVerdict) -> CommitVerdict:
    """A pending commit is still missing; say so with its own reason code."""
    missing, pending = Reason.ATTESTATION_MISSING, Reason.ATTESTATION_PENDING
    if missing in verdict.reasons:
        reasons = tuple(pending if r == missing else r for r in verdict.reasons)
    else:
        reasons = (*verdict.reasons, pending)
    return replace(verdict, reasons=reasons)


def _verify_lines(job: tuple[str, bytes, list[bytes]], trust: TrustContext) -> Outcome:
    """Verify one commit's lines (in a worker or inline); the commit is parsed from raw bytes."""
    sha, raw, lines = job
    return verify_note(lines, parse_commit(sha, raw), trust)


def _has_valid_change(outcome: Outcome | None) -> bool:
    return isinstance(outcome, tuple) and any(r.ok and r.kind == "change" for r in outcome)


def _scope(
    git: Git, target: Target, store: AttestationStore, trust: TrustContext, available: bool
) -> tuple[list[str], dict[str, Commit], dict[str, list[AiTrailer]]]:
    """What to verify, and each checked commit's AI trailers (git parses them).

    Identity-related commits always; with ``show_all`` or the older ``[agents] trailer``,
    every commit with a stored line or (older setting) an AI trailer too.
    """
    required = [c.commit for c in target.commits if c.identity_related]
    modes = trailer_modes(trust.policy.policy)
    every = list(dict.fromkeys(c.commit for c in target.commits))
    checked = every if modes.every_commit else required
    if not modes.active or not available:
        checked = []
    if not modes.every_commit and not target.show_all:
        commits = read_commits(git, checked) if checked else {}
        return required, commits, _ai_trailers(commits, checked)
    commits = read_commits(git, every)
    trailers = _ai_trailers(commits, checked)
    noted = store.read_many(every, screen=trust.screen) if available else {}
    wanted = (
        set(required) | {s for s, t in trailers.items() if t} | {s for s, n in noted.items() if n}
    )
    return [sha for sha in every if sha in wanted], commits, trailers


def _ai_trailers(commits: dict[str, Commit], shas: Sequence[str]) -> dict[str, list[AiTrailer]]:
    """Each commit's AI trailers; git parses only messages that name an AI trailer key."""
    maybe = {sha: commits[sha].raw for sha in shas if may_name_an_ai(message_of(commits[sha].raw))}
    parsed = trailers_of(maybe)
    return {sha: ai_trailers(parsed.get(sha, [])) for sha in shas}


def _verdict(c: CommitClassification, outcome: Outcome, commit: Commit | None, target: Target,
             trust: TrustContext) -> CommitVerdict:  # fmt: skip
    """One commit's verdict before trailers and pending marks."""
    if not c.identity_related:
        shown = outcome if target.show_all and isinstance(outcome, tuple) else ()
        return CommitVerdict(c.commit, "not-required", (), shown, False, c.rules)
    if isinstance(outcome, Reason) or commit is None:
        reason = outcome if isinstance(outcome, Reason) else Reason.ATTESTATIONS_UNAVAILABLE
        return CommitVerdict(c.commit, "refused", (reason,), (), True, c.rules,
                             findings=c.findings, paths=_paths(c))  # fmt: skip
    decided = decide(commit, outcome, trust.policy.policy)
    return replace(decided, identity_related=True, rules=c.rules, findings=c.findings,
                   paths=_paths(c))  # fmt: skip


def _evidence(verdict: CommitVerdict, results: Mapping[str, Outcome]) -> list[AttestationResult]:
    """The attestations a verdict stands on: its own, and its link's sources' (``via``)."""
    found = [results.get(verdict.commit)]
    if verdict.via is not None:
        found += [results.get(s) for s in verdict.sources]
    return [r for outcome in found if isinstance(outcome, tuple) for r in outcome]


def _through_link(verdict: CommitVerdict, followed: Followed) -> CommitVerdict:
    """A refused commit's verdict once its links were followed (passed, or why not)."""
    if followed.ok:
        return replace(verdict, status="ok", reasons=(), approvers=followed.approvers,
                       via=followed.via, sources=followed.sources)  # fmt: skip
    own = tuple(r for r in verdict.reasons if r != Reason.ATTESTATION_MISSING)
    return replace(verdict, reasons=(*own, *followed.reasons))


def _links(
    git: Git,
    target: Target,
    trust: TrustContext,
    store: AttestationStore,
    results: dict[str, Outcome],
    depth: int,
    planned: Plans,
) -> dict[str, Followed]:
    """Follow the links of identity commits without a valid change attestation of their own.

    ``results`` may hold the sources' outcomes already (verified in the same pool run).
    """
    candidates = [
        c for c in target.commits
        if c.identity_related and isinstance(results.get(c.commit), tuple)
        and not _has_valid_change(results.get(c.commit))
    ]  # fmt: skip
    if not candidates or depth >= MAX_DEPTH:
        return {}

    def decide_sources(sources: tuple[CommitClassification, ...]) -> dict[str, SourceStanding]:
        inner = gate(git, Target(sources, target.policy_from), trust, store, depth=depth + 1,
                     known=results)  # fmt: skip
        return {v.commit: SourceStanding(v.status == "ok", v.approvers) for v in inner.commits}

    links = read_links(store, [c.commit for c in candidates])
    rules = trust.policy.policy.identity
    return follow(git, candidates, links, rules, decide_sources, planned)


def _planned_sources(
    git: Git, target: Target, store: AttestationStore, lines: dict[str, list[bytes]], depth: int
) -> Plans:
    """Plans of the links on identity commits whose stored lines cannot count (so their
    sources can be verified in the same pool run as everything else)."""
    if depth >= MAX_DEPTH:
        return {}
    bare = [c.commit for c in target.commits
            if c.identity_related and candidates(lines.get(c.commit, [])) == 0]  # fmt: skip
    links = read_links(store, bare) if bare else {}
    return plan_links(git, links) if links else {}


def _paths(c: CommitClassification) -> tuple[str, ...]:
    """The identity-related paths of a commit (where a refusal is shown, e.g. in SARIF)."""
    return tuple(dict.fromkeys(p.path for p in c.paths if p.rules))


def gate(
    git: Git,
    target: Target,
    trust: TrustContext,
    store: AttestationStore,
    *,
    progress: Progress | None = None,
    depth: int = 0,
    known: Mapping[str, Outcome] | None = None,
) -> Report:
    """Decide every commit of ``target``; attestations verify in parallel worker processes.

    AI trailers (``Assisted-by``, ``Generated-by``, AI co-authors) of identity-related
    commits are compared with their valid change attestations (:mod:`.trailers`); the older
    ``[agents] trailer`` setting checks every commit.
    An identity commit without a valid change attestation of its own may pass through a
    rewrite link (:mod:`provenance.verify.links`); its trailers are then compared with its
    sources' attestations. ``depth`` counts the links followed to get here, ``known`` holds
    outcomes verified already.
    """
    modes = trailer_modes(trust.policy.policy)
    available = store.available()
    to_verify, commits, trailers = _scope(git, target, store, trust, available)
    results: dict[str, Outcome] = dict(known or {})
    planned: Plans = {}
    if available and to_verify:
        lines = store.read_many(to_verify, screen=trust.screen)
        planned = _planned_sources(git, target, store, lines, depth)
        chosen = set(to_verify)
        extra = [s for s in plan_commits(planned) if s not in chosen and s not in results]
        lines |= store.read_many(extra, screen=trust.screen) if extra else {}
        todo = [sha for sha in [*to_verify, *extra] if sha not in results]
        trust.verifier_if_needed(lines)
        wanted = [s for s in [*to_verify, *extra] if s not in commits]
        commits = {**read_commits(git, wanted), **commits}
        jobs = [(sha, commits[sha].raw, lines.get(sha, [])) for sha in todo]
        weight = sum(len(job[2]) for job in jobs)
        outcomes = run_all(_verify_lines, jobs, trust, weight=weight, progress=progress)
        results |= {job[0]: outcome for job, outcome in zip(jobs, outcomes, strict=True)}
    linked = _links(git, target, trust, store, results, depth, planned) if available else {}
    required = any(c.identity_related for c in target.commits)
    pending = pending_ids(git) if required or modes.every_commit else set()
    verdicts = []
    warnings: list[TrailerWarning] = []
    for c in target.commits:
        outcome = results.get(c.commit, Reason.ATTESTATIONS_UNAVAILABLE)
        v = _verdict(c, outcome, commits.get(c.commit), target, trust)
        if c.commit in linked and v.status == "refused":
            v = _through_link(v, linked[c.commit])
        if c.commit in trailers:
            seen = _evidence(v, results)
            v, warning = check_trailers(v, c.identity_related, trailers[c.commit], seen, modes)
            warnings += [warning] if warning is not None else []
        if v.status == "refused" and c.commit in pending and not _has_valid_change(outcome):
            v = mark_pending(v)
        verdicts.append(v)
    return Report(
        tuple(verdicts),
        trust.policy.source,
        trust.policy.digest,
        policy_from=target.policy_from,
        range=target.range,
        warnings=tuple(warnings),
        revocations=revocations_info(trust.policy),
    )


def revocations_info(loaded: LoadedPolicy) -> dict[str, Any] | None:
    """Which revocations file decided with the policy (``None``: there was none)."""
    if loaded.revocations_source is None:
        return None
    return {
        "source": loaded.revocations_source,
        "digest": loaded.revocations_digest,
        "entries": len(loaded.revocations.revocation),
    }


__all__ = [
    "Standing",
    "Target",
    "candidates",
    "decide",
    "gate",
    "mark_pending",
    "standing",
    "verify_note",
]
