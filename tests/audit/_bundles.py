"""Bundles ``verify-bundle`` must handle, made against the local instance.

Message signatures come from the unmodified sigstore-python client (``sign_artifact``).
sigstore-python cannot sign with a managed key, so key bundles are assembled as other
Sigstore clients (cosign ``--key``) do: sign with the key, log the entry in the instance's
Rekor v1 (which checks the signature), timestamp the signature at its TSA, and write the
v0.3 bundle with a public-key hint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from rfc3161_client import TimestampRequestBuilder
from rfc3161_client.base import HashAlgorithm
from securesystemslib.dsse import Envelope
from sigstore.dsse import Statement
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

from provenance.devinstance import DevInstance
from tests.devinstance._support import tlog_entry_json

MEDIA_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"
SIGNER = "release-bot@example.com"
STATEMENT_TYPE = "application/vnd.in-toto+json"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign_message(inst: DevInstance, artifact: bytes, identity: str = SIGNER) -> str:
    """A message-signature bundle, signed by sigstore-python through the instance."""
    config = ClientTrustConfig.from_json(inst.trust_config_path.read_text())
    token = IdentityToken(inst.issue_token(identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        return signer.sign_artifact(artifact).to_json()


def pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The public half, PEM (what ``--key`` takes)."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _timestamp(inst: DevInstance, signature: bytes) -> dict[str, Any]:
    request = (
        TimestampRequestBuilder()
        .hash_algorithm(HashAlgorithm.SHA256)
        .data(signature)
        .nonce(nonce=True)
        .build()
    )
    reply = requests.post(
        f"{inst.url}/api/v1/timestamp",
        data=request.as_bytes(),
        headers={"Content-Type": "application/timestamp-query"},
        timeout=10,
    )
    reply.raise_for_status()
    return {"rfc3161Timestamps": [{"signedTimestamp": b64(reply.content)}]}


def _spki(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _log(
    inst: DevInstance,
    key: ec.EllipticCurvePrivateKey,
    v1: dict[str, Any],
    digest: bytes,
    sig: bytes,
) -> dict[str, Any]:
    """Log the proposal ``v1`` in Rekor v1, or the signature over ``digest`` in Rekor v2."""
    if inst.rekor_version == 1:
        response = requests.post(f"{inst.url}/api/v1/log/entries", json=v1, timeout=10)
        return tlog_entry_json(response, v1["kind"])
    verifier = {"publicKey": {"rawBytes": b64(_spki(key))}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
    request: dict[str, Any] = {
        "digest": b64(digest),
        "signature": {"content": b64(sig), "verifier": verifier},
    }
    reply = requests.post(
        f"{inst.url}/api/v2/log/entries", json={"hashedRekordRequestV002": request}, timeout=10
    )
    reply.raise_for_status()
    entry: dict[str, Any] = reply.json()
    return entry


def _material(
    inst: DevInstance, key: ec.EllipticCurvePrivateKey, entry: dict[str, Any], sig: bytes
) -> dict[str, Any]:
    return {
        "publicKey": {"hint": b64(hashlib.sha256(_spki(key)).digest())},
        "tlogEntries": [entry],
        "timestampVerificationData": _timestamp(inst, sig),
    }


def key_message_bundle(
    inst: DevInstance, key: ec.EllipticCurvePrivateKey, artifact: bytes
) -> dict[str, Any]:
    """A managed-key message signature: ``hashedrekord/0.0.1`` (``0.0.2`` on Rekor v2)."""
    digest = hashlib.sha256(artifact).digest()
    sig = key.sign(artifact, ec.ECDSA(hashes.SHA256()))
    proposal: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {"content": b64(sig), "publicKey": {"content": b64(pem(key))}},
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
        },
    }
    entry = _log(inst, key, proposal, digest, sig)
    return {
        "mediaType": MEDIA_V03,
        "verificationMaterial": _material(inst, key, entry, sig),
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": b64(digest)},
            "signature": b64(sig),
        },
    }


def statement_for(artifact: bytes) -> bytes:
    """An in-toto Statement v1 naming ``artifact`` by its sha256."""
    digest = hashlib.sha256(artifact).hexdigest()
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": "artifact", "digest": {"sha256": digest}}],
        "predicateType": "https://example.com/test/v1",
        "predicate": {},
    }
    return json.dumps(statement).encode()


def key_dsse_bundle(
    inst: DevInstance, key: ec.EllipticCurvePrivateKey, payload: bytes
) -> dict[str, Any]:
    """A managed-key DSSE bundle: ``dsse/0.0.1`` (``hashedrekord/0.0.2`` over PAE on Rekor v2)."""
    pae: bytes = Envelope(payload=payload, payload_type=STATEMENT_TYPE, signatures={}).pae()
    sig = key.sign(pae, ec.ECDSA(hashes.SHA256()))
    envelope = {
        "payload": b64(payload),
        "payloadType": STATEMENT_TYPE,
        "signatures": [{"sig": b64(sig)}],
    }
    proposal: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {"envelope": json.dumps(envelope), "verifiers": [b64(pem(key))]}
        },
    }
    entry = _log(inst, key, proposal, hashlib.sha256(pae).digest(), sig)
    return {
        "mediaType": MEDIA_V03,
        "verificationMaterial": _material(inst, key, entry, sig),
        "dsseEnvelope": envelope,
    }


def write(path: Path, bundle: dict[str, Any] | str) -> Path:
    """Write a bundle (a dict, or JSON text as sigstore-python returns it)."""
    path.write_text(bundle if isinstance(bundle, str) else json.dumps(bundle))
    return path


def intoto_bundle(inst: DevInstance, statement: bytes, identity: str = SIGNER) -> dict[str, Any]:
    """A certificate bundle whose entry is Rekor's legacy ``intoto/0.0.2`` (as sigstore-js 1.x).

    sigstore-python signs the statement (Fulcio certificate, DSSE, TSA token); the same
    envelope and certificate are then logged as an ``intoto/0.0.2`` proposal, which Rekor
    double-encodes, and that entry replaces the ``dsse/0.0.1`` one.
    """
    config = ClientTrustConfig.from_json(inst.trust_config_path.read_text())
    token = IdentityToken(inst.issue_token(identity))
    with SigningContext.from_trust_config(config).signer(token) as signer:
        bundle: dict[str, Any] = json.loads(signer.sign_dsse(Statement(statement)).to_json())
    envelope = bundle["dsseEnvelope"]
    cert_der = base64.b64decode(bundle["verificationMaterial"]["certificate"]["rawBytes"])
    cert_pem = x509.load_der_x509_certificate(cert_der).public_bytes(serialization.Encoding.PEM)
    proposal: dict[str, Any] = {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {
            "content": {
                "envelope": {
                    "payloadType": envelope["payloadType"],
                    "payload": b64(envelope["payload"].encode()),
                    "signatures": [
                        {"sig": b64(envelope["signatures"][0]["sig"].encode()),
                         "publicKey": b64(cert_pem)}
                    ],
                }
            }
        },
    }  # fmt: skip
    response = requests.post(f"{inst.url}/api/v1/log/entries", json=proposal, timeout=10)
    entry = tlog_entry_json(response, "intoto")
    entry["kindVersion"]["version"] = "0.0.2"
    bundle["verificationMaterial"]["tlogEntries"] = [entry]
    return bundle
