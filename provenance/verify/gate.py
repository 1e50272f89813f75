"""The release gate: decide every commit of a target; identity-related ones need evidence.

A target is a range ``BASE..HEAD`` or named commits, each classified against its parents by
the same walk (a single commit is a range of one). The decision is the same for both: an
identity-related commit passes only if one stored change attestation passes every check and
enough people approved it (THREATS.md F35); any other commit is ``not-required``. For named
commits the attestations present on a commit that is not required are still verified and
shown (``Target.show_all``): a person asked about that commit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from provenance.classify.classified import CommitClassification
from provenance.gitio import Commit, Git, parse_commit, read_commits
from provenance.policy import Policy
from provenance.reasons import Reason
from provenance.record.capture import assisted_by
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.store.pending import pending_ids
from provenance.verify.approvals import ApprovalFacts, ChangeFacts, evaluate, facts_of
from provenance.verify.attestation import AttestationResult, verify_line
from provenance.verify.pool import run_all
from provenance.verify.report import CommitVerdict, RangeInfo, Report, Status, TrailerWarning
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


def _trailer_check(
    verdict: CommitVerdict,
    trailer: bool,
    outcome: Outcome | None,
    mode: str,
    warnings: list[TrailerWarning],
) -> CommitVerdict:
    """Flag an Assisted-by trailer and a valid change attestation that disagree."""
    valid = _has_valid_change(outcome)
    if trailer == valid:
        return verdict
    reason = Reason.TRAILER_WITHOUT_ATTESTATION if trailer else Reason.ATTESTATION_WITHOUT_TRAILER
    if mode == "warn":
        warnings.append(TrailerWarning(verdict.commit, reason))
        return verdict
    attestations = verdict.attestations or (outcome if isinstance(outcome, tuple) else ())
    return replace(
        verdict, status="refused", reasons=(*verdict.reasons, reason), attestations=attestations
    )


def _scope(
    git: Git, target: Target, store: AttestationStore, trust: TrustContext, available: bool
) -> tuple[list[str], dict[str, Commit], set[str]]:
    """What to verify: identity commits; with trailers or ``show_all``, any with a note too."""
    required = [c.commit for c in target.commits if c.identity_related]
    mode = trust.policy.policy.agents.trailer
    if mode == "ignore" and not target.show_all:
        return required, {}, set()
    every = list(dict.fromkeys(c.commit for c in target.commits))
    commits = read_commits(git, every)
    trailers = (
        {sha for sha in every if assisted_by(commits[sha].raw)} if mode != "ignore" else set()
    )
    noted = store.read_many(every, screen=trust.screen) if available else {}
    wanted = set(required) | trailers | {sha for sha, lines in noted.items() if lines}
    return [sha for sha in every if sha in wanted], commits, trailers


def _verdict(c: CommitClassification, outcome: Outcome, commit: Commit | None, target: Target,
             trust: TrustContext) -> CommitVerdict:  # fmt: skip
    """One commit's verdict before trailers and pending marks."""
    if not c.identity_related:
        shown = outcome if target.show_all and isinstance(outcome, tuple) else ()
        return CommitVerdict(c.commit, "not-required", (), shown, False, c.rules)
    if isinstance(outcome, Reason) or commit is None:
        reason = outcome if isinstance(outcome, Reason) else Reason.ATTESTATIONS_UNAVAILABLE
        return CommitVerdict(c.commit, "refused", (reason,), (), True, c.rules, paths=_paths(c))
    decided = decide(commit, outcome, trust.policy.policy)
    return replace(decided, identity_related=True, rules=c.rules, paths=_paths(c))


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
) -> Report:
    """Decide every commit of ``target``; attestations verify in parallel worker processes.

    With ``[agents] trailer`` set to warn or refuse, every commit is also checked for an
    ``Assisted-by:`` trailer (read from the commit object) that disagrees with the presence
    of a valid change attestation.
    """
    mode = trust.policy.policy.agents.trailer
    available = store.available()
    to_verify, commits, trailers = _scope(git, target, store, trust, available)
    results: dict[str, Outcome] = {}
    if available and to_verify:
        lines = store.read_many(to_verify, screen=trust.screen)
        trust.verifier_if_needed(lines)
        commits = commits or read_commits(git, to_verify)
        jobs = [(sha, commits[sha].raw, lines.get(sha, [])) for sha in to_verify]
        weight = sum(len(job[2]) for job in jobs)
        outcomes = run_all(_verify_lines, jobs, trust, weight=weight, progress=progress)
        results = {job[0]: outcome for job, outcome in zip(jobs, outcomes, strict=True)}
    required = any(c.identity_related for c in target.commits)
    pending = pending_ids(git) if required or mode != "ignore" else set()
    verdicts = []
    warnings: list[TrailerWarning] = []
    for c in target.commits:
        outcome = results.get(c.commit, Reason.ATTESTATIONS_UNAVAILABLE)
        v = _verdict(c, outcome, commits.get(c.commit), target, trust)
        if mode != "ignore" and available:
            v = _trailer_check(v, c.commit in trailers, results.get(c.commit), mode, warnings)
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
    )


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
