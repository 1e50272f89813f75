"""Signatures and log-entry bodies that sigstore-python does not check itself.

sigstore-python verifies only bundles that carry a Fulcio certificate, and only ``dsse/0.0.1``
and ``hashedrekord`` entries. For a managed-key bundle (a public-key hint) and for an
``intoto/0.0.2`` entry, the adapter (``sigstore_bundles``) has sigstore verify everything it
can (log entry, signed times, and for certificates the chain, SCT and signer); this module
does client spec steps 7 and 8: the signature verifies under the trusted key, and the logged
entry names exactly that key, that signature and that digest (or payload), so an entry
logged for other material cannot vouch for this bundle. Keys are EC (P-256/384/521),
signatures ECDSA with SHA-256, as sigstore signs.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_public_key,
    load_pem_public_key,
)
from cryptography.x509 import Certificate, load_pem_x509_certificate
from securesystemslib.dsse import Envelope

from provenance.errors import UsageError
from provenance.reasons import Reason
from provenance.verify.jsonstrict import StrictJSONError, loads_strict


class KeyedParts(Protocol):
    """What a managed-key check reads of a bundle (``sigstore_bundles.KeyedParts`` has it)."""

    @property
    def entry_kind(self) -> tuple[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def signature(self) -> bytes: ...
    @property
    def payload(self) -> bytes | None: ...
    @property
    def payload_type(self) -> str | None: ...
    @property
    def message_digest(self) -> bytes | None: ...


def load_public_key(pem: bytes, name: str) -> ec.EllipticCurvePublicKey:
    """An EC public key from PEM (``--key``); anything else is a usage error."""
    try:
        key = load_pem_public_key(pem)
    except ValueError as e:
        raise UsageError(f"{name}: not a PEM public key ({e})") from e
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise UsageError(f"{name}: only EC public keys (P-256/384/521) are supported")
    return key


def _spki(key: Any) -> bytes:
    data: bytes = key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return data


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return None


def _key_der(value: Any, *, pem: bool) -> bytes | None:
    """SPKI DER of a base64 public key as a log entry names it (PEM in v1, DER in v2), or None."""
    data = _b64(value)
    try:
        key = (load_pem_public_key if pem else load_der_public_key)(data) if data else None
    except (ValueError, TypeError):
        return None
    return _spki(key) if key is not None else None


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        obj = obj.get(name) if isinstance(obj, dict) else None
    return obj


def _entry_matches(parts: KeyedParts, key_der: bytes, digest: bytes) -> bool:
    """Step 8: the logged body names this key, this signature and this digest."""
    try:
        body = loads_strict(parts.body)
    except StrictJSONError:
        return False
    spec = _get(body, "spec")
    sig = parts.signature
    if parts.entry_kind == ("hashedrekord", "0.0.1") and parts.payload is None:
        return (
            _get(spec, "data", "hash", "algorithm") == "sha256"
            and _get(spec, "data", "hash", "value") == digest.hex()
            and _b64(_get(spec, "signature", "content")) == sig
            and _key_der(_get(spec, "signature", "publicKey", "content"), pem=True) == key_der
        )
    if parts.entry_kind == ("hashedrekord", "0.0.2"):
        v2 = _get(spec, "hashedRekordV002")
        return (
            _get(v2, "data", "algorithm") == "SHA2_256"
            and _b64(_get(v2, "data", "digest")) == digest
            and _b64(_get(v2, "signature", "content")) == sig
            and _key_der(_get(v2, "signature", "verifier", "publicKey", "rawBytes"), pem=False)
            == key_der
        )
    if parts.entry_kind == ("dsse", "0.0.1") and parts.payload is not None:
        signatures = _get(spec, "signatures")
        payload_hash = hashlib.sha256(parts.payload).hexdigest()
        return (
            _get(spec, "payloadHash") == {"algorithm": "sha256", "value": payload_hash}
            and isinstance(signatures, list)
            and len(signatures) == 1
            and _b64(_get(signatures[0], "signature")) == sig
            and _key_der(_get(signatures[0], "verifier"), pem=True) == key_der
        )
    return False


def check_keyed(
    parts: KeyedParts, key: ec.EllipticCurvePublicKey, sha256: bytes | None
) -> Reason | None:
    """Steps 7 and 8 for a managed-key bundle; ``sha256`` is the artifact's (messages only)."""
    if parts.payload is not None and parts.payload_type is not None:
        pae = _pae(parts.payload, parts.payload_type)
        message, algorithm, digest = pae, ec.ECDSA(hashes.SHA256()), hashlib.sha256(pae).digest()
    elif sha256 is None:
        return Reason.SUBJECT_DIGEST_UNSUPPORTED
    else:
        if parts.message_digest is not None and parts.message_digest != sha256:
            return Reason.SUBJECT_MISMATCH
        message, algorithm, digest = sha256, ec.ECDSA(Prehashed(hashes.SHA256())), sha256
    try:
        key.verify(parts.signature, message, algorithm)
    except InvalidSignature:
        return Reason.SIGNATURE_INVALID
    if not _entry_matches(parts, _spki(key), digest):
        return Reason.TLOG_MISMATCH
    return None


def _pae(payload: bytes, payload_type: str) -> bytes:
    """DSSE pre-authentication encoding, by securesystemslib (never hand-written)."""
    encoded: bytes = Envelope(payload=payload, payload_type=payload_type, signatures={}).pae()
    return encoded


def envelope_parts(document: dict[str, Any]) -> tuple[bytes, str, bytes]:
    """Payload, payload type and signature of a strictly parsed bundle's DSSE envelope."""
    envelope = document["dsseEnvelope"]
    payload = base64.b64decode(envelope["payload"], validate=True)
    signature = base64.b64decode(envelope["signatures"][0]["sig"], validate=True)
    return payload, str(envelope["payloadType"]), signature


def _intoto_entry_matches(body: bytes, cert: Certificate, parts: tuple[bytes, str, bytes]) -> bool:
    """Step 8 for ``intoto/0.0.2``: Rekor logged this payload, this signature, this certificate.

    Rekor double-encodes ``payload`` and ``sig`` (base64 of the envelope's base64 text). The
    envelope ``hash`` covers JSON Rekor re-serialised, so it cannot be recomputed; sigstore
    skips ``dsse/0.0.1``'s ``envelopeHash`` for the same reason.
    """
    payload, payload_type, sig = parts
    try:
        doc = loads_strict(body)
    except StrictJSONError:
        return False
    content = _get(doc, "spec", "content")
    envelope = _get(content, "envelope")
    signatures = _get(envelope, "signatures")
    if not (isinstance(signatures, list) and len(signatures) == 1):
        return False
    logged_payload = _get(envelope, "payload")
    try:
        logged_cert = load_pem_x509_certificate(_b64(_get(signatures[0], "publicKey")) or b"")
    except ValueError:
        return False
    return (
        _get(doc, "kind") == "intoto"
        and _get(doc, "apiVersion") == "0.0.2"
        and _get(content, "payloadHash")
        == {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()}
        and (logged_payload is None or _b64(logged_payload) == base64.b64encode(payload))
        and _get(envelope, "payloadType") in (None, payload_type)
        and _b64(_get(signatures[0], "sig")) == base64.b64encode(sig)
        and logged_cert == cert
    )


def check_intoto(body: bytes, cert: Certificate, document: dict[str, Any]) -> Reason | None:
    """Steps 7 and 8 for a certificate bundle logged as ``intoto/0.0.2``."""
    parts = envelope_parts(document)
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        return Reason.CERTIFICATE_PROFILE_INVALID
    try:
        key.verify(parts[2], _pae(parts[0], parts[1]), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return Reason.SIGNATURE_INVALID
    if not _intoto_entry_matches(body, cert, parts):
        return Reason.TLOG_MISMATCH
    return None
