"""Rekor: what gets logged, what is refused, and that wrong leaves fail verification."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore.errors import VerificationError
from sigstore.verify.policy import Identity

from provenance.devinstance import CertificateAuthority, DevInstance, merkle
from tests.devinstance._support import IDENTITY, hand_made_bundle, log_hashedrekord, verifier

ARTIFACT = b"identity change"
PickCA = Callable[[DevInstance], CertificateAuthority]


def _own_ca(inst: DevInstance) -> CertificateAuthority:
    return inst.ca


def _foreign_ca(inst: DevInstance) -> CertificateAuthority:
    return CertificateAuthority.ephemeral(inst.ct)


def _leaf(
    inst: DevInstance, pick_ca: PickCA = _own_ca, **options: Any
) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = pick_ca(inst).issue_leaf(key.public_key(), IDENTITY, inst.default_issuer, **options)
    return leaf, key


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_hand_made_bundle_verifies_with_a_proper_leaf(instance: DevInstance) -> None:
    cert, key = _leaf(instance)
    bundle = hand_made_bundle(instance, cert, key, ARTIFACT)

    policy = Identity(identity=IDENTITY, issuer=instance.default_issuer)
    verifier(instance).verify_artifact(ARTIFACT, bundle, policy)


_PAST = datetime.now(UTC) - timedelta(hours=2)


@pytest.mark.parametrize(
    ("pick_ca", "options", "reason"),
    [
        pytest.param(_own_ca, {"code_signing": False}, "code signing", id="no-codesigning"),
        pytest.param(
            _own_ca,
            {"not_before": _PAST, "not_after": _PAST + timedelta(minutes=10)},
            "certificate chain",
            id="expired",
        ),
        pytest.param(_foreign_ca, {}, "certificate chain", id="foreign-ca"),
    ],
)
def test_verifier_refuses_wrong_leaves(
    instance: DevInstance, pick_ca: PickCA, options: dict[str, Any], reason: str
) -> None:
    cert, key = _leaf(instance, pick_ca, **options)
    bundle = hand_made_bundle(instance, cert, key, ARTIFACT)

    policy = Identity(identity=IDENTITY, issuer=instance.default_issuer)
    with pytest.raises(VerificationError, match=reason):
        verifier(instance).verify_artifact(ARTIFACT, bundle, policy)


def _dsse_proposal(envelope: dict[str, Any], cert: x509.Certificate) -> dict[str, Any]:
    pem = cert.public_bytes(serialization.Encoding.PEM)
    content = {"envelope": json.dumps(envelope), "verifiers": [_b64(pem)]}
    return {"apiVersion": "0.0.1", "kind": "dsse", "spec": {"proposedContent": content}}


def test_refuses_dsse_whose_signature_does_not_verify(instance: DevInstance) -> None:
    cert, key = _leaf(instance)
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": _b64(b"{}"),
        "signatures": [{"sig": _b64(key.sign(b"something else", ec.ECDSA(hashes.SHA256())))}],
    }
    response = requests.post(
        f"{instance.url}/api/v1/log/entries", json=_dsse_proposal(envelope, cert), timeout=10
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": 400,
        "message": "all signatures must have a key that verifies it",
    }


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b'{"kind": "rekord", "apiVersion": "0.0.1", "spec": {}}', id="unknown-kind"),
        pytest.param(b'{"kind": "dsse", "apiVersion": "0.0.1", "spec": {}}', id="empty-spec"),
        pytest.param(b"[]", id="not-object"),
    ],
)
def test_refuses_garbage_with_400(instance: DevInstance, body: bytes) -> None:
    response = requests.post(f"{instance.url}/api/v1/log/entries", data=body, timeout=10)

    assert response.status_code == 400
    assert isinstance(response.json()["message"], str)


def test_refuses_hashedrekord_over_another_digest(instance: DevInstance) -> None:
    cert, key = _leaf(instance)
    signature = key.sign(ARTIFACT, ec.ECDSA(hashes.SHA256()))

    response = log_hashedrekord(instance, cert, signature, hashlib.sha256(b"other").digest())

    assert response.status_code == 400


def test_v2_refuses_mismatched_key_details(instance: DevInstance) -> None:
    cert, key = _leaf(instance)
    digest = hashlib.sha256(ARTIFACT).digest()
    verifier_json = {
        "x509Certificate": {"rawBytes": _b64(cert.public_bytes(serialization.Encoding.DER))},
        "keyDetails": "PKIX_ECDSA_P384_SHA_384",
    }
    signature = {
        "content": _b64(key.sign(ARTIFACT, ec.ECDSA(hashes.SHA256()))),
        "verifier": verifier_json,
    }
    rekord = {"digest": _b64(digest), "signature": signature}
    request: dict[str, Any] = {"hashedRekordRequestV002": rekord}

    response = requests.post(f"{instance.url}/api/v2/log/entries", json=request, timeout=10)

    assert response.status_code == 400
    assert "keyDetails" in response.json()["message"]


def test_concurrent_appends_form_one_consistent_tree(instance: DevInstance) -> None:
    cert, key = _leaf(instance)

    def submit(n: int) -> dict[str, Any]:
        artifact = f"artifact {n}".encode()
        signature = key.sign(artifact, ec.ECDSA(hashes.SHA256()))
        response = log_hashedrekord(instance, cert, signature, hashlib.sha256(artifact).digest())
        response.raise_for_status()
        ((_, entry),) = response.json().items()
        return dict(entry)

    with ThreadPoolExecutor(max_workers=8) as pool:
        entries = list(pool.map(submit, range(24)))

    assert len({e["logIndex"] for e in entries}) == 24
    for entry in entries:
        proof = entry["verification"]["inclusionProof"]
        assert merkle.verify_inclusion(
            proof["logIndex"],
            proof["treeSize"],
            merkle.leaf_hash(base64.b64decode(entry["body"])),
            [bytes.fromhex(h) for h in proof["hashes"]],
            bytes.fromhex(proof["rootHash"]),
        )


def test_log_info_reports_signed_tree_head(instance: DevInstance) -> None:
    info = requests.get(f"{instance.url}/api/v1/log", timeout=10).json()

    assert info["treeSize"] == len(instance.log_v1)
    assert info["signedTreeHead"].startswith(instance.log_v1.origin + "\n")


def test_refuses_intoto_whose_signature_does_not_verify(instance: DevInstance) -> None:
    """The legacy ``intoto/0.0.2`` type is checked like ``dsse``: no signature, no entry."""
    cert, key = _leaf(instance)
    pem = cert.public_bytes(serialization.Encoding.PEM)
    sig = _b64(key.sign(b"something else", ec.ECDSA(hashes.SHA256())))
    envelope = {
        "payloadType": "application/vnd.in-toto+json",
        "payload": _b64(_b64(b"{}").encode()),
        "signatures": [{"sig": _b64(sig.encode()), "publicKey": _b64(pem)}],
    }
    proposal: dict[str, Any] = {
        "apiVersion": "0.0.2",
        "kind": "intoto",
        "spec": {"content": {"envelope": envelope}},
    }

    response = requests.post(f"{instance.url}/api/v1/log/entries", json=proposal, timeout=10)

    assert response.status_code == 400
    assert response.json()["message"] == "every signature must verify with its public key"


def test_v2_logs_a_public_key_verifier(instance: DevInstance) -> None:
    """Rekor v2 takes managed keys (cosign --key) as well as certificates."""
    key = ec.generate_private_key(ec.SECP256R1())
    spki = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier_json = {"publicKey": {"rawBytes": _b64(spki)}, "keyDetails": "PKIX_ECDSA_P256_SHA_256"}
    digest = hashlib.sha256(ARTIFACT).digest()

    def request(signed: bytes) -> dict[str, Any]:
        sig = {
            "content": _b64(key.sign(signed, ec.ECDSA(hashes.SHA256()))),
            "verifier": verifier_json,
        }
        return {"hashedRekordRequestV002": {"digest": _b64(digest), "signature": sig}}

    url = f"{instance.url}/api/v2/log/entries"
    logged = requests.post(url, json=request(ARTIFACT), timeout=10)
    assert logged.status_code == 201, logged.text
    body = json.loads(base64.b64decode(logged.json()["canonicalizedBody"]))
    assert body["spec"]["hashedRekordV002"]["signature"]["verifier"]["publicKey"] == {
        "rawBytes": _b64(spki)
    }
    assert requests.post(url, json=request(b"other"), timeout=10).status_code == 400
