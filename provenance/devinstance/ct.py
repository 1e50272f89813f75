"""The certificate-transparency log key: signs precertificate SCTs for Fulcio leaves.

cryptography parses SCTs but cannot build them, so the two RFC 6962 TLS structures
(``digitally-signed`` input, section 3.2, and ``SignedCertificateTimestampList``, section 3.3)
are packed here with ``struct``. The signature itself is cryptography's ECDSA, and the ASN.1
OCTET STRING wrapping is cryptography's DER encoder. The instance keeps no CT log of its own:
sigstore-python only checks the SCT signature against the ``ctlogs`` key in the trusted root.
"""

from __future__ import annotations

import struct
from datetime import datetime

from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.devinstance.storage import key_id

SCT_LIST_OID = x509.ObjectIdentifier("1.3.6.1.4.1.11129.2.4.2")

_SCT_V1 = 0
_CERTIFICATE_TIMESTAMP = 0
_PRECERT_ENTRY = 1
_HASH_SHA256 = 4
_SIG_ECDSA = 3


def _u24(data: bytes) -> bytes:
    """TLS ``opaque<1..2^24-1>``: three length bytes then the data."""
    return struct.pack("!I", len(data))[1:] + data


def _u16(data: bytes) -> bytes:
    """TLS ``opaque<0..2^16-1>``."""
    return struct.pack("!H", len(data)) + data


class CTLog:
    """Signs SCTs with one persistent key whose public half is the trusted root's ``ctlogs``."""

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self.key = key
        self.log_id = key_id(key.public_key())

    def signed_input(self, tbs_precert: bytes, issuer_key_hash: bytes, timestamp_ms: int) -> bytes:
        """The RFC 6962 section 3.2 ``digitally-signed`` struct for a precertificate entry."""
        return (
            struct.pack("!BBQH", _SCT_V1, _CERTIFICATE_TIMESTAMP, timestamp_ms, _PRECERT_ENTRY)
            + issuer_key_hash
            + _u24(tbs_precert)
            + _u16(b"")
        )

    def sct_extension(
        self, tbs_precert: bytes, issuer_key_hash: bytes, when: datetime
    ) -> x509.UnrecognizedExtension:
        """A one-SCT list extension over ``tbs_precert`` (the leaf's TBS without this extension)."""
        timestamp_ms = int(when.timestamp() * 1000)
        signature = self.key.sign(
            self.signed_input(tbs_precert, issuer_key_hash, timestamp_ms), ec.ECDSA(hashes.SHA256())
        )
        sct = (
            struct.pack("!B", _SCT_V1)
            + self.log_id
            + struct.pack("!Q", timestamp_ms)
            + _u16(b"")
            + struct.pack("!BB", _HASH_SHA256, _SIG_ECDSA)
            + _u16(signature)
        )
        sct_list = _u16(_u16(sct))
        return x509.UnrecognizedExtension(SCT_LIST_OID, asn1.encode_der(sct_list))
