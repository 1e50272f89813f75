"""Decide commits: there must exist one fully valid change attestation (THREATS.md F35)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from provenance.gitio import Commit, Git, read_commit
from provenance.policy import Policy
from provenance.reasons import Reason
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.store.pending import pending_ids
from provenance.verify.approvals import evaluate
from provenance.verify.attestation import AttestationResult, verify_line
from provenance.verify.report import CommitVerdict, Report, Status
from provenance.verify.trust import TrustContext


def decide(commit: Commit, results: Sequence[AttestationResult], policy: Policy) -> CommitVerdict:
    """ok iff some change attestation passed every check and enough people approved it."""
    if not any(r.ok and r.kind == "change" for r in results):
        reasons = sorted({reason for r in results for reason in r.reasons})
        missing = reasons or [Reason.ATTESTATION_MISSING]
        return CommitVerdict(commit.sha, "refused", tuple(missing), tuple(results))
    verdict = evaluate(policy, commit, results)  # with required = 0, a reject still blocks
    if policy.approvals.required == 0 and Reason.APPROVAL_REJECTED not in verdict.reasons:
        return CommitVerdict(commit.sha, "ok", (), tuple(results), approvers=verdict.approvers)
    status: Status = "refused" if verdict.reasons else "ok"
    return CommitVerdict(
        commit.sha, status, verdict.reasons, tuple(results), approvers=verdict.approvers
    )


def candidates(lines: Sequence[bytes]) -> int:
    """Lines that may count: what the screen kept (stand-ins start with ``<``, JSON never)."""
    return sum(1 for line in lines if not line.startswith(b"<"))


def verify_note(
    lines: Sequence[bytes], commit: Commit, trust: TrustContext
) -> tuple[AttestationResult, ...] | Reason:
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


def verify_commits(
    git: Git, commits: Sequence[str], trust: TrustContext, store: AttestationStore
) -> Report:
    """Verify the attestations of each given commit (full ids).

    The caller has refused unsafe repositories (``check_repository_safe``) before resolving
    the commits, which already reads objects.
    """
    verdicts: list[CommitVerdict] = []
    attested: set[str] = set()
    available = store.available()
    lines = store.read_many(commits, screen=trust.screen) if available else {}
    for sha in commits:
        commit = read_commit(git, sha)
        if not available:
            verdicts.append(CommitVerdict(sha, "refused", (Reason.ATTESTATIONS_UNAVAILABLE,)))
            continue
        outcome = verify_note(lines.get(sha, []), commit, trust)
        if isinstance(outcome, Reason):
            verdicts.append(CommitVerdict(sha, "refused", (outcome,)))
            continue
        results = list(outcome)
        if any(r.ok and r.kind == "change" for r in results):
            attested.add(sha)  # a leftover pending entry must not say it is still missing
        verdicts.append(decide(commit, results, trust.policy.policy))
    waiting = {v.commit for v in verdicts if v.status == "refused"} - attested
    pending = pending_ids(git) & waiting if waiting else set()
    verdicts = [mark_pending(v) if v.commit in pending else v for v in verdicts]
    return Report(tuple(verdicts), trust.policy.source, trust.policy.digest)
