"""RFC 3161 timestamp authority: Debian's ``openssl ts -reply`` behind ``POST /api/v1/timestamp``.

OpenSSL is a complete, audited TSA, so nothing of RFC 3161 is re-implemented here: we only
create its key and certificates (a root and a leaf with the critical timeStamping EKU that
RFC 3161 section 2.3 and rfc3161-client require) and a config with ``ess_cert_id_alg = sha256``
so the ESSCertIDv2 binding uses SHA-256. OpenSSL keeps its serial file, so calls are serialised.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import threading
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from provenance.devinstance.ca import CA_LIFETIME, ca_certificate, ca_name, key_usage
from provenance.devinstance.storage import (
    PublicKey,
    create_once,
    load_or_create_cert,
    load_or_create_key,
)
from provenance.errors import DevInstanceError
from provenance.safefiles import atomic_write

POLICY_OID = "1.3.6.1.4.1.57264.2"
_TIMEOUT_SECONDS = 10
_CONFIG = f"""\
[ tsa ]
default_tsa = devinstance

[ devinstance ]
serial = serial
crypto_device = builtin
signer_cert = leaf.pem
signer_key = leaf.key.pem
signer_digest = sha256
default_policy = {POLICY_OID}
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


class TimestampRejected(Exception):
    """OpenSSL could not answer the query (HTTP 400)."""


def _leaf(
    key: PublicKey,
    root: x509.Certificate,
    root_key: ec.EllipticCurvePrivateKey,
    not_before: datetime,
) -> x509.Certificate:
    """The TSA signing certificate: critical EKU with timeStamping only."""
    return (
        x509.CertificateBuilder()
        .subject_name(ca_name("devinstance-tsa"))
        .issuer_name(root.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + CA_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(cert_sign=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )


class TimestampAuthority:
    """A persistent TSA under ``directory``; :meth:`timestamp` answers DER TimeStampReqs."""

    def __init__(self, directory: Path, not_before: datetime) -> None:
        self.directory = directory
        root_key = load_or_create_key(directory / "root.key.pem")
        leaf_key = load_or_create_key(directory / "leaf.key.pem").public_key()
        self.root = load_or_create_cert(
            directory / "root.pem",
            lambda: ca_certificate(
                ca_name("devinstance-tsa-root"), root_key, None, root_key, not_before, 0
            ),
        )
        self.leaf = load_or_create_cert(
            directory / "leaf.pem",
            lambda: _leaf(leaf_key, self.root, root_key, not_before),
        )
        create_once(directory / "serial", lambda: b"01\n", mode=0o644)
        atomic_write(directory / "openssl.cnf", _CONFIG.encode())
        self._lock = threading.Lock()

    @staticmethod
    def require_openssl() -> str:
        """Path of the openssl command, or an operator-facing error saying how to get it."""
        openssl = shutil.which("openssl")
        if openssl is None:
            raise DevInstanceError(
                "the openssl command is not installed; the timestamp authority needs it",
                hint="install it (apt-get install openssl) or start with --no-tsa",
            )
        return openssl

    @property
    def chain(self) -> list[x509.Certificate]:
        """TSA leaf then root: the trusted root's ``timestampAuthorities`` chain order."""
        return [self.leaf, self.root]

    def timestamp(self, query: bytes) -> bytes:
        """Run ``openssl ts -reply`` on a DER query and return the DER TimeStampResp."""
        with self._lock, tempfile.TemporaryDirectory(prefix="devinstance-tsa-") as tmp:
            query_path, reply_path = Path(tmp) / "query.tsq", Path(tmp) / "reply.tsr"
            query_path.write_bytes(query)
            try:
                command = [self.require_openssl(), "ts", "-reply", "-config", "openssl.cnf"]
                command += ["-queryfile", str(query_path), "-out", str(reply_path)]
                proc = subprocess.run(
                    command,
                    cwd=self.directory,
                    capture_output=True,
                    timeout=_TIMEOUT_SECONDS,
                    check=False,
                )
            except (subprocess.TimeoutExpired, DevInstanceError) as e:
                raise TimestampRejected(f"openssl ts could not run: {e}") from e
            if proc.returncode != 0 or not reply_path.exists():
                lines = proc.stderr.decode(errors="replace").strip().splitlines()
                raise TimestampRejected(f"openssl ts -reply failed: {' / '.join(lines[:3])}")
            return reply_path.read_bytes()
