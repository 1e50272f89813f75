"""Sigstore bundle verification: the only module of the verify stage that imports sigstore.

sigstore-python does steps 0-8 of bundle verification (signed time, chain at that time, SCT,
certificate profile, log proof, checkpoint, SET, DSSE signature, log-entry consistency). We add
the signer policy (exact or anchored pattern, exact issuer) and turn its exceptions into reason
codes. ``verify_dsse`` checks neither payload type nor statement: the caller does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.x509 import (
    BasicConstraints,
    Certificate,
    ExtensionNotFound,
    load_der_x509_certificate,
)
from sigstore.errors import Error as SigstoreError
from sigstore.errors import VerificationError
from sigstore.models import Bundle, ClientTrustConfig, InvalidBundle, TrustedRoot
from sigstore.verify import Verifier
from sigstore.verify.policy import OIDCIssuer, OIDCIssuerV2

from provenance.errors import TrustError
from provenance.reasons import Reason
from provenance.sign.trust_files import trust_load_error
from provenance.verify.certificates import certificate_identities, certificate_issuer

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


def timed_outcome(
    times: list[datetime], payload: bytes | None, signer: str | None, issuer: str | None
) -> BundleOutcome:
    """A verified bundle's outcome: refuse a missing or future signed time (C16), else pass
    with the earliest time sigstore verified. Both adapters end their verification here."""
    when = min(times) if times else None
    if when is None:
        return BundleOutcome((Reason.SIGNED_TIME_MISSING,), signer=signer, issuer=issuer)
    if when > datetime.now(UTC) + FUTURE_SKEW:
        return BundleOutcome((Reason.SIGNED_TIME_INVALID,), signer=signer, issuer=issuer)
    return BundleOutcome((), payload=payload, signer=signer, issuer=issuer, signed_time=when)


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
        raise trust_load_error(path, trust_config, e) from e


def root_digest(root: TrustedRoot) -> str | None:
    """``sha256:`` of the root as sigstore holds it (sorted-key JSON, as trust configs are).

    Only for reports (THREATS.md G51), where no file was pinned (production through TUF):
    sigstore exposes no serialiser for its root, so this reads its model, and says
    nothing (``None``) rather than guess if that ever changes.
    """
    try:
        document = json.loads(root._inner.to_json())
    except (AttributeError, TypeError, ValueError):
        return None
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


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


class _TimeKeepingVerifier(Verifier):
    """sigstore's ``Verifier``, keeping the signed times it established for the last bundle.

    ``verify_dsse`` checks the chain at every time ``_establish_time`` returns (TSA tokens
    it verified, the integrated time a SET covers) and then verifies the SET, but returns
    none of them. Keeping that very list is the one private hook (docs/decisions/0001,
    0007): nothing is re-read or re-verified on the side. If sigstore renamed the method,
    no time would be kept and every bundle would be refused (``signed_time_missing``).
    """

    def __init__(self, *, trusted_root: TrustedRoot) -> None:
        super().__init__(trusted_root=trusted_root)
        self._times = threading.local()

    def _establish_time(self, bundle: Bundle) -> Any:  # list[TimestampVerificationResult]
        results = super()._establish_time(bundle)
        self._times.last = (id(bundle), [r.time for r in results])
        return results

    def verified_times(self, bundle: Bundle) -> list[datetime]:
        """Times established for ``bundle`` by this thread's last ``verify_dsse``."""
        last = getattr(self._times, "last", None)
        return list(last[1]) if last is not None and last[0] == id(bundle) else []


class BundleVerifier:
    """Verifies Sigstore bundles against one trusted root, offline."""

    def __init__(self, trusted_root: TrustedRoot) -> None:
        try:
            self._verifier = _TimeKeepingVerifier(trusted_root=trusted_root)
        except SigstoreError as e:
            raise TrustError(f"unusable trusted root: {e}") from e
        self.root_digest = root_digest(trusted_root)

    def verify(
        self, raw: bytes, document: dict[str, object], allowed: Callable[[Certificate], bool]
    ) -> BundleOutcome:
        """Verify a bundle; ``allowed`` decides whether the verified signer may sign."""
        try:
            bundle = Bundle.from_json(raw)
        except (InvalidBundle, SigstoreError, ValueError, KeyError, TypeError) as e:
            return BundleOutcome((_invalid_bundle_reason(str(e)),))
        if not _same_document(bundle, document):
            return BundleOutcome((Reason.BUNDLE_NONCANONICAL,))
        cert = bundle.signing_certificate
        identities = certificate_identities(cert)
        signer = identities[0] if identities else None
        issuer = certificate_issuer(cert)
        try:
            if _chain_includes_root(document):
                reasons = (Reason.CERTIFICATE_CHAIN_INVALID,)
                return BundleOutcome(reasons, signer=signer, issuer=issuer)
            _ptype, payload = self._verifier.verify_dsse(bundle, _SignerPolicy(allowed))
            times = self._verifier.verified_times(bundle)
        except SignerNotAllowed:
            return BundleOutcome((Reason.SIGNER_NOT_ALLOWED,), signer=signer, issuer=issuer)
        except (VerificationError, SigstoreError) as e:
            return BundleOutcome((_reason_for(str(e)),), signer=signer, issuer=issuer)
        except Exception as e:  # malformed material deep inside sigstore: refuse, never pass
            reason = _reason_for(str(e)) if str(e) else Reason.SIGSTORE_VERIFICATION_FAILED
            return BundleOutcome((reason,), signer=signer, issuer=issuer)
        return timed_outcome(times, payload, signer, issuer)


def _same_document(bundle: Bundle, document: dict[str, object]) -> bool:
    """Is the strictly parsed document exactly what sigstore's model read (THREATS.md G44)?

    The model re-serialises with canonical names and base64; any alias spelling, lax base64
    or value the model normalises makes the two differ, so every check we make on the
    document is a check on what sigstore verified.
    """
    try:
        seen = json.loads(bundle.to_json())
    except (ValueError, TypeError):
        return False
    return _canonical(seen) == _canonical(document)


def _canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=True, allow_nan=False)
