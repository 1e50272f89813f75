"""Shared helpers: sign with the unmodified sigstore-python client, build bundles by hand."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore import dsse
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext
from sigstore.verify import Verifier

from provenance.devinstance import DevInstance

IDENTITY = "agent@example.com"
SUBJECT_DIGEST = "a" * 64


def statement(predicate: dict[str, Any] | None = None) -> dsse.Statement:
    """An in-toto Statement v1 over one sha256 subject."""
    return (
        dsse.StatementBuilder()
        .subjects([dsse.Subject(name="commit", digest={"sha256": SUBJECT_DIGEST})])
        .predicate_type("https://provenance.example/change/v1")
        .predicate(predicate or {"tool": "test"})
        .build()
    )


def sign_dsse(inst: DevInstance, identity: str = IDENTITY, issuer: str | None = None) -> Bundle:
    """Sign a statement exactly as production code would, via the instance's trust config."""
    config = ClientTrustConfig.from_json(inst.trust_config_path.read_text())
    context = SigningContext.from_trust_config(config)
    token = IdentityToken(inst.issue_token(identity, issuer))
    with context.signer(token) as signer:
        return signer.sign_dsse(statement())


def verifier(inst: DevInstance) -> Verifier:
    """An offline verifier pinned to the instance's trusted_root.json."""
    return Verifier(trusted_root=TrustedRoot.from_file(str(inst.trusted_root_path)))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def log_hashedrekord(
    inst: DevInstance, cert: x509.Certificate, signature: bytes, digest: bytes
) -> requests.Response:
    """POST a hashedrekord/0.0.1 proposal straight to the instance's Rekor v1."""
    pem = cert.public_bytes(serialization.Encoding.PEM)
    proposal: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "signature": {"content": _b64(signature), "publicKey": {"content": _b64(pem)}},
            "data": {"hash": {"algorithm": "sha256", "value": digest.hex()}},
        },
    }
    return requests.post(f"{inst.url}/api/v1/log/entries", json=proposal, timeout=10)


def tlog_entry_json(response: requests.Response, kind: str) -> dict[str, Any]:
    """A bundle's ``tlogEntries[0]`` from a Rekor v1 ``POST /api/v1/log/entries`` answer."""
    response.raise_for_status()
    ((_, entry),) = response.json().items()
    proof = entry["verification"]["inclusionProof"]
    return {
        "logIndex": str(entry["logIndex"]),
        "logId": {"keyId": _b64(bytes.fromhex(entry["logID"]))},
        "kindVersion": {"kind": kind, "version": "0.0.1"},
        "integratedTime": str(entry["integratedTime"]),
        "inclusionPromise": {"signedEntryTimestamp": entry["verification"]["signedEntryTimestamp"]},
        "inclusionProof": {
            "logIndex": str(proof["logIndex"]),
            "rootHash": _b64(bytes.fromhex(proof["rootHash"])),
            "treeSize": str(proof["treeSize"]),
            "hashes": [_b64(bytes.fromhex(h)) for h in proof["hashes"]],
            "checkpoint": {"envelope": proof["checkpoint"]},
        },
        "canonicalizedBody": entry["body"],
    }


def hand_made_bundle(
    inst: DevInstance, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, artifact: bytes
) -> Bundle:
    """A message-signature bundle for ``cert`` (which Fulcio never issued), logged in Rekor v1.

    Negative tests use it to show the verifier refuses a leaf for the right reason.
    """
    digest = hashlib.sha256(artifact).digest()
    signature = key.sign(artifact, ec.ECDSA(hashes.SHA256()))
    response = log_hashedrekord(inst, cert, signature, digest)
    tlog_entry = tlog_entry_json(response, "hashedrekord")
    bundle = {
        "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
        "verificationMaterial": {
            "certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
            "tlogEntries": [tlog_entry],
        },
        "messageSignature": {
            "messageDigest": {"algorithm": "SHA2_256", "digest": _b64(digest)},
            "signature": _b64(signature),
        },
    }
    return Bundle.from_json(json.dumps(bundle))
