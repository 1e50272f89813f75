"""Decide commits: there must exist one fully valid change attestation (THREATS.md F35)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from provenance.errors import ConfigError
from provenance.gitio import Commit, Git, check_repository_safe, read_commit
from provenance.policy import LoadedPolicy, Policy
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.verify.approvals import evaluate
from provenance.verify.attestation import AttestationResult, TrustContext, verify_line
from provenance.verify.keyed import policy_keys
from provenance.verify.reasons import Reason
from provenance.verify.report import CommitVerdict, Report, Status
from provenance.verify.sigstore_adapter import BundleVerifier


def trust_context(
    loaded: LoadedPolicy, bundle_verifier: Callable[[], BundleVerifier]
) -> TrustContext:
    """Refuse to run without signers (THREATS.md C12); keys load now, the root on first use."""
    if not loaded.policy.signers:
        raise ConfigError(
            f"{loaded.source}: no [[signers]] configured; refusing to verify",
            hint="add the identities or keys allowed to sign change attestations",
        )
    keys = policy_keys(loaded)
    return TrustContext(policy=loaded, keys=keys, bundle_verifier=bundle_verifier)


def decide(commit: Commit, results: Sequence[AttestationResult], policy: Policy) -> CommitVerdict:
    """ok iff some change attestation passed every check and enough people approved it."""
    if not any(r.ok and r.kind == "change" for r in results):
        reasons = sorted({reason for r in results for reason in r.reasons})
        missing = reasons or [Reason.ATTESTATION_MISSING.value]
        return CommitVerdict(commit.sha, "refused", tuple(missing), tuple(results))
    if policy.approvals.required == 0:
        return CommitVerdict(commit.sha, "ok", (), tuple(results))
    verdict = evaluate(policy, commit, results)
    status: Status = "refused" if verdict.reasons else "ok"
    return CommitVerdict(
        commit.sha, status, verdict.reasons, tuple(results), approvers=verdict.approvers
    )


def verify_commits(
    git: Git, commits: Sequence[str], trust: TrustContext, store: AttestationStore
) -> Report:
    """Verify the attestations of each given commit (full ids)."""
    check_repository_safe(git)
    verdicts: list[CommitVerdict] = []
    available = store.available()
    lines = store.read_many(commits) if available else {}
    for sha in commits:
        commit = read_commit(git, sha)
        if not available:
            verdicts.append(CommitVerdict(sha, "refused", (Reason.ATTESTATIONS_UNAVAILABLE.value,)))
            continue
        stored = lines.get(sha, [])
        if len(stored) > MAX_LINES_PER_COMMIT:
            verdicts.append(CommitVerdict(sha, "refused", (Reason.TOO_MANY_ATTESTATIONS.value,)))
            continue
        results = [verify_line(i, line, commit, trust) for i, line in enumerate(stored)]
        verdicts.append(decide(commit, results, trust.policy.policy))
    return Report(tuple(verdicts), trust.policy.source, trust.policy.digest)
