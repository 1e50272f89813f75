"""Files the instance keeps in its directory: keys, certificates, small JSON state.

Every write is atomic (temporary file + rename) and every "create if missing" is race-safe
(``os.link`` refuses to overwrite), so a ``devinstance token`` run next to a live server, or two
servers racing on first start, always end up sharing one key instead of silently forking trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from provenance.errors import DevInstanceError

PublicKey = ec.EllipticCurvePublicKey


def create_once(path: Path, make: Callable[[], bytes], *, mode: int = 0o600) -> bytes:
    """Return the file's bytes, creating it with ``make()`` first if it does not exist yet.

    Why ``os.link``: it fails when the target exists, so concurrent creators agree on one winner.
    """
    if path.exists():
        return path.read_bytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(make())
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path.read_bytes()


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    """Load the P-256 private key at ``path``, generating and persisting it on first use."""

    def make() -> bytes:
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    key = serialization.load_pem_private_key(create_once(path, make), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise DevInstanceError(
            f"{path} does not hold an EC private key",
            hint="delete the instance directory to start over with fresh keys",
        )
    return key


def load_or_create_cert(path: Path, make: Callable[[], x509.Certificate]) -> x509.Certificate:
    """Load the PEM certificate at ``path``, creating it with ``make()`` on first use."""
    pem = create_once(path, lambda: make().public_bytes(serialization.Encoding.PEM), mode=0o644)
    return x509.load_pem_x509_certificate(pem)


def load_or_create_json(path: Path, make: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Load the JSON object at ``path``, creating it with ``make()`` on first use."""
    raw = create_once(path, lambda: json.dumps(make(), indent=2).encode(), mode=0o644)
    value = json.loads(raw)
    if not isinstance(value, dict):
        raise DevInstanceError(f"{path} is not a JSON object", hint="delete it and restart")
    return value


def spki_der(public_key: PublicKey) -> bytes:
    """DER SubjectPublicKeyInfo: the form trusted roots carry and key IDs hash."""
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public_key: PublicKey) -> bytes:
    """RFC 6962 key ID (SHA-256 over the DER SPKI): CT log IDs and Rekor log IDs use it."""
    return hashlib.sha256(spki_der(public_key)).digest()
