"""The prompter, bound by signature: check the prompt attestation a change attestation carries.

The agent wrapper writes the prompter's name into the change predicate, so whoever holds the
wrapper's credential could name anyone and approve their own agent's change (THREATS.md
G50). A prompt attestation is the prompter's own signed statement (keyless or key) that
commits to the prompt; the change predicate carries it verbatim and names its digest. It
binds the prompter when, all of:

1. it is a strict, canonical line whose signed payload has the digest the change names;
2. its signature verifies against the trust root (bundle) or a policy key (envelope), and
   the signer is one of the policy's ``[[prompters]]`` and a person: a certificate with a
   URI SAN or Fulcio's CI/build extensions names a workload, whatever the policy lists
   (``prompter_workload_identity``);
3. it is a Statement v1 of the prompt predicate type whose subject is the change's prompt
   commitment, and its predicate validates;
4. it commits to the same prompt (algorithm, digest, salt id), the same repository and, if
   it names one, the same session, and it had not expired when the change was signed.

Anything else leaves the prompter merely asserted (and refused where the policy says
``prompter = "signed"``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from cryptography.x509 import Certificate
from pydantic import ValidationError

from provenance.policy import PrompterRule
from provenance.predicates import (
    PROMPT_PREDICATE_TYPE,
    STATEMENT_TYPE,
    ChangePredicate,
    PromptPredicate,
)
from provenance.reasons import Reason
from provenance.verify.certificates import workload_identity
from provenance.verify.envelope import ParsedLine, parse_line
from provenance.verify.jsonstrict import StrictJSONError, loads_strict
from provenance.verify.keyed import PolicyKey, verify_envelope

if TYPE_CHECKING:
    from provenance.verify.sigstore_adapter import BundleVerifier

#: The longest a prompt attestation may stay usable (a replay window, so kept short).
MAX_PROMPT_VALIDITY = timedelta(days=7)
#: Clock skew allowed between the prompt's claimed times and signed ones.
_SKEW = timedelta(minutes=5)

PrompterStatus = Literal["signed", "asserted"]


@dataclass(frozen=True)
class PrompterCheck:
    """Whether the change's prompter is bound by a signature, and by whom."""

    status: PrompterStatus
    reasons: tuple[Reason, ...] = ()
    identity: str | None = None
    issuer: str | None = None
    person: str | None = None
    digest: str | None = None


@dataclass(frozen=True)
class PromptTrust:
    """What checking a prompt attestation needs from the trust context."""

    verifier: Callable[[], BundleVerifier]
    rule_for: Callable[[Certificate], PrompterRule | None]
    keys: dict[str, PolicyKey]


@dataclass(frozen=True)
class _Signed:
    """A prompt attestation whose signature verified, from an allowed prompter."""

    payload: bytes
    identity: str | None
    issuer: str | None
    person: str | None
    signed_time: datetime | None


def _verify_signature(parsed: ParsedLine, trust: PromptTrust) -> _Signed | Reason:
    """The signature against the trust root or the policy's keys, and the prompter role."""
    if parsed.kind == "envelope":
        outcome = verify_envelope(parsed.document, trust.keys)
        if outcome.reasons == (Reason.KEY_UNKNOWN,):
            return Reason.PROMPTER_NOT_ALLOWED
        if outcome.reasons or outcome.key is None or outcome.payload is None:
            return Reason.PROMPTER_SIGNATURE_INVALID
        if outcome.key.prompter is None:
            return Reason.PROMPTER_NOT_ALLOWED
        return _Signed(outcome.payload, outcome.signer, None, outcome.key.prompter.person, None)
    rules: list[PrompterRule | None] = []
    workloads: list[str] = []

    def allowed(cert: Certificate) -> bool:
        why = workload_identity(cert)
        if why is not None:  # whatever the policy says: a workflow never prompted (G50)
            workloads.append(why)
            return False
        rules.append(trust.rule_for(cert))
        return rules[-1] is not None

    bundle = trust.verifier().verify(parsed.raw, parsed.document, allowed)
    if bundle.reasons == (Reason.SIGNER_NOT_ALLOWED,):
        return Reason.PROMPTER_WORKLOAD_IDENTITY if workloads else Reason.PROMPTER_NOT_ALLOWED
    rule = rules[-1] if rules else None
    if bundle.reasons or bundle.payload is None or rule is None:
        return Reason.PROMPTER_SIGNATURE_INVALID
    return _Signed(bundle.payload, bundle.signer, bundle.issuer, rule.person, bundle.signed_time)


def _prompt_predicate(payload: bytes, change: ChangePredicate) -> PromptPredicate | None:
    """The prompt predicate, if the statement is ours and names the change's prompt."""
    try:
        doc = loads_strict(payload, reason=Reason.STATEMENT_MALFORMED)
    except StrictJSONError:
        return None
    if not isinstance(doc, dict) or doc.get("_type") != STATEMENT_TYPE:
        return None
    if doc.get("predicateType") != PROMPT_PREDICATE_TYPE:
        return None
    subjects = doc.get("subject")
    digests = [
        s.get("digest", {}).get("sha256")
        for s in (subjects if isinstance(subjects, list) else [])
        if isinstance(s, dict) and isinstance(s.get("digest"), dict)
    ]
    if change.prompt.digest not in digests:
        return None
    try:
        return PromptPredicate.model_validate(doc.get("predicate"))
    except ValidationError:
        return None


def _binds(
    prompt: PromptPredicate,
    change: ChangePredicate,
    signed: _Signed,
    change_signed: datetime | None,
) -> bool:
    """Same prompt, repository and session; signed, and still valid when the change was."""
    if prompt.prompt.model_dump() != change.prompt.model_dump():
        return False
    if prompt.repository.uri != change.repository.uri:
        return False
    if prompt.session_id is not None and prompt.session_id != change.agent.session_id:
        return False
    if prompt.expires_at - prompt.issued_at > MAX_PROMPT_VALIDITY:
        return False
    if signed.signed_time is not None and signed.signed_time > prompt.expires_at:
        return False
    when = change_signed or change.stamped_at
    return prompt.issued_at - _SKEW <= when <= prompt.expires_at


def _asserted(reason: Reason, digest: str | None = None) -> PrompterCheck:
    return PrompterCheck("asserted", (reason,), digest=digest)


def check_prompter(
    change: ChangePredicate, change_signed: datetime | None, trust: PromptTrust
) -> PrompterCheck:
    """Is the change's prompter bound by a valid prompt attestation (see the module doc)?"""
    ref = change.prompt_attestation
    if ref is None:
        return _asserted(Reason.PROMPTER_UNSIGNED)
    try:
        parsed = parse_line(ref.line.encode("utf-8"))
    except StrictJSONError:
        return _asserted(Reason.PROMPTER_SIGNATURE_INVALID)
    digest = hashlib.sha256(parsed.payload).hexdigest()
    if digest != ref.sha256:
        return _asserted(Reason.PROMPTER_SIGNATURE_INVALID)
    signed = _verify_signature(parsed, trust)
    if isinstance(signed, Reason):
        return _asserted(signed, digest)
    prompt = _prompt_predicate(signed.payload, change)
    if prompt is None:
        return _asserted(Reason.PROMPTER_SIGNATURE_INVALID, digest)
    if not _binds(prompt, change, signed, change_signed):
        return _asserted(Reason.PROMPTER_MISMATCH, digest)
    return PrompterCheck(
        "signed", identity=signed.identity, issuer=signed.issuer, person=signed.person,
        digest=digest,
    )  # fmt: skip
