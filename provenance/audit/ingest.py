"""Turn stored lines into index rows: verify each new line, then re-decide its commit.

Verification is the verifier's own ``verify_line`` against the policy's trust settings; a line
that fails any check is remembered as refused and never becomes a row. Each touched commit is
then decided again as the gate decides it: not identity-related (a range of one) is
``not-required``; otherwise from its verified rows (``decide`` and ``evaluate``), which gives
its standing and which approval lines counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from provenance.audit.models import AttestationRow, RefusedLine, line_digest
from provenance.audit.writes import Writer
from provenance.gitio import Commit, parse_commit
from provenance.policy import Policy
from provenance.reasons import Reason
from provenance.verify.attestation import AttestationResult, verify_line
from provenance.verify.gate import standing
from provenance.verify.pool import run_all
from provenance.verify.trust import TrustContext

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class LineJob:
    """One stored line not seen before, and the commit it is stored on."""

    commit: Commit
    index: int
    line: bytes


def _verify(job: tuple[str, bytes, int, bytes], trust: TrustContext) -> AttestationResult:
    sha, raw, index, line = job
    return verify_line(index, line, parse_commit(sha, raw), trust)


def verify_jobs(
    jobs: Sequence[LineJob], trust: TrustContext, progress: Progress | None = None
) -> list[AttestationResult]:
    """Verify every job, in worker processes when there is enough work (:mod:`verify.pool`)."""
    items = [(j.commit.sha, j.commit.raw, j.index, j.line) for j in jobs]
    return run_all(_verify, items, trust, progress=progress)


def to_rows(
    jobs: Sequence[LineJob],
    results: Sequence[AttestationResult],
    *,
    verified_at: datetime,
    trust_root_digest: str | None,
    policy_digest: str,
) -> tuple[list[AttestationRow], list[RefusedLine]]:
    """Verified change/approval lines become rows; everything else is remembered as refused."""
    rows: list[AttestationRow] = []
    refused: list[RefusedLine] = []
    for job, result in zip(jobs, results, strict=True):
        if result.ok and result.kind in ("change", "approval"):
            rows.append(
                AttestationRow.from_result(
                    job.line,
                    job.commit.sha,
                    result,
                    verified_at=verified_at,
                    trust_root_digest=trust_root_digest,
                    policy_digest=policy_digest,
                )
            )
        else:
            reasons = result.reasons or (Reason.PREDICATE_TYPE_UNKNOWN,)
            refused.append(RefusedLine(line_digest=line_digest(job.line), commit=job.commit.sha,
                                       reasons=reasons))  # fmt: skip
    return rows, refused


def redecide(
    writer: Writer, commits: Sequence[Commit], policy: Policy, related: dict[str, bool]
) -> None:
    """Decide each commit again from its verified rows, as the gate would, and record it.

    A commit that is not identity-related (classified as a range of one with the index's
    policy, ``related[sha]`` false) needs nothing: ``not-required``, and no approval counts
    toward it. Only rows of the writer's repository are read.
    """
    decided: list[tuple[str, str, Sequence[str], Sequence[str], Sequence[str]]] = []
    for commit in commits:
        if not related[commit.sha]:
            decided.append((commit.sha, "not-required", (), (), []))
            continue
        changes, approvals = writer.facts(commit.sha)
        verdict = standing(commit, changes, [facts for _, facts in approvals], policy)
        counted = [approvals[i][0] for i in verdict.counted]
        decided.append((commit.sha, verdict.status, verdict.reasons, verdict.approvers, counted))
    writer.set_standings(decided)
