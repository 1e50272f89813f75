"""Key-signed DSSE envelopes through securesystemslib signers (files, KMS, HSM)."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError as SslibVerificationError
from securesystemslib.signer import CryptoSigner, Signer, SSlibKey

from provenance.errors import SigningError
from provenance.predicates import PAYLOAD_TYPE
from provenance.sign.statement import SignedLine


def public_key_from_pem(pem: bytes) -> SSlibKey:
    """An SSlibKey (with its default key id) from a PEM public key."""
    try:
        return SSlibKey.from_crypto(load_pem_public_key(pem))
    except (ValueError, TypeError) as e:
        raise SigningError(f"not a usable PEM public key: {e}") from e


def load_signer(key_uri: str, public_key: Path | None = None) -> Signer:
    """A signer from ``file2:PATH``, a bare path, or any securesystemslib URI (+ public key)."""
    if ":" not in key_uri or Path(key_uri).exists():
        key_uri = f"file2:{key_uri}"
    scheme = key_uri.split(":", 1)[0]
    try:
        if scheme == CryptoSigner.SCHEME and public_key is None:
            pem = Path(key_uri.split(":", 1)[1]).read_bytes()
            return CryptoSigner(load_pem_private_key(pem, password=None))
        if public_key is None:
            raise SigningError(f"--public-key is needed for {scheme}: keys")
        return Signer.from_priv_key_uri(key_uri, public_key_from_pem(public_key.read_bytes()))
    except SigningError:
        raise
    except (OSError, ValueError, TypeError) as e:
        raise SigningError(
            f"cannot load signing key {key_uri}: {e}",
            hint="pass a PEM PKCS#8 private key file or a KMS URI",
        ) from e


def key_file(key_uri: str) -> Path | None:
    """The file a key URI reads (``file2:PATH`` or a bare path), ``None`` for KMS/HSM URIs."""
    if ":" not in key_uri or Path(key_uri).exists():
        return Path(key_uri)
    scheme, _, rest = key_uri.partition(":")
    return Path(rest) if scheme == CryptoSigner.SCHEME else None


def sign_with_key(
    statement: bytes,
    key_uri: str,
    public_key: Path | None = None,
    pinned: Signer | None = None,
) -> SignedLine:
    """Sign a statement into a DSSE envelope and check it verifies with the public key.

    ``pinned``: a signer loaded earlier (the key file read before the agent ran: G55).
    """
    signer = pinned if pinned is not None else load_signer(key_uri, public_key)
    envelope = Envelope(payload=statement, payload_type=PAYLOAD_TYPE, signatures={})
    try:
        envelope.sign(signer)
        envelope.verify([signer.public_key], 1)
    except SslibVerificationError as e:
        raise SigningError(f"the key-signed envelope does not verify: {e}") from e
    except Exception as e:  # KMS and HSM backends raise their own exception types
        raise SigningError(f"key signing failed: {type(e).__name__}: {e}") from e
    line = json.dumps(envelope.to_dict(), separators=(",", ":")).encode()
    return SignedLine(line=line, signer=f"key:{signer.public_key.keyid}", issuer=None)
