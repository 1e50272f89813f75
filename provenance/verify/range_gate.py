"""The release gate over a range: every identity-related commit needs a valid attestation."""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace

from provenance.gitio import Commit, Git, parse_commit, read_commits
from provenance.record.classified import CommitClassification
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.verify.attestation import AttestationResult, TrustContext, verify_line
from provenance.verify.gate import decide
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
    if len(lines) > MAX_LINES_PER_COMMIT:
        return Reason.TOO_MANY_ATTESTATIONS
    commit = parse_commit(sha, raw)
    trust = _POOL_STATE["trust"]
    return tuple(verify_line(i, line, commit, trust) for i, line in enumerate(lines))


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


def gate(
    git: Git,
    classified: Sequence[CommitClassification],
    trust: TrustContext,
    store: AttestationStore,
    *,
    range_info: dict[str, str],
    progress: Progress | None = None,
) -> Report:
    """Decide every commit of the range; attestations verify in parallel worker processes."""
    required = [c.commit for c in classified if c.identity_related]
    available = store.available()
    results: dict[str, tuple[AttestationResult, ...] | Reason] = {}
    commits: dict[str, Commit] = {}
    if available and required:
        lines = store.read_many(required)
        trust.verifier_if_needed(lines)
        commits = read_commits(git, required)
        jobs = [(sha, commits[sha].raw, lines.get(sha, [])) for sha in required]
        results = _run_all(jobs, trust, progress)
    verdicts = []
    for c in classified:
        if not c.identity_related:
            verdicts.append(CommitVerdict(c.commit, "not-required", (), (), False, c.rules))
            continue
        outcome = results.get(c.commit, Reason.ATTESTATIONS_UNAVAILABLE)
        if isinstance(outcome, Reason):
            verdicts.append(CommitVerdict(c.commit, "refused", (outcome.value,), (), True, c.rules))
            continue
        d = decide(commits[c.commit], outcome, trust.policy.policy)
        verdicts.append(replace(d, identity_related=True, rules=c.rules))
    return Report(
        tuple(verdicts), trust.policy.source, trust.policy.digest, extra={"range": range_info}
    )
