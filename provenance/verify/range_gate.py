"""The release gate over a range: every identity-related commit needs a valid attestation."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from provenance.classify.classified import CommitClassification
from provenance.gitio import Commit, Git, parse_commit, read_commits
from provenance.record.capture import assisted_by
from provenance.store import AttestationStore
from provenance.verify.attestation import AttestationResult, TrustContext
from provenance.verify.gate import decide, mark_pending, pending_commits, verify_note
from provenance.verify.reasons import Reason
from provenance.verify.report import CommitVerdict, Report

Progress = Callable[[int, int], None]


#: Below this many attestations, forking workers costs more than it saves.
POOL_THRESHOLD = 48
_POOL_STATE: dict[str, TrustContext] = {}


def _verify_lines(
    sha: str, raw: bytes, lines: list[bytes]
) -> tuple[AttestationResult, ...] | Reason:
    """Verify one commit's lines (in a worker or inline); the commit is parsed from raw bytes."""
    return verify_note(lines, parse_commit(sha, raw), _POOL_STATE["trust"])


def _run_all(
    jobs: list[tuple[str, bytes, list[bytes]]], trust: TrustContext, progress: Progress | None
) -> dict[str, tuple[AttestationResult, ...] | Reason]:
    """Verify every job; fork a process per core when there is enough work (CPU-bound, GIL)."""
    _POOL_STATE["trust"] = trust
    total = sum(len(lines) for _, _, lines in jobs)
    workers = min(os.cpu_count() or 1, 8)
    results: dict[str, tuple[AttestationResult, ...] | Reason] = {}
    if total < POOL_THRESHOLD or workers < 2 or "fork" not in mp.get_all_start_methods():
        for n, (sha, raw, lines) in enumerate(jobs, 1):
            results[sha] = _verify_lines(sha, raw, lines)
            if progress is not None and (n % 50 == 0 or n == len(jobs)):
                progress(n, len(jobs))
        return results
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        chunk = max(1, len(jobs) // (workers * 4))
        outcomes = pool.map(_verify_lines, *zip(*jobs, strict=True), chunksize=chunk)
        for n, ((sha, _, _), outcome) in enumerate(zip(jobs, outcomes, strict=True), 1):
            results[sha] = outcome
            if progress is not None and (n % 50 == 0 or n == len(jobs)):
                progress(n, len(jobs))
    return results


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
    reason = (
        Reason.TRAILER_WITHOUT_ATTESTATION if trailer else Reason.ATTESTATION_WITHOUT_TRAILER
    ).value
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
        results = _run_all(jobs, trust, progress)
    pending = pending_commits(git) if required or mode != "ignore" else set()
    verdicts = []
    warnings: list[dict[str, str]] = []
    for c in classified:
        outcome = results.get(c.commit, Reason.ATTESTATIONS_UNAVAILABLE)
        if not c.identity_related:
            v = CommitVerdict(c.commit, "not-required", (), (), False, c.rules)
        elif isinstance(outcome, Reason):
            v = CommitVerdict(
                c.commit, "refused", (outcome.value,), (), True, c.rules, findings=c.findings
            )
        else:
            d = decide(commits[c.commit], outcome, trust.policy.policy)
            v = replace(d, identity_related=True, rules=c.rules, findings=c.findings)
        if mode != "ignore" and available:
            v = _trailer_check(v, c.commit in trailers, results.get(c.commit), mode, warnings)
        if v.status == "refused" and c.commit in pending and not _has_valid_change(outcome):
            v = mark_pending(v)
        verdicts.append(v)
    extra: dict[str, object] = {"range": range_info}
    if warnings:
        extra["warnings"] = warnings
    return Report(tuple(verdicts), trust.policy.source, trust.policy.digest, extra=extra)
