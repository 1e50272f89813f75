"""Decide commits: there must exist one fully valid change attestation (THREATS.md F35)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from provenance.errors import ConfigError
from provenance.gitio import Git, check_repository_safe, read_commit
from provenance.policy import LoadedPolicy
from provenance.store import MAX_LINES_PER_COMMIT, AttestationStore
from provenance.verify.attestation import AttestationResult, TrustContext, verify_line
from provenance.verify.keyed import policy_keys
from provenance.verify.reasons import Reason
from provenance.verify.report import CommitVerdict, Report
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
    keys = policy_keys(loaded, loaded.policy.signers)
    return TrustContext(policy=loaded, keys=keys, bundle_verifier=bundle_verifier)


def decide(commit: str, results: Sequence[AttestationResult]) -> CommitVerdict:
    """ok iff some change attestation passed every check; otherwise every reason seen."""
    if any(r.ok and r.kind == "change" for r in results):
        return CommitVerdict(commit, "ok", (), tuple(results))
    reasons = sorted({reason for r in results for reason in r.reasons})
    if not reasons:
        reasons = [Reason.ATTESTATION_MISSING.value]
    return CommitVerdict(commit, "refused", tuple(reasons), tuple(results))


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
        verdicts.append(decide(sha, results))
    return Report(tuple(verdicts), trust.policy.source, trust.policy.digest)
