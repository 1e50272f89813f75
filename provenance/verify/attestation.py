"""Verify one stored line end to end: shape, signature, signer, statement, binding."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from cryptography.x509 import Certificate

from provenance.gitio import Commit
from provenance.predicates import (
    ApprovalPredicate,
    ChangePredicate,
)
from provenance.reasons import Reason
from provenance.verify.envelope import parse_line
from provenance.verify.jsonstrict import StrictJSONError
from provenance.verify.keyed import verify_envelope
from provenance.verify.prompt import PrompterCheck, check_prompter
from provenance.verify.screen import (
    Kind,
    Refusal,
    kind_of,
    predicate_type_of,
    read_stand_in,
)
from provenance.verify.statement import check_statement
from provenance.verify.trust import TrustContext


@dataclass(frozen=True)
class AttestationResult:
    """The verdict on one stored line. ``ok`` only when every check passed."""

    index: int
    kind: Kind
    reasons: tuple[Reason, ...]
    format: str | None = None
    signer: str | None = None
    issuer: str | None = None
    signed_time: datetime | None = None
    digest: str | None = None
    predicate_type: str | None = None
    predicate: ChangePredicate | ApprovalPredicate | None = field(default=None, compare=False)
    change_signer: bool = False
    approver: str | None = None
    #: For a change attestation that passed its own checks: is its prompter signed (G50)?
    prompter: PrompterCheck | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was refused."""
        return not self.reasons


def _refused(index: int, refusal: Refusal) -> AttestationResult:
    return AttestationResult(
        index,
        refusal.kind,
        (refusal.reason,),
        format=refusal.format,
        signer=refusal.signer,
        issuer=refusal.issuer,
        digest=refusal.digest,
        predicate_type=refusal.predicate_type,
    )


def verify_line(index: int, line: bytes, commit: Commit, trust: TrustContext) -> AttestationResult:
    """Every check of THREATS.md A-C that applies to one line and one commit.

    A stand-in left by the screen (:mod:`provenance.verify.screen`) is reported as the
    refusal it records, without any further work.
    """
    refusal = read_stand_in(line)
    if refusal is not None:
        return _refused(index, refusal)
    try:
        parsed = parse_line(line)
    except StrictJSONError as e:
        return AttestationResult(index, "unknown", (e.reason,))
    peek = predicate_type_of(parsed)
    result = AttestationResult(
        index,
        kind_of(peek),
        (),
        format=parsed.kind,
        digest=parsed.payload_digest,
        predicate_type=peek,
    )
    payload: bytes | None
    roles: list[tuple[bool, str | None]] = []

    def allowed(cert: Certificate) -> bool:
        roles.append(trust.roles(cert))
        return roles[-1][0] or roles[-1][1] is not None

    if parsed.kind == "bundle":
        outcome = trust.verifier().verify(line, parsed.document, allowed)
        reasons, payload = outcome.reasons, outcome.payload
        result = replace(
            result, signer=outcome.signer, issuer=outcome.issuer, signed_time=outcome.signed_time
        )
        if roles:
            result = replace(result, change_signer=roles[-1][0], approver=roles[-1][1])
        if reasons == (Reason.SIGNER_NOT_ALLOWED,) and result.kind == "approval":
            reasons = (Reason.APPROVER_NOT_ALLOWED,)  # label only: refused either way
    else:
        key_outcome = verify_envelope(parsed.document, trust.keys)
        reasons, payload = key_outcome.reasons, key_outcome.payload
        result = replace(result, signer=key_outcome.signer)
        if key_outcome.key is not None:
            result = replace(
                result,
                change_signer=key_outcome.key.rule is not None,
                approver=key_outcome.key.person,
            )
    if reasons:
        return replace(result, reasons=tuple(reasons))
    if payload is None or payload != parsed.payload:
        return replace(result, reasons=(Reason.MALFORMED,))
    try:
        checked = check_statement(payload, commit.digest)
    except StrictJSONError as e:
        return replace(result, reasons=(e.reason,))
    kind = kind_of(checked.predicate_type)
    problems = _binding_problems(checked.predicate, commit, trust)
    if kind == "change" and not result.change_signer:
        problems.insert(0, Reason.SIGNER_NOT_ALLOWED)
    if kind == "approval" and result.approver is None:
        problems.insert(0, Reason.APPROVER_NOT_ALLOWED)
    prompter = None
    if isinstance(checked.predicate, ChangePredicate) and not problems:
        prompter = check_prompter(checked.predicate, result.signed_time, trust.prompt_trust())
        if trust.policy.policy.agents.prompter == "signed":
            problems.extend(prompter.reasons)
    return replace(
        result,
        kind=kind,
        reasons=tuple(problems),
        predicate_type=checked.predicate_type,
        predicate=checked.predicate
        if isinstance(checked.predicate, ChangePredicate | ApprovalPredicate)
        else None,
        prompter=prompter,
    )


def _binding_problems(predicate: object, commit: Commit, trust: TrustContext) -> list[Reason]:
    """Predicate fields that must agree with the commit and the policy."""
    problems: list[Reason] = []
    if isinstance(predicate, ChangePredicate | ApprovalPredicate):
        ref = predicate.commit
        if ref.sha != commit.sha or ref.tree != commit.tree or tuple(ref.parents) != commit.parents:
            problems.append(Reason.PREDICATE_COMMIT_MISMATCH)
    expected_repo = trust.policy.policy.repository
    if (
        isinstance(predicate, ChangePredicate)
        and expected_repo is not None
        and predicate.repository.uri != expected_repo
    ):
        problems.append(Reason.REPOSITORY_MISMATCH)
    return problems
