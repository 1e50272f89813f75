"""Separation of duties: count distinct allowed human approvals of a valid change attestation.

Never counted (THREATS.md D): an approval by the change's signer, the prompter, the commit
author or committer (matched by identity and by person), by an identity that is not an
approver, for another change attestation or commit, or a duplicate (same person counts once,
whatever the number of identities, stored copies or malleated signatures). The latest decision
of each person wins (signed time, then the person's own ``decided_at``; an exact tie is a
``reject``): a ``reject`` blocks until that person approves again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from provenance.gitio import Commit
from provenance.policy import Policy
from provenance.verify.attestation import AttestationResult
from provenance.verify.reasons import Reason


@dataclass(frozen=True)
class ApprovalVerdict:
    """Distinct people counted, and why the rest did not count."""

    approvers: tuple[str, ...]
    reasons: tuple[str, ...]


def _people_of(policy: Policy, identity: str | None) -> set[str]:
    """The approver persons an identity belongs to (exact identity or anchored pattern)."""
    if not identity:
        return set()
    identity = identity.lower()
    return {
        a.person
        for a in policy.approvers
        if (a.identity is not None and a.identity.lower() == identity)
        or (
            a.identity_pattern is not None
            and re.fullmatch(a.identity_pattern, identity, re.IGNORECASE) is not None
        )
    }


def excluded_people(
    policy: Policy, commit: Commit, changes: Sequence[AttestationResult]
) -> set[str]:
    """Identities and persons who produced the change: they may not approve it."""
    names: set[str] = {commit.author_email.lower(), commit.committer_email.lower()}
    roles: set[str] = set()
    for change in changes:
        if change.signer:
            names.add(change.signer.lower())
        if change.approver:
            roles.add(change.approver)  # the verified change signer is itself an approver
        prompter = (change.predicate or {}).get("prompter")
        if isinstance(prompter, str):
            names.add(prompter.lower())
    people = {p for n in names for p in _people_of(policy, n)}
    return (
        {n for n in names if n}
        | people
        | roles
        | {a.person for a in policy.approvers if a.person.lower() in names}
    )


def _decided_at(result: AttestationResult) -> datetime:
    decided = (result.predicate or {}).get("decided_at")
    try:
        when = datetime.fromisoformat(str(decided).replace("Z", "+00:00"))
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _time(result: AttestationResult) -> tuple[datetime, datetime]:
    """Signed time first; the approver's own ``decided_at`` orders decisions in the same second.

    Log times have one-second resolution and stored lines may be reordered (a sorted union
    merge), so line order must never decide which of one person's decisions is the latest.
    """
    decided = _decided_at(result)
    return (result.signed_time or decided, decided)


def evaluate(
    policy: Policy, commit: Commit, results: Sequence[AttestationResult]
) -> ApprovalVerdict:
    """Count approvals of this commit's valid change attestations against ``policy``."""
    changes = [r for r in results if r.ok and r.kind == "change"]
    valid_digests = {r.digest for r in changes if r.digest}
    excluded = excluded_people(policy, commit, changes)
    reasons: set[str] = set()
    latest: dict[str, tuple[tuple[datetime, datetime], str]] = {}
    for r in results:
        if r.kind != "approval":
            continue
        if not r.ok:
            reasons.update(r.reasons)
            continue
        approved = (r.predicate or {}).get("change_attestation", {}).get("sha256")
        if approved not in valid_digests:
            reasons.add(Reason.APPROVAL_FOR_OTHER_ATTESTATION.value)
            continue
        person = r.approver or ""
        if person in excluded or (r.signer or "").lower() in excluded:
            reasons.add(Reason.SELF_APPROVAL.value)
            continue
        decision = str((r.predicate or {}).get("decision"))
        when = _time(r)
        previous = latest.get(person)
        if (
            previous is None
            or when > previous[0]
            or (when == previous[0] and decision == "reject")  # a true tie blocks
        ):
            latest[person] = (when, decision)
    approvers = tuple(sorted(p for p, (_, d) in latest.items() if d == "approve"))
    if any(d == "reject" for _, d in latest.values()):
        reasons.add(Reason.APPROVAL_REJECTED.value)
    elif len(approvers) < policy.approvals.required:
        reasons.add(
            Reason.APPROVAL_THRESHOLD_NOT_MET.value
            if approvers or reasons
            else Reason.APPROVAL_MISSING.value
        )
    else:
        reasons.clear()
    return ApprovalVerdict(approvers, tuple(sorted(reasons)))
