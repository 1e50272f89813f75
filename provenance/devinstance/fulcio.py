"""Fulcio ``POST /api/v2/signingCert``: a verified OIDC token plus a CSR in, a leaf chain out.

Refusals mirror Fulcio: an untrusted token is 401, a bad CSR (unparseable, wrong key type, or
failing its proof of possession, i.e. the CSR's self-signature) is 400.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.devinstance.ca import CertificateAuthority, identity_san
from provenance.devinstance.oidc import IssuerRegistry, TokenRejected
from provenance.errors import DevInstanceError


class FulcioRejected(Exception):
    """A refused signing-certificate request, with the HTTP status Fulcio would use."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class Fulcio:
    """Issues leaves from ``ca`` to holders of tokens that ``issuers`` can verify."""

    def __init__(self, ca: CertificateAuthority, issuers: IssuerRegistry) -> None:
        self.ca = ca
        self.issuers = issuers

    def signing_cert(self, authorization: str | None, body: Any) -> dict[str, Any]:
        """Handle one request; raise :class:`FulcioRejected` with 400 or 401 on refusal."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise FulcioRejected(401, "missing bearer token")
        try:
            verified = self.issuers.verify(token.strip())
        except TokenRejected as e:
            raise FulcioRejected(401, str(e)) from e
        csr = self._csr(body)
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise FulcioRejected(400, "only EC public keys are supported")
        try:
            identity_san(verified.identity)
        except DevInstanceError as e:
            raise FulcioRejected(400, str(e)) from e
        leaf = self.ca.issue_leaf(public_key, verified.identity, verified.issuer)
        chain = [_pem(c) for c in [leaf, *self.ca.chain]]
        return {"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}}

    def _csr(self, body: Any) -> x509.CertificateSigningRequest:
        """Decode ``certificateSigningRequest`` (base64 of PEM) and check proof of possession."""
        encoded = body.get("certificateSigningRequest") if isinstance(body, dict) else None
        if not isinstance(encoded, str):
            raise FulcioRejected(400, "body must carry certificateSigningRequest")
        try:
            csr = x509.load_pem_x509_csr(base64.b64decode(encoded, validate=True))
        except (binascii.Error, ValueError) as e:
            raise FulcioRejected(400, f"certificateSigningRequest is not a PEM CSR: {e}") from e
        if not csr.is_signature_valid:
            raise FulcioRejected(400, "the CSR signature (proof of possession) does not verify")
        return csr

    def trust_bundle(self) -> dict[str, Any]:
        """``GET /api/v2/trustBundle``: the issuing chain."""
        return {"chains": [{"certificates": [_pem(c) for c in self.ca.chain]}]}
