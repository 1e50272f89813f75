"""The release gate over a range: every identity-related commit needs a valid attestation."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from provenance.classify.classified import CommitClassification
from provenance.gitio import Commit, Git, parse_commit, read_commits
from provenance.reasons import Reason
from provenance.record.capture import assisted_by
from provenance.store import AttestationStore
from provenance.store.pending import pending_ids
from provenance.verify.attestation import AttestationResult
from provenance.verify.gate import decide, mark_pending, verify_note
from provenance.verify.pool import run_all
from provenance.verify.report import CommitVerdict, Report
from provenance.verify.trust import TrustContext

Progress = Callable[[int, int], None]


def _verify_lines(
    job: tuple[str, bytes, list[bytes]], trust: TrustContext
) -> tuple[AttestationResult, ...] | Reason:
    """Verify one commit's lines (in a worker or inline); the commit is parsed from raw bytes."""
    sha, raw, lines = job
    return verify_note(lines, parse_commit(sha, raw), trust)


def _has_valid_change(outcome: tuple[AttestationResult, ...] | Reason | None) -> bool:
    return isinstance(outcome, tuple) and any(r.ok and r.kind == "change" for r in outcome)


def _trailer_check(
    verdict: CommitVerdict,
    trailer: bool,
    outcome: tuple[AttestationResult, ...] | Reason | None,
    mode: str,
    warnings: list[dict[str, str]],
) -> CommitVerdict:
    """Flag an Assisted-by trailer and a valid change attestation that disagree."""
    valid = _has_valid_change(outcome)
    if trailer == valid:
        return verdict
    reason = Reason.TRAILER_WITHOUT_ATTESTATION if trailer else Reason.ATTESTATION_WITHOUT_TRAILER
    if mode == "warn":
        warnings.append({"commit": verdict.commit, "reason": reason})
        return verdict
    attestations = verdict.attestations or (outcome if isinstance(outcome, tuple) else ())
    return replace(
        verdict, status="refused", reasons=(*verdict.reasons, reason), attestations=attestations
    )


def _trailer_scope(
    git: Git,
    classified: Sequence[CommitClassification],
    store: AttestationStore,
    trust: TrustContext,
    available: bool,
) -> tuple[list[str], dict[str, Commit], set[str]]:
    """What to verify when trailers count: identity commits, and any with a note or trailer."""
    every = [c.commit for c in classified]
    commits = read_commits(git, every)
    trailers = {sha for sha in every if assisted_by(commits[sha].raw)}
    noted = store.read_many(every, screen=trust.screen) if available else {}
    required = {c.commit for c in classified if c.identity_related}
    wanted = required | trailers | {sha for sha, lines in noted.items() if lines}
    return [sha for sha in every if sha in wanted], commits, trailers


def gate(
    git: Git,
    classified: Sequence[CommitClassification],
    trust: TrustContext,
    store: AttestationStore,
    *,
    range_info: dict[str, str],
    progress: Progress | None = None,
) -> Report:
    """Decide every commit of the range; attestations verify in parallel worker processes.

    With ``[agents] trailer`` set to warn or refuse, every commit of the range is also
    checked for an ``Assisted-by:`` trailer (read from the commit object) that disagrees
    with the presence of a valid change attestation.
    """
    mode = trust.policy.policy.agents.trailer
    required = [c.commit for c in classified if c.identity_related]
    available = store.available()
    results: dict[str, tuple[AttestationResult, ...] | Reason] = {}
    commits: dict[str, Commit] = {}
    trailers: set[str] = set()
    to_verify = list(required)
    if mode != "ignore":
        to_verify, commits, trailers = _trailer_scope(git, classified, store, trust, available)
    if available and to_verify:
        lines = store.read_many(to_verify, screen=trust.screen)
        trust.verifier_if_needed(lines)
        commits = commits or read_commits(git, to_verify)
        jobs = [(sha, commits[sha].raw, lines.get(sha, [])) for sha in to_verify]
        weight = sum(len(job[2]) for job in jobs)
        outcomes = run_all(_verify_lines, jobs, trust, weight=weight, progress=progress)
        results = {job[0]: outcome for job, outcome in zip(jobs, outcomes, strict=True)}
    pending = pending_ids(git) if required or mode != "ignore" else set()
    verdicts = []
    warnings: list[dict[str, str]] = []
    for c in classified:
        outcome = results.get(c.commit, Reason.ATTESTATIONS_UNAVAILABLE)
        if not c.identity_related:
            v = CommitVerdict(c.commit, "not-required", (), (), False, c.rules)
        elif isinstance(outcome, Reason):
            v = CommitVerdict(c.commit, "refused", (outcome,), (), True, c.rules)
        else:
            d = decide(commits[c.commit], outcome, trust.policy.policy)
            v = replace(d, identity_related=True, rules=c.rules)
        if mode != "ignore" and available:
            v = _trailer_check(v, c.commit in trailers, results.get(c.commit), mode, warnings)
        if v.status == "refused" and c.commit in pending and not _has_valid_change(outcome):
            v = mark_pending(v)
        verdicts.append(v)
    extra: dict[str, object] = {"range": range_info}
    if warnings:
        extra["warnings"] = warnings
    return Report(tuple(verdicts), trust.policy.source, trust.policy.digest, extra=extra)
