"""Any Sigstore bundle, as the sigstore-conformance client protocol verifies one.

The content is a DSSE envelope (an in-toto statement naming the artifact as a subject) or a
message signature (over the artifact's sha256); the verification material is a Fulcio
certificate (checked against an exact identity and issuer) or a public-key hint (checked
against the caller's key). Asking for one kind of signer and getting the other is a refusal
(``verification_material_mismatch``), never a fallback to whatever the bundle offers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509 import Certificate

from provenance.reasons import Reason
from provenance.store import MAX_LINE_BYTES
from provenance.verify.certificates import certificate_identities
from provenance.verify.envelope import check_material, parse_line
from provenance.verify.generic import GenericResult, statement_result, verify_dsse_bundle
from provenance.verify.jsonstrict import StrictJSONError, b64decode_strict, loads_strict
from provenance.verify.keybundle import check_keyed
from provenance.verify.sigstore_adapter import BundleOutcome, issuer_matches
from provenance.verify.sigstore_bundles import ArtifactVerifier, KeyedParts

_MEDIA_PREFIX = "application/vnd.dev.sigstore.bundle"
_BUNDLE_KEYS = {"mediaType", "verificationMaterial", "dsseEnvelope", "messageSignature"}
_MESSAGE_KEYS = {"messageDigest", "signature"}
_DIGEST_KEYS = {"algorithm", "digest"}


@dataclass(frozen=True)
class Expected:
    """Who must have signed: an exact certificate identity and issuer, or a public key."""

    identity: str | None = None
    issuer: str | None = None
    key: ec.EllipticCurvePublicKey | None = None

    def allowed(self, cert: Certificate) -> bool:
        """The certificate names exactly the identity at exactly the issuer."""
        if self.identity is None or self.issuer is None:
            return False
        return issuer_matches(cert, self.issuer) and self.identity in certificate_identities(cert)


def key_name(key: ec.EllipticCurvePublicKey) -> str:
    """How a key signer is reported: the sha256 of its SubjectPublicKeyInfo."""
    spki = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return f"key sha256:{hashlib.sha256(spki).hexdigest()}"


def _shape(raw: bytes) -> tuple[dict[str, Any], bool, bool]:
    """Strictly parsed bundle, whether it is DSSE, whether its material is a key hint."""
    if len(raw) > MAX_LINE_BYTES:
        raise StrictJSONError(Reason.TOO_LARGE, "bundle too large")
    doc = loads_strict(raw)
    media = doc.get("mediaType") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not (
        isinstance(media, str) and media.startswith(_MEDIA_PREFIX)
    ):
        raise StrictJSONError(Reason.UNKNOWN_FORMAT, "not a Sigstore bundle")
    extra = set(doc) - _BUNDLE_KEYS
    if extra:
        raise StrictJSONError(Reason.UNEXPECTED_FIELD, f"unexpected bundle fields {sorted(extra)}")
    material = doc.get("verificationMaterial")
    if not isinstance(material, dict):
        raise StrictJSONError(Reason.BUNDLE_INVALID, "bundle has no verification material")
    if "dsseEnvelope" in doc:
        parse_line(raw)  # the envelope checks our own attestations get (THREATS.md A)
        return doc, True, "publicKey" in material
    check_material(material)
    message = doc.get("messageSignature")
    if not isinstance(message, dict) or set(message) - _MESSAGE_KEYS:
        raise StrictJSONError(Reason.BUNDLE_INVALID, "malformed messageSignature")
    b64decode_strict(message.get("signature"))
    digest = message.get("messageDigest")
    if digest is not None:
        if not isinstance(digest, dict) or set(digest) - _DIGEST_KEYS:
            raise StrictJSONError(Reason.BUNDLE_INVALID, "malformed messageDigest")
        b64decode_strict(digest.get("digest"))
    return doc, False, "publicKey" in material


def _result(outcome: BundleOutcome, signer: str | None) -> GenericResult:
    return GenericResult(tuple(outcome.reasons), signer=signer)


def verify_any_bundle(
    raw: bytes,
    expected: Expected,
    verifier: ArtifactVerifier,
    *,
    artifact_sha256: str | None,
    subject_sha256: str | None,
) -> GenericResult:
    """Verify one bundle; ``artifact_sha256`` signs messages, ``subject_sha256`` binds DSSE."""
    raw = raw.strip().replace(b"\n", b"")
    try:
        doc, is_dsse, keyed = _shape(raw)
    except StrictJSONError as e:
        return GenericResult((e.reason,))
    if keyed != (expected.key is not None):
        return GenericResult((Reason.VERIFICATION_MATERIAL_MISMATCH,))
    sha256 = bytes.fromhex(artifact_sha256) if artifact_sha256 else None
    if expected.key is not None:
        key = expected.key

        def check(parts: KeyedParts) -> Reason | None:
            return check_keyed(parts, key, sha256)

        outcome = verifier.verify_keyed(raw, check)
        signer = key_name(key)
        if outcome.reasons or not is_dsse:
            return _result(outcome, signer)
        if outcome.payload is None:  # cannot happen for DSSE; refuse rather than pass
            return GenericResult((Reason.SIGSTORE_VERIFICATION_FAILED,), signer=signer)
        return statement_result(outcome.payload, subject_sha256, signer)
    if is_dsse:
        return verify_dsse_bundle(
            raw,
            identity=expected.identity or "",
            issuer=expected.issuer or "",
            subject_sha256=subject_sha256,
            verifier=verifier,
        )
    if sha256 is None:
        return GenericResult((Reason.SUBJECT_DIGEST_UNSUPPORTED,))
    outcome = verifier.verify_message(raw, doc, sha256, expected.allowed)
    return _result(outcome, outcome.signer)
