"""Human approval: show what is being approved, then sign and store the approval attestation."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from provenance.app.policy_source import resolve_policy
from provenance.app.stamp import SigningOptions, repository_uri, sign_statement
from provenance.app.verify import VerifyOptions, verifier_factory
from provenance.errors import ProvenanceError
from provenance.gitio import Commit, Git, read_commit, resolve_commit
from provenance.gitio.diff import diff_against
from provenance.predicates import APPROVAL_PREDICATE_TYPE, ApprovalPredicate, CommitRef
from provenance.sign import build_statement
from provenance.store import NotesStore
from provenance.verify.attestation import AttestationResult
from provenance.verify.gate import trust_context, verify_note
from provenance.verify.reasons import Reason


class ApprovalRefused(ProvenanceError):
    """The commit cannot be approved (no valid change attestation): exit 1."""

    exit_code = 1


@dataclass(frozen=True)
class Preview:
    """What an approver sees before signing."""

    commit: Commit
    change: AttestationResult
    diffstat: list[tuple[str, int, int]]
    notes_ref: str

    @property
    def predicate(self) -> dict[str, Any]:
        return self.change.predicate or {}


@dataclass(frozen=True)
class Approved:
    """What ``approve`` stored."""

    commit: str
    decision: str
    approves: str
    digest: str
    signer: str


def preview(repo: Path, rev: str, options: VerifyOptions) -> Preview:
    """Verify ``rev``'s change attestations; refuse unless one is fully valid."""
    git = Git.discover(repo)
    sha = resolve_commit(git, rev)
    commit = read_commit(git, sha)
    loaded = resolve_policy(git, options.policy, resolve_commit(git, "HEAD"))
    trust = trust_context(loaded, verifier_factory(options))
    lines = NotesStore(git, loaded.policy.notes_ref).read_many([sha], trust.screen)[sha]
    outcome = verify_note(lines, commit, trust)  # junk neither costs nor outvotes (G52)
    results = list(outcome) if isinstance(outcome, tuple) else []
    valid = [r for r in results if r.ok and r.kind == "change"]
    if not valid:
        missing = outcome.value if isinstance(outcome, Reason) else "attestation_missing"
        why = sorted({x for r in results for x in r.reasons}) or [missing]
        raise ApprovalRefused(
            f"{sha[:12]} has no valid change attestation ({', '.join(why)}); nothing to approve",
            hint="the agent wrapper must stamp it first (provenance stamp)",
        )
    newest = max(valid, key=lambda r: r.signed_time or datetime.min.replace(tzinfo=UTC))
    stat = [
        (c.path, len(c.added), len(c.removed))
        for parent in (commit.parents[:1] or (None,))
        for c in diff_against(git, sha, parent)
    ]
    return Preview(commit=commit, change=newest, diffstat=stat, notes_ref=loaded.policy.notes_ref)


def approve(
    repo: Path, seen: Preview, decision: str, comment: str | None, signing: SigningOptions
) -> Approved:
    """Sign an approval (or rejection) of the previewed change attestation and store it."""
    git = Git.discover(repo)
    commit = seen.commit
    predicate = ApprovalPredicate(
        change_attestation={"sha256": str(seen.change.digest)},
        commit=CommitRef(sha=commit.sha, tree=commit.tree, parents=list(commit.parents)),
        decision="approve" if decision == "approve" else "reject",
        comment=comment,
        decided_at=datetime.now(UTC),
    )
    uri = str(seen.predicate.get("repository", {}).get("uri") or repository_uri(git, None))
    statement = build_statement(commit, uri, APPROVAL_PREDICATE_TYPE, predicate)
    signed = sign_statement(statement, signing)
    NotesStore(git, seen.notes_ref).add(commit.sha, [signed.line])
    return Approved(
        commit=commit.sha,
        decision=predicate.decision,
        approves=f"sha256:{seen.change.digest}",
        digest="sha256:" + hashlib.sha256(statement).hexdigest(),
        signer=signed.signer,
    )
