"""Rekor entry proposals: check their signatures, then canonicalise them as Rekor does.

The canonical bodies must be byte-for-byte what sigstore-python rebuilds when it checks a bundle
against its log entry (``_validate_dsse_v001_entry_body``, ``_hashedrekord_from_parts``,
``_validate_hashedrekord_v002_dsse_entry_body``), and the Merkle leaf is that exact byte string.
Rekor serialises bodies with JCS (RFC 8785), so we do too. Only EC keys are accepted: they are all
sigstore-python produces. A DSSE signature covers PAE(type, payload) (DSSE spec, "Protocol").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils
from securesystemslib.dsse import Envelope

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
_KEY_DETAILS = {
    "secp256r1": ("PKIX_ECDSA_P256_SHA_256", "SHA2_256", hashes.SHA256()),
    "secp384r1": ("PKIX_ECDSA_P384_SHA_384", "SHA2_384", hashes.SHA384()),
    "secp521r1": ("PKIX_ECDSA_P521_SHA_512", "SHA2_512", hashes.SHA512()),
}


class ProposalRejected(Exception):
    """The proposed entry is malformed or its signature does not verify (HTTP 400)."""


def _field(obj: Any, *path: str) -> Any:
    """``obj[path[0]][path[1]]...`` or a 400 naming the missing field."""
    for name in path:
        if not isinstance(obj, Mapping) or name not in obj:
            raise ProposalRejected(f"missing field {'.'.join(path)}")
        obj = obj[name]
    return obj


def _b64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise ProposalRejected(f"{what} must be a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as e:
        raise ProposalRejected(f"{what} is not valid base64: {e}") from e


def _pem_verifier(b64_pem: Any) -> tuple[ec.EllipticCurvePublicKey, str]:
    """Load a base64 PEM certificate or public key; return it with Rekor's canonical form."""
    pem = _b64(b64_pem, "verifier")
    key: Any
    canonical: bytes
    try:
        cert = x509.load_pem_x509_certificate(pem)
        key, canonical = cert.public_key(), cert.public_bytes(serialization.Encoding.PEM)
    except ValueError:
        try:
            key = serialization.load_pem_public_key(pem)
        except ValueError as e:
            raise ProposalRejected("verifier is neither a PEM certificate nor a PEM key") from e
        canonical = key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ProposalRejected("only EC verification keys are supported")
    return key, base64.b64encode(canonical).decode()


def _verifies(
    key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, algorithm: Any
) -> bool:
    try:
        key.verify(signature, data, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    return True


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding (securesystemslib's, never hand-written)."""
    encoded: bytes = Envelope(payload=payload, payload_type=payload_type, signatures={}).pae()
    return encoded


def dsse_v001_body(spec: Any) -> bytes:
    """Canonical ``dsse/0.0.1`` body; every envelope signature must verify with a verifier."""
    envelope_text = _field(spec, "proposedContent", "envelope")
    verifiers = _field(spec, "proposedContent", "verifiers")
    if not isinstance(envelope_text, str) or not isinstance(verifiers, list) or not verifiers:
        raise ProposalRejected("proposedContent needs an envelope string and verifiers")
    try:
        envelope = json.loads(envelope_text)
    except ValueError as e:
        raise ProposalRejected(f"envelope is not JSON: {e}") from e
    payload_type = _field(envelope, "payloadType")
    payload = _b64(_field(envelope, "payload"), "payload")
    signatures = _field(envelope, "signatures")
    if not isinstance(payload_type, str) or not isinstance(signatures, list) or not signatures:
        raise ProposalRejected("envelope needs a payloadType and at least one signature")
    keys = [_pem_verifier(v) for v in verifiers[:16]]
    message = pae(payload_type, payload)
    entries: list[Any] = []
    for item in signatures:
        sig_text = _field(item, "sig")
        sig = _b64(sig_text, "signature")
        match = next((c for k, c in keys if _verifies(k, sig, message, hashes.SHA256())), None)
        if match is None:
            raise ProposalRejected("all signatures must have a key that verifies it")
        entries.append({"signature": sig_text, "verifier": match})
    entries.sort(key=lambda e: e["signature"])
    return rfc8785.dumps(
        {
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": _sha256(envelope_text.encode()),
                "payloadHash": _sha256(payload),
                "signatures": entries,
            },
        }
    )


def intoto_v002_body(spec: Any) -> bytes:
    """Canonical ``intoto/0.0.2`` body (Rekor's deprecated DSSE type, as sigstore-js 1.x logged).

    Rekor double-encodes: the proposal's ``payload`` and each ``sig`` are base64 of the DSSE
    envelope's base64 text, and ``publicKey`` is base64 of a PEM certificate.
    """
    envelope = _field(spec, "content", "envelope")
    payload_type = _field(envelope, "payloadType")
    payload_text = _b64(_field(envelope, "payload"), "payload")
    signatures = _field(envelope, "signatures")
    if not isinstance(payload_type, str) or not isinstance(signatures, list) or not signatures:
        raise ProposalRejected("envelope needs a payloadType and at least one signature")
    payload = _b64(payload_text.decode("ascii", errors="replace"), "payload text")
    message = pae(payload_type, payload)
    logged: list[dict[str, str]] = []
    for item in signatures:
        sig_text = _b64(_field(item, "sig"), "sig").decode("ascii", errors="replace")
        key, canonical = _pem_verifier(_field(item, "publicKey"))
        if not _verifies(key, _b64(sig_text, "signature"), message, hashes.SHA256()):
            raise ProposalRejected("every signature must verify with its public key")
        logged.append({"publicKey": canonical, "sig": _b64e(sig_text.encode())})
    dsse_json = rfc8785.dumps(
        {"payload": payload_text.decode(), "payloadType": payload_type,
         "signatures": [{"sig": base64.b64decode(s["sig"]).decode()} for s in logged]}
    )  # fmt: skip
    return rfc8785.dumps(
        {
            "apiVersion": "0.0.2",
            "kind": "intoto",
            "spec": {
                "content": {
                    "envelope": {
                        "payload": _b64e(payload_text),
                        "payloadType": payload_type,
                        "signatures": logged,
                    },
                    "hash": _sha256(dsse_json),
                    "payloadHash": _sha256(payload),
                }
            },
        }
    )


def _b64e(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _sha256(data: bytes) -> dict[str, str]:
    return {"algorithm": "sha256", "value": hashlib.sha256(data).hexdigest()}


def hashedrekord_v001_body(spec: Any) -> bytes:
    """Canonical ``hashedrekord/0.0.1`` body, after checking the signature over the digest."""
    algorithm = _field(spec, "data", "hash", "algorithm")
    value = _field(spec, "data", "hash", "value")
    sig_text = _field(spec, "signature", "content")
    if algorithm not in _HASHES or not isinstance(value, str):
        raise ProposalRejected("data.hash needs algorithm sha256/sha384/sha512 and a hex value")
    try:
        digest = bytes.fromhex(value)
    except ValueError as e:
        raise ProposalRejected("data.hash.value is not hex") from e
    key, canonical = _pem_verifier(_field(spec, "signature", "publicKey", "content"))
    prehashed = utils.Prehashed(_HASHES[algorithm])
    if not _verifies(key, _b64(sig_text, "signature"), digest, prehashed):
        raise ProposalRejected("signature does not verify over the digest")
    return rfc8785.dumps(
        {
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": {"hash": {"algorithm": algorithm, "value": digest.hex()}},
                "signature": {"content": sig_text, "publicKey": {"content": canonical}},
            },
        }
    )


def _v002_verifier(verifier: Any) -> tuple[Any, str, dict[str, Any]]:
    """The key of a v2 verifier (certificate or public key), and how Rekor logs it."""
    if isinstance(verifier, Mapping) and "publicKey" in verifier:  # a managed key (cosign --key)
        raw = _b64(_field(verifier, "publicKey", "rawBytes"), "public key")
        try:
            key: Any = serialization.load_der_public_key(raw)
        except ValueError as e:
            raise ProposalRejected(f"verifier public key is not DER: {e}") from e
        spki = key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return key, "key", {"publicKey": {"rawBytes": _b64e(spki)}}
    raw_cert = _b64(_field(verifier, "x509Certificate", "rawBytes"), "cert")
    try:
        cert = x509.load_der_x509_certificate(raw_cert)
    except ValueError as e:
        raise ProposalRejected(f"verifier certificate is not DER X.509: {e}") from e
    der = cert.public_bytes(serialization.Encoding.DER)
    return cert.public_key(), "certificate", {"x509Certificate": {"rawBytes": _b64e(der)}}


def hashedrekord_v002_body(request: Any) -> bytes:
    """Canonical Rekor v2 ``hashedrekord/0.0.2`` body (how sigstore-python logs DSSE too)."""
    digest = _b64(_field(request, "digest"), "digest")
    signature = _b64(_field(request, "signature", "content"), "signature")
    key, what, logged = _v002_verifier(_field(request, "signature", "verifier"))
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name not in _KEY_DETAILS:
        raise ProposalRejected(f"only P-256/P-384/P-521 {what}s are supported")
    details, algorithm, hash_alg = _KEY_DETAILS[key.curve.name]
    if _field(request, "signature", "verifier", "keyDetails") != details:
        raise ProposalRejected(f"keyDetails does not match the {what} key ({details})")
    if len(digest) != hash_alg.digest_size:
        raise ProposalRejected(f"digest must be {hash_alg.digest_size} bytes for {details}")
    if not _verifies(key, signature, digest, utils.Prehashed(hash_alg)):
        raise ProposalRejected("signature does not verify over the digest")
    verifier: dict[str, Any] = {"keyDetails": details, **logged}
    return rfc8785.dumps(
        {
            "apiVersion": "0.0.2",
            "kind": "hashedrekord",
            "spec": {
                "hashedRekordV002": {
                    "data": {"algorithm": algorithm, "digest": _b64e(digest)},
                    "signature": {"content": _b64e(signature), "verifier": verifier},
                }
            },
        }
    )
