"""Sigstore bundle verification: the only module of the verify stage that imports sigstore.

sigstore-python does steps 0-8 of bundle verification (signed time, chain at that time, SCT,
certificate profile, log proof, checkpoint, SET, DSSE signature, log-entry consistency). We add
the signer policy (exact or anchored pattern, exact issuer) and turn its exceptions into reason
codes. ``verify_dsse`` checks neither payload type nor statement: the caller does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.x509 import (
    BasicConstraints,
    Certificate,
    ExtensionNotFound,
    ObjectIdentifier,
    RFC822Name,
    SubjectAlternativeName,
    UniformResourceIdentifier,
    load_der_x509_certificate,
)
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig, InvalidBundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import OIDCIssuer, OIDCIssuerV2

from provenance.errors import TrustError
from provenance.verify.reasons import Reason

_OIDC_ISSUER_V1 = ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
#: Signed times further ahead of the host clock than this are refused (THREATS.md C16).
FUTURE_SKEW = timedelta(minutes=5)

#: (message fragment, reason) in the order they are tried; first match wins.
_MESSAGE_REASONS: tuple[tuple[str, Reason], ...] = (
    # first: it quotes the checkpoint, whose text may contain any word below ("Timestamp: ")
    ("invalid log entry", Reason.TLOG_INVALID),
    ("not enough sources of verified time", Reason.SIGNED_TIME_MISSING),
    ("expired at time of signing", Reason.SIGNED_TIME_INVALID),
    # cryptography's path validation when the signed time is outside the leaf's validity
    ("not valid at validation time", Reason.SIGNED_TIME_INVALID),
    # before "timestamp": chain errors read "failed to build timestamp certificate chain: ..."
    ("certificate chain", Reason.CERTIFICATE_CHAIN_INVALID),
    ("Timestamp", Reason.TIMESTAMP_INVALID),
    ("timestamp", Reason.TIMESTAMP_INVALID),
    ("SCT", Reason.SCT_INVALID),
    ("Key usage", Reason.CERTIFICATE_PROFILE_INVALID),
    ("Extended usage", Reason.CERTIFICATE_PROFILE_INVALID),
    ("do not match bundle", Reason.TLOG_MISMATCH),
    ("inconsistent with other materials", Reason.TLOG_MISMATCH),
    ("payload hash does not match", Reason.TLOG_MISMATCH),
    ("inclusion", Reason.TLOG_INVALID),
    ("checkpoint", Reason.TLOG_INVALID),
    ("DSSE", Reason.SIGNATURE_INVALID),
    ("Signature is invalid", Reason.SIGNATURE_INVALID),
)


#: (message prefix, reason) for bundles sigstore refuses to load; otherwise ``bundle_invalid``.
_INVALID_BUNDLE_REASONS: tuple[tuple[str, Reason], ...] = (
    ("bundle must contain an inclusion promise or signed timestamp", Reason.SIGNED_TIME_MISSING),
    ("expected non-empty certificate chain", Reason.CERTIFICATE_CHAIN_INVALID),
)


class SignerNotAllowed(VerificationError):
    """Raised by our policy hook when the verified certificate's identity is not allowed."""


@dataclass(frozen=True)
class BundleOutcome:
    """Result of verifying one bundle's cryptography and signer."""

    reasons: tuple[Reason, ...]
    payload: bytes | None = None
    signer: str | None = None
    issuer: str | None = None
    signed_time: datetime | None = None


def load_trusted_root(path: Path | None, trust_config: Path | None) -> TrustedRoot:
    """Pinned trusted root file, a trust config's root, or production through TUF."""
    try:
        if path is not None:
            return TrustedRoot.from_file(str(path))
        if trust_config is not None:
            return ClientTrustConfig.from_json(trust_config.read_text()).trusted_root
        return ClientTrustConfig.production().trusted_root
    except OSError as e:
        raise TrustError(f"cannot read trust material: {e}") from e
    except Exception as e:  # sigstore raises pydantic, TUF and requests errors here
        raise TrustError(
            f"cannot load the trusted root: {type(e).__name__}: {e}",
            hint="pass --trusted-root FILE or --trust-config FILE",
        ) from e


def certificate_identities(cert: Certificate) -> list[str]:
    """Email and URI SANs of a leaf certificate."""
    try:
        san = cert.extensions.get_extension_for_class(SubjectAlternativeName).value
    except ExtensionNotFound:
        return []
    return [
        *san.get_values_for_type(RFC822Name),
        *san.get_values_for_type(UniformResourceIdentifier),
    ]


def certificate_issuer(cert: Certificate) -> str | None:
    """The OIDC issuer from the legacy raw extension, as sigstore's ``OIDCIssuer`` reads it."""
    try:
        value = cert.extensions.get_extension_for_oid(_OIDC_ISSUER_V1).value
    except ExtensionNotFound:
        return None
    raw = getattr(value, "value", b"")
    return raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else None


def issuer_matches(cert: Certificate, issuer: str) -> bool:
    """Exact issuer match through either Fulcio issuer extension."""
    for policy in (OIDCIssuerV2(issuer), OIDCIssuer(issuer)):
        try:
            policy.verify(cert)
            return True
        except VerificationError:
            continue
    return False


class _SignerPolicy:
    """A sigstore VerificationPolicy that asks our policy whether the certificate may sign."""

    def __init__(self, allowed: Callable[[Certificate], bool]) -> None:
        self._allowed = allowed

    def verify(self, cert: Certificate) -> None:
        if not self._allowed(cert):
            raise SignerNotAllowed("certificate identity is not an allowed signer")


def _reason_for(message: str) -> Reason:
    for fragment, reason in _MESSAGE_REASONS:
        if fragment in message:
            return reason
    return Reason.SIGSTORE_VERIFICATION_FAILED


def _invalid_bundle_reason(message: str) -> Reason:
    for prefix, reason in _INVALID_BUNDLE_REASONS:
        if message.startswith(prefix):
            return reason
    return Reason.BUNDLE_INVALID


def _chain_includes_root(bundle_doc: dict[str, object]) -> bool:
    """A v0.1/v0.2 certificate list carrying a self-signed CA (sigstore only warns; C15)."""
    material = bundle_doc.get("verificationMaterial")
    chain = material.get("x509CertificateChain") if isinstance(material, dict) else None
    certs = chain.get("certificates") if isinstance(chain, dict) else None
    for entry in certs[1:] if isinstance(certs, list) else []:
        raw = entry.get("rawBytes") if isinstance(entry, dict) else None
        if not isinstance(raw, str):
            continue
        cert = load_der_x509_certificate(base64.b64decode(raw))
        try:
            is_ca = cert.extensions.get_extension_for_class(BasicConstraints).value.ca
        except ExtensionNotFound:
            is_ca = False
        if is_ca and cert.subject == cert.issuer:
            return True
    return False


class BundleVerifier:
    """Verifies Sigstore bundles against one trusted root, offline."""

    def _verified_times(self, bundle: Bundle, document: dict[str, object]) -> list[datetime]:
        """Signed times sigstore verified for a bundle that just passed ``verify_dsse``.

        With a SET, sigstore verified it, so its integrated time is the time (an extra TSA
        token might be one it skipped). Without a SET, a lone TSA token must be the one that
        met sigstore's threshold. Only several tokens and no SET need sigstore's own list
        (docs/decisions/0001: the one private call).
        """
        set_time = _set_time(document)
        if set_time is not None:
            return [set_time]
        tvd = bundle.verification_material.timestamp_verification_data
        tokens = tvd.rfc3161_timestamps if tvd is not None else []
        if len(tokens) == 1:
            return [tokens[0].tst_info.gen_time]
        return [result.time for result in self._verifier._establish_time(bundle)]

    def __init__(self, trusted_root: TrustedRoot) -> None:
        try:
            self._verifier = Verifier(trusted_root=trusted_root)
        except SigstoreError as e:
            raise TrustError(f"unusable trusted root: {e}") from e

    def verify(
        self, raw: bytes, document: dict[str, object], allowed: Callable[[Certificate], bool]
    ) -> BundleOutcome:
        """Verify a bundle; ``allowed`` decides whether the verified signer may sign."""
        try:
            bundle = Bundle.from_json(raw)
        except (InvalidBundle, SigstoreError, ValueError, KeyError, TypeError) as e:
            return BundleOutcome((_invalid_bundle_reason(str(e)),))
        cert = bundle.signing_certificate
        identities = certificate_identities(cert)
        signer = identities[0] if identities else None
        issuer = certificate_issuer(cert)
        try:
            if _chain_includes_root(document):
                reasons = (Reason.CERTIFICATE_CHAIN_INVALID,)
                return BundleOutcome(reasons, signer=signer, issuer=issuer)
            _ptype, payload = self._verifier.verify_dsse(bundle, _SignerPolicy(allowed))
            times = self._verified_times(bundle, document)
        except SignerNotAllowed:
            return BundleOutcome((Reason.SIGNER_NOT_ALLOWED,), signer=signer, issuer=issuer)
        except (VerificationError, SigstoreError) as e:
            return BundleOutcome((_reason_for(str(e)),), signer=signer, issuer=issuer)
        except Exception as e:  # malformed material deep inside sigstore: refuse, never pass
            reason = _reason_for(str(e)) if str(e) else Reason.SIGSTORE_VERIFICATION_FAILED
            return BundleOutcome((reason,), signer=signer, issuer=issuer)
        when = min(times) if times else None
        if when is None:
            return BundleOutcome((Reason.SIGNED_TIME_MISSING,), signer=signer, issuer=issuer)
        if when > datetime.now(UTC) + FUTURE_SKEW:
            return BundleOutcome((Reason.SIGNED_TIME_INVALID,), signer=signer, issuer=issuer)
        return BundleOutcome((), payload=payload, signer=signer, issuer=issuer, signed_time=when)


def _set_time(document: dict[str, object]) -> datetime | None:
    """The integrated time of a bundle whose entry carries a SET (an inclusion promise)."""
    material = document.get("verificationMaterial")
    entries = material.get("tlogEntries") if isinstance(material, dict) else None
    entry = entries[0] if isinstance(entries, list) and len(entries) == 1 else None
    if not isinstance(entry, dict) or not entry.get("inclusionPromise"):
        return None
    integrated = entry.get("integratedTime")
    try:
        return datetime.fromtimestamp(int(str(integrated)), tz=UTC) if integrated else None
    except ValueError:
        return None


def document_of(raw: bytes) -> dict[str, object]:
    """Plain JSON view of a bundle (already strictly parsed by the caller)."""
    value = json.loads(raw)
    return value if isinstance(value, dict) else {}
