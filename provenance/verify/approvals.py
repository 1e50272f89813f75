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
from email.utils import parseaddr

from provenance.gitio import Commit
from provenance.policy import Policy
from provenance.predicates import ApprovalPredicate, ChangePredicate
from provenance.reasons import Reason
from provenance.verify.attestation import AttestationResult

_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class ChangeFacts:
    """What separation of duties needs of one valid change attestation.

    A verified line supplies it (:func:`facts_of`), and so does an index row, so the index
    decides with this very code. ``signed_prompter``/``prompter_person``: who signed the
    prompt attestation it carries, when that bound (G50).
    """

    digest: str | None
    signer: str | None
    approver: str | None
    prompter: str | None
    signed_prompter: str | None = None
    prompter_person: str | None = None


@dataclass(frozen=True)
class ApprovalFacts:
    """What counting needs of one approval line; ``reasons`` empty when it verified."""

    reasons: tuple[Reason, ...]
    approves: str | None = None
    approver: str | None = None
    signer: str | None = None
    signed_time: datetime | None = None
    decided_at: datetime = _NEVER
    decision: str = ""


@dataclass(frozen=True)
class ApprovalVerdict:
    """Distinct people counted, why the rest did not count, and which approvals counted.

    ``counted`` holds indices into the approvals :func:`evaluate` was given.
    """

    approvers: tuple[str, ...]
    reasons: tuple[Reason, ...]
    counted: tuple[int, ...] = ()


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def change_facts(r: AttestationResult) -> ChangeFacts:
    """The facts of a valid change attestation (its predicate, signer and prompter check)."""
    predicate = r.predicate if isinstance(r.predicate, ChangePredicate) else None
    signed = r.prompter if r.prompter is not None and r.prompter.status == "signed" else None
    return ChangeFacts(
        digest=r.digest,
        signer=r.signer,
        approver=r.approver,
        prompter=predicate.prompter if predicate is not None else None,
        signed_prompter=(signed.identity or "") if signed is not None else None,
        prompter_person=signed.person if signed is not None else None,
    )


def approval_facts(r: AttestationResult) -> ApprovalFacts:
    """The facts of an approval line (its reasons when it did not verify)."""
    if not r.ok or not isinstance(r.predicate, ApprovalPredicate):
        return ApprovalFacts(r.reasons or (Reason.PREDICATE_INVALID,))
    p = r.predicate
    return ApprovalFacts(
        reasons=(),
        approves=p.change_attestation.get("sha256"),
        approver=r.approver,
        signer=r.signer,
        signed_time=r.signed_time,
        decided_at=_aware(p.decided_at),
        decision=p.decision,
    )


def facts_of(
    results: Sequence[AttestationResult],
) -> tuple[list[ChangeFacts], list[ApprovalFacts]]:
    """Valid change attestations and every approval line, as the counting reads them."""
    changes = [change_facts(r) for r in results if r.ok and r.kind == "change"]
    approvals = [approval_facts(r) for r in results if r.kind == "approval"]
    return changes, approvals


def _fold(text: str) -> str:
    return text.strip().casefold()


def _forms(who: str) -> set[str]:
    """A prompter, author or committer as written, its address and its display name (folded).

    ``Bob <bob@example.com>``, ``bob@example.com`` and ``Bob`` all name bob. An address's
    local part is a form too, so a person named like it (``bob``) is excluded even when
    the policy lists no address for them (key approvers): it can only widen the exclusion.
    """
    name, address = parseaddr(who)
    local = address.rpartition("@")[0] if "@" in address else ""
    return {f for f in (_fold(who), _fold(address), _fold(name), _fold(local)) if f}


def _people_of(policy: Policy, identity: str) -> set[str]:
    """The approver persons a name or address belongs to: identity, pattern, emails, person."""
    return {
        _fold(a.person)
        for a in policy.approvers
        if (a.identity is not None and _fold(a.identity) == identity)
        or (
            a.identity_pattern is not None
            and re.fullmatch(a.identity_pattern, identity, re.IGNORECASE) is not None
        )
        or identity in {_fold(e) for e in a.emails}
        or identity == _fold(a.person)
    }


def excluded_people(policy: Policy, commit: Commit, changes: Sequence[ChangeFacts]) -> set[str]:
    """Identities and persons who produced the change: they may not approve it (folded)."""
    names: set[str] = set()
    for ident in (commit.author, commit.committer):
        names |= _forms(ident.rsplit(">", 1)[0] + ">" if ">" in ident else ident)
    roles: set[str] = set()
    for change in changes:
        if change.signer:
            names.add(_fold(change.signer))
        if change.approver:
            roles.add(_fold(change.approver))  # the verified change signer is an approver
        if change.prompter is not None:
            names |= _forms(change.prompter)
        if change.signed_prompter is not None:  # who signed the prompt (G50)
            names |= _forms(change.signed_prompter)
            if change.prompter_person:
                roles.add(_fold(change.prompter_person))
    people = {p for n in names for p in _people_of(policy, n)}
    return names | people | roles


@dataclass(frozen=True)
class _Decision:
    signed: datetime | None  # proven by the log or a timestamp authority; None for keys
    decided: datetime  # what the approver claims
    decision: str

    def later_than(self, other: _Decision) -> bool:
        """Does this decision supersede ``other`` (same person)?

        Signed time first, the claimed ``decided_at`` within the same second (log times have
        one-second resolution and stored lines may be reordered, so line order never
        decides). When only one of the two has a proven time, a claimed time cannot beat it:
        a reject wins (a key approval dated in the future must not undo a logged reject).
        An exact tie is a reject.
        """
        if (self.signed is None) != (other.signed is None) and self.decision != other.decision:
            return self.decision == "reject"
        mine = (self.signed or self.decided, self.decided)
        theirs = (other.signed or other.decided, other.decided)
        return mine > theirs or (mine == theirs and self.decision == "reject")


def _chronological(a: ApprovalFacts) -> tuple[datetime, datetime, bool]:
    """Decisions in time order (a reject after an approval of the same instant)."""
    return (a.signed_time or a.decided_at, a.decided_at, a.decision == "reject")


def evaluate(
    policy: Policy,
    commit: Commit,
    changes: Sequence[ChangeFacts],
    approvals: Sequence[ApprovalFacts],
) -> ApprovalVerdict:
    """Count approvals of this commit's valid change attestations against ``policy``.

    People are counted per change attestation: N approvals must approve one and the same
    attestation (what each approver saw). A person's latest decision on any of the commit's
    valid attestations being a reject blocks the commit.
    """
    valid_digests = {c.digest for c in changes if c.digest}
    excluded = excluded_people(policy, commit, changes)
    reasons: set[Reason] = set()
    latest: dict[tuple[str, str], _Decision] = {}  # (digest, person) -> latest decision
    overall: dict[str, _Decision] = {}  # person -> latest decision on any attestation
    for a in sorted(approvals, key=_chronological):
        if a.reasons:
            reasons.update(a.reasons)
            continue
        if a.approves not in valid_digests or a.approves is None:
            reasons.add(Reason.APPROVAL_FOR_OTHER_ATTESTATION)
            continue
        person = _fold(a.approver or "")
        if not person or person in excluded or _fold(a.signer or "") in excluded:
            reasons.add(Reason.SELF_APPROVAL)
            continue
        decision = _Decision(a.signed_time, a.decided_at, a.decision)
        previous = latest.get((a.approves, person))
        if previous is None or decision.later_than(previous):
            latest[(a.approves, person)] = decision
        previous = overall.get(person)
        if previous is None or decision.later_than(previous):
            overall[person] = decision
    by_digest: dict[str, set[str]] = {}
    for (digest, person), d in latest.items():
        if d.decision == "approve" and overall[person].decision == "approve":
            by_digest.setdefault(digest, set()).add(person)
    best = max(by_digest.values(), key=len, default=set())
    approvers = tuple(sorted(best))
    if any(d.decision == "reject" for d in overall.values()):
        reasons.add(Reason.APPROVAL_REJECTED)
    elif len(approvers) < policy.approvals.required:
        reasons.add(
            Reason.APPROVAL_THRESHOLD_NOT_MET if approvers or reasons else Reason.APPROVAL_MISSING
        )
    else:
        reasons.clear()
    counted = tuple(
        i
        for i, a in enumerate(approvals)
        if not a.reasons
        and a.approver in approvers
        and a.decision == "approve"
        and a.approves in valid_digests
    )
    return ApprovalVerdict(approvers, tuple(sorted(reasons)), counted)
