"""Verify any Sigstore DSSE bundle for one exact identity and issuer (third-party attestations).

The same strict parsing and sigstore verification as our own attestations, without our
predicate or commit binding: the caller learns the statement and predicate types it carried.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.x509 import Certificate

from provenance.reasons import Reason
from provenance.verify.certificates import certificate_identities
from provenance.verify.envelope import parse_line
from provenance.verify.jsonstrict import StrictJSONError, loads_strict
from provenance.verify.sigstore_adapter import BundleVerifier, issuer_matches
from provenance.verify.trust import TrustSource

#: Statement types a generic verification accepts; v0.1 is reported, never our own.
KNOWN_STATEMENT_TYPES = ("https://in-toto.io/Statement/v1", "https://in-toto.io/Statement/v0.1")


@dataclass(frozen=True)
class GenericResult:
    """Outcome of verifying one third-party bundle."""

    reasons: tuple[Reason, ...]
    statement_type: str | None = None
    predicate_type: str | None = None
    signer: str | None = None

    @property
    def ok(self) -> bool:
        """True when nothing was refused."""
        return not self.reasons


def verify_dsse_bundle(
    raw: bytes,
    *,
    identity: str,
    issuer: str,
    trusted_root: Path | None = None,
    subject_sha256: str | None = None,
    verifier: BundleVerifier | None = None,
) -> GenericResult:
    """Verify a bundle signed by exactly ``identity`` at ``issuer``; optionally bind a digest."""

    def allowed(cert: Certificate) -> bool:
        return issuer_matches(cert, issuer) and identity in certificate_identities(cert)

    try:
        parsed = parse_line(raw.strip().replace(b"\n", b""))
    except StrictJSONError as e:
        return GenericResult((e.reason,))
    if parsed.kind != "bundle":
        return GenericResult((Reason.UNKNOWN_FORMAT,))
    verifier = verifier or TrustSource(trusted_root=trusted_root).load()
    outcome = verifier.verify(parsed.raw, parsed.document, allowed)
    if outcome.reasons or outcome.payload is None:
        return GenericResult(tuple(outcome.reasons), signer=outcome.signer)
    return statement_result(outcome.payload, subject_sha256, outcome.signer)


def statement_result(
    payload: bytes, subject_sha256: str | None, signer: str | None
) -> GenericResult:
    """Check the verified payload is an in-toto statement (naming ``subject_sha256``)."""
    try:
        statement = loads_strict(payload, reason=Reason.STATEMENT_MALFORMED)
    except StrictJSONError as e:
        return GenericResult((e.reason,), signer=signer)
    stype = statement.get("_type") if isinstance(statement, dict) else None
    ptype = statement.get("predicateType") if isinstance(statement, dict) else None
    reasons: list[Reason] = []
    if stype not in KNOWN_STATEMENT_TYPES:
        reasons.append(Reason.STATEMENT_TYPE_INVALID)
    if subject_sha256 is not None:
        subjects = statement.get("subject") if isinstance(statement, dict) else None
        digests = [s.get("digest", {}).get("sha256") for s in subjects or [] if isinstance(s, dict)]
        if subject_sha256 not in digests:
            reasons.append(Reason.SUBJECT_MISMATCH)
    return GenericResult(
        tuple(reasons), statement_type=str(stype), predicate_type=str(ptype), signer=signer
    )
