"""The Fulcio certificate authority: a root, an intermediate and short-lived code-signing leaves.

Leaves follow the Fulcio profile sigstore-python checks (SIGSTORE-LOCAL.md): empty subject,
critical SAN, critical KeyUsage digitalSignature, EKU codeSigning, SKI/AKI, the OIDC issuer
extensions and exactly one embedded precertificate SCT. Tests use :meth:`issue_leaf` directly to
make deliberately wrong leaves (no codeSigning, expired, from :meth:`ephemeral`, a foreign CA).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from provenance.devinstance.ct import CTLog
from provenance.devinstance.storage import (
    PublicKey,
    key_id,
    load_or_create_cert,
    load_or_create_key,
)
from provenance.errors import DevInstanceError

ISSUER_V1_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.1")
ISSUER_V2_OID = x509.ObjectIdentifier("1.3.6.1.4.1.57264.1.8")
LEAF_LIFETIME = timedelta(minutes=10)
CA_LIFETIME = timedelta(days=3650)
ORGANIZATION = "provenance devinstance"
_NOT_CODE_SIGNING = ExtendedKeyUsageOID.EMAIL_PROTECTION


def identity_san(identity: str) -> x509.GeneralName:
    """Email identities become an RFC 822 SAN, URI identities a URI SAN (as Fulcio does)."""
    if "://" in identity:
        return x509.UniformResourceIdentifier(identity)
    local, _, domain = identity.partition("@")
    if local and "." in domain and not any(c.isspace() for c in identity):
        return x509.RFC822Name(identity)
    raise DevInstanceError(
        f"identity {identity!r} is neither an email address nor a URI",
        hint="use e.g. 'agent@example.com' or 'https://ci.example.com/workflows/stamp'",
    )


def ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def ca_certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Certificate | None,
    issuer_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
    path_length: int,
) -> x509.Certificate:
    """A CA certificate webpki accepts: critical BasicConstraints and KeyUsage keyCertSign.

    ``issuer=None`` makes it self-signed (``issuer_key`` is then ``key``).
    """
    public = key.public_key()
    issuer_public = issuer_key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def key_usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class CertificateAuthority:
    """Root + intermediate; the intermediate signs leaves, the CT log signs their SCTs."""

    root: x509.Certificate
    intermediate: x509.Certificate
    intermediate_key: ec.EllipticCurvePrivateKey
    ct: CTLog

    @classmethod
    def load_or_create(
        cls, directory: Path, ct: CTLog, not_before: datetime
    ) -> CertificateAuthority:
        """The persistent CA under ``directory`` (keys and certificates survive restarts)."""
        root_key = load_or_create_key(directory / "root.key.pem")
        inter_key = load_or_create_key(directory / "intermediate.key.pem")
        root = load_or_create_cert(
            directory / "root.pem",
            lambda: ca_certificate(
                ca_name("devinstance-root"), root_key, None, root_key, not_before, 1
            ),
        )
        inter = load_or_create_cert(
            directory / "intermediate.pem",
            lambda: ca_certificate(
                ca_name("devinstance-intermediate"), inter_key, root, root_key, not_before, 0
            ),
        )
        return cls(root, inter, inter_key, ct)

    @classmethod
    def ephemeral(cls, ct: CTLog, name: str = "foreign") -> CertificateAuthority:
        """An in-memory CA no trusted root knows: for "wrong CA" negative tests."""
        not_before = datetime.now(UTC) - timedelta(hours=1)
        root_key = ec.generate_private_key(ec.SECP256R1())
        inter_key = ec.generate_private_key(ec.SECP256R1())
        root = ca_certificate(ca_name(f"{name}-root"), root_key, None, root_key, not_before, 1)
        inter = ca_certificate(
            ca_name(f"{name}-intermediate"), inter_key, root, root_key, not_before, 0
        )
        return cls(root, inter, inter_key, ct)

    @property
    def chain(self) -> list[x509.Certificate]:
        """Issuing chain, intermediate first: what Fulcio returns after the leaf."""
        return [self.intermediate, self.root]

    def issue_leaf(
        self,
        public_key: PublicKey,
        identity: str,
        issuer: str,
        *,
        code_signing: bool = True,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a Fulcio-profile leaf for ``identity`` as vouched for by OIDC ``issuer``.

        ``code_signing=False`` swaps the codeSigning EKU for emailProtection (an EKU is still
        there, so verifiers fail on the purpose, not on a missing extension);
        ``not_before``/``not_after`` override the ten-minute validity. The SCT covers exactly
        the final TBS minus the SCT extension.
        """
        start = (not_before or datetime.now(UTC)).replace(microsecond=0)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(not_after or start + LEAF_LIFETIME)
            .add_extension(key_usage(cert_sign=False), critical=True)
        )
        purpose = ExtendedKeyUsageOID.CODE_SIGNING if code_signing else _NOT_CODE_SIGNING
        builder = (
            builder.add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.intermediate_key.public_key()
                ),
                critical=False,
            )
            .add_extension(x509.SubjectAlternativeName([identity_san(identity)]), critical=True)
            .add_extension(x509.UnrecognizedExtension(ISSUER_V1_OID, issuer.encode()), False)
            .add_extension(
                x509.UnrecognizedExtension(ISSUER_V2_OID, asn1.encode_der(issuer)), False
            )
        )
        return self._with_sct(builder)

    def _with_sct(self, builder: x509.CertificateBuilder) -> x509.Certificate:
        """Sign the precertificate TBS into an SCT, then issue the final certificate with it."""
        precert_tbs = builder.sign(self.intermediate_key, hashes.SHA256()).tbs_certificate_bytes
        issuer_key_hash = key_id(self.intermediate_key.public_key())
        sct = self.ct.sct_extension(precert_tbs, issuer_key_hash, datetime.now(UTC))
        leaf = builder.add_extension(sct, critical=False).sign(
            self.intermediate_key, hashes.SHA256()
        )
        if leaf.tbs_precertificate_bytes != precert_tbs:
            raise DevInstanceError("internal error: the SCT does not cover the final certificate")
        return leaf
