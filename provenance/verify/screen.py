"""A cheap first look at every stored line, so junk can neither cost much nor outvote evidence.

Before any signature is checked, each line is parsed strictly (``parse_line``) and the signer
it *claims* (the certificate's identity and issuer, or the key id) is matched against the
policy's roles. A line that fails either can never count, so it is swapped for a small
stand-in that records why (THREATS.md G52): it costs no crypto, no memory beyond the
stand-in, and never counts toward the per-commit limits. What remains (well-formed lines
claiming an allowed signer, approver or prompter) is verified in full, as before.

A stand-in carries a per-process nonce, so a stored line can never pass itself off as one.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal

from cryptography.x509 import Certificate, load_der_x509_certificate

from provenance.predicates import APPROVAL_PREDICATE_TYPE, CHANGE_PREDICATE_TYPE
from provenance.reasons import Reason
from provenance.verify.certificates import certificate_identities, certificate_issuer
from provenance.verify.envelope import ParsedLine, parse_line
from provenance.verify.jsonstrict import StrictJSONError, loads_strict

Kind = Literal["change", "approval", "unknown"]
KINDS: dict[str, Kind] = {CHANGE_PREDICATE_TYPE: "change", APPROVAL_PREDICATE_TYPE: "approval"}

_NONCE = secrets.token_hex(12).encode()
_PREFIX = b"<refused " + _NONCE + b" "


@dataclass(frozen=True)
class Refusal:
    """What a stand-in says about the line it replaced."""

    reason: Reason
    kind: Kind = "unknown"
    format: str | None = None
    signer: str | None = None
    issuer: str | None = None
    digest: str | None = None
    predicate_type: str | None = None


def stand_in(refusal: Refusal) -> bytes:
    """The stand-in bytes for a refused line (compact; identical refusals collapse)."""
    fields = {k: v for k, v in refusal.__dict__.items() if v is not None and k != "reason"}
    return _PREFIX + json.dumps({"reason": refusal.reason.value, **fields}).encode() + b">"


def read_stand_in(line: bytes) -> Refusal | None:
    """The refusal a stand-in of this process records; ``None`` for any other line."""
    if not line.startswith(_PREFIX) or not line.endswith(b">"):
        return None
    fields = json.loads(line[len(_PREFIX) : -1])
    return Refusal(**{**fields, "reason": Reason(fields["reason"])})


def predicate_type_of(parsed: ParsedLine) -> str | None:
    """Unverified predicate type, only to label a line in reports."""
    try:
        doc = loads_strict(parsed.payload)
    except StrictJSONError:
        return None
    value = doc.get("predicateType") if isinstance(doc, dict) else None
    return value if isinstance(value, str) else None


def _leaf(document: dict[str, Any]) -> Certificate | None:
    material = document.get("verificationMaterial", {})
    cert = material.get("certificate")
    chain = material.get("x509CertificateChain", {}).get("certificates")
    if not isinstance(cert, dict) and isinstance(chain, list) and chain:
        cert = chain[0]
    raw = cert.get("rawBytes") if isinstance(cert, dict) else None
    try:
        return load_der_x509_certificate(base64.b64decode(raw)) if isinstance(raw, str) else None
    except (ValueError, binascii.Error):
        return None


def kind_of(predicate_type: str | None) -> Kind:
    """Which of our attestation kinds a predicate type names."""
    return KINDS.get(predicate_type or "", "unknown")


def claimed_refusal(
    parsed: ParsedLine, has_role: Callable[[Certificate], bool], keys: Collection[str]
) -> Refusal | None:
    """Why a well-formed line cannot count whoever verifies it, or ``None`` (a candidate).

    ``has_role(cert)`` asks the policy whether a certificate may sign anything we read;
    ``keys`` are its key ids. Nothing here is verified: a line whose *claimed* signer holds
    no role would be refused after verification for the same reason, so it is refused now.
    """
    ptype = predicate_type_of(parsed)
    kind = kind_of(ptype)
    label = {"format": parsed.kind, "digest": parsed.payload_digest, "predicate_type": ptype}
    if parsed.kind == "envelope":
        keyid = parsed.document["signatures"][0].get("keyid")
        if keyid is None:
            return Refusal(Reason.MALFORMED, kind, **label)  # as securesystemslib refuses it
        if isinstance(keyid, str) and keyid in keys:
            return None
        return Refusal(Reason.KEY_UNKNOWN, kind, signer=f"key:{keyid}", **label)
    cert = _leaf(parsed.document)
    if cert is None:  # no certificate to verify against: sigstore cannot load it either
        chain = parsed.document["verificationMaterial"].get("x509CertificateChain")
        reason = Reason.CERTIFICATE_CHAIN_INVALID if chain else Reason.BUNDLE_INVALID
        return Refusal(reason, kind, **label)
    if has_role(cert):
        return None
    identities = certificate_identities(cert)
    reason = Reason.APPROVER_NOT_ALLOWED if kind == "approval" else Reason.SIGNER_NOT_ALLOWED
    signer = identities[0] if identities else None
    return Refusal(reason, kind, signer=signer, issuer=certificate_issuer(cert), **label)


def screen_line(
    line: bytes, has_role: Callable[[Certificate], bool], keys: Collection[str]
) -> bytes:
    """The line itself when it may count, else a stand-in saying why it cannot."""
    try:
        parsed = parse_line(line)
    except StrictJSONError as e:
        return stand_in(Refusal(e.reason))
    refusal = claimed_refusal(parsed, has_role, keys)
    return line if refusal is None else stand_in(refusal)
