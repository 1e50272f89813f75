"""Fulcio: who gets a certificate, and what the certificate says."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.devinstance import DevInstance
from provenance.devinstance.ca import ISSUER_V1_OID, ISSUER_V2_OID
from provenance.errors import DevInstanceError
from tests.devinstance._support import IDENTITY


def _csr(key: ec.EllipticCurvePrivateKey) -> bytes:
    """A CSR built as sigstore-python builds it (empty subject), PEM-encoded."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([]))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _request(inst: DevInstance, token: str, csr_pem: bytes) -> requests.Response:
    return requests.post(
        f"{inst.url}/api/v2/signingCert",
        json={"certificateSigningRequest": base64.b64encode(csr_pem).decode()},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def _forged_token(issuer: str) -> str:
    """Claims the instance would accept, signed by a key it has never seen."""
    now = int(time.time())
    claims = {"iss": issuer, "sub": IDENTITY, "aud": "sigstore", "iat": now, "exp": now + 600}
    claims |= {"email": IDENTITY, "email_verified": True}
    return jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256")


def test_issues_fulcio_profile_leaf_with_chain(instance: DevInstance) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    response = _request(instance, instance.issue_token(IDENTITY), _csr(key))

    assert response.status_code == 201, response.text
    pems = response.json()["signedCertificateEmbeddedSct"]["chain"]["certificates"]
    leaf, intermediate, root = (x509.load_pem_x509_certificate(p.encode()) for p in pems)
    assert leaf.public_key() == key.public_key()
    assert leaf.subject == x509.Name([])
    leaf.verify_directly_issued_by(intermediate)
    intermediate.verify_directly_issued_by(root)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert san.critical and san.value.get_values_for_type(x509.RFC822Name) == [IDENTITY]
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).critical
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CODE_SIGNING]
    issuer_v1 = leaf.extensions.get_extension_for_oid(ISSUER_V1_OID).value
    issuer_v2 = leaf.extensions.get_extension_for_oid(ISSUER_V2_OID).value
    assert isinstance(issuer_v1, x509.UnrecognizedExtension)
    assert isinstance(issuer_v2, x509.UnrecognizedExtension)
    assert issuer_v1.value == instance.default_issuer.encode()
    assert asn1.decode_der(str, issuer_v2.value) == instance.default_issuer
    scts = leaf.extensions.get_extension_for_class(x509.PrecertificateSignedCertificateTimestamps)
    assert len(scts.value) == 1 and scts.value[0].log_id == instance.ct.log_id
    lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
    assert lifetime.total_seconds() == 600


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        pytest.param(lambda i: _forged_token(i.default_issuer), "Signature", id="unknown-key"),
        pytest.param(lambda i: i.issue_token(IDENTITY, ttl=-30), "expired", id="expired"),
        pytest.param(lambda i: _forged_token("https://evil.example"), "unknown", id="unknown-iss"),
        pytest.param(lambda i: "not-a-jwt", "malformed", id="garbage"),
    ],
)
def test_refuses_untrusted_tokens_with_401(
    instance: DevInstance, make_token: Callable[[DevInstance], str], message: str
) -> None:
    response = _request(
        instance, make_token(instance), _csr(ec.generate_private_key(ec.SECP256R1()))
    )

    assert response.status_code == 401
    assert message.lower() in response.json()["message"].lower()


def test_refuses_wrong_audience(instance: DevInstance) -> None:
    issued = instance.issue_token(IDENTITY)
    claims = jwt.decode(issued, options={"verify_signature": False}) | {"aud": "other"}
    token = instance.issuers.sign_claims(claims)

    response = _request(instance, token, _csr(ec.generate_private_key(ec.SECP256R1())))

    assert response.status_code == 401
    assert "audience" in response.json()["message"].lower()


def test_refuses_csr_without_proof_of_possession(instance: DevInstance) -> None:
    der = x509.load_pem_x509_csr(_csr(ec.generate_private_key(ec.SECP256R1()))).public_bytes(
        serialization.Encoding.DER
    )
    tampered = x509.load_der_x509_csr(der[:-1] + bytes([der[-1] ^ 0x01]))
    assert not tampered.is_signature_valid

    pem = tampered.public_bytes(serialization.Encoding.PEM)
    response = _request(instance, instance.issue_token(IDENTITY), pem)

    assert response.status_code == 400
    assert "proof of possession" in response.json()["message"]


def test_refuses_missing_bearer_and_bad_body(instance: DevInstance) -> None:
    url = f"{instance.url}/api/v2/signingCert"
    no_auth = requests.post(url, json={"certificateSigningRequest": "eA=="}, timeout=10)
    bad_body = requests.post(
        url,
        json={},
        headers={"Authorization": f"Bearer {instance.issue_token(IDENTITY)}"},
        timeout=10,
    )

    assert no_auth.status_code == 401
    assert bad_body.status_code == 400


def test_issue_token_refuses_identity_fulcio_cannot_certify(instance: DevInstance) -> None:
    with pytest.raises(DevInstanceError, match="neither an email address nor a URI"):
        instance.issue_token("just-a-name")
