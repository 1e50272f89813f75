"""Key-signed DSSE envelopes through securesystemslib signers (files, KMS, HSM)."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import VerificationError as SslibVerificationError
from securesystemslib.signer import CryptoSigner, Signer, SSlibKey

from provenance.errors import ConfigError, SigningError
from provenance.predicates import PAYLOAD_TYPE
from provenance.sign.statement import SignedLine


def public_key_from_pem(pem: bytes) -> SSlibKey:
    """An SSlibKey (with its default key id) from a PEM public key."""
    try:
        return SSlibKey.from_crypto(load_pem_public_key(pem))
    except (ValueError, TypeError) as e:
        raise SigningError(f"not a usable PEM public key: {e}") from e


#: Where an encrypted PEM key's passphrase is read from (never logged, never stored).
PASSPHRASE_ENV = "PROVENANCE_KEY_PASSPHRASE"  # noqa: S105 (a variable name)
#: Asked for an encrypted key's passphrase (the CLI prompts at a terminal); None: none.
PassphrasePrompt = Callable[[Path], "bytes | None"]


def load_signer(
    key_uri: str, public_key: Path | None = None, passphrase: PassphrasePrompt | None = None
) -> Signer:
    """A signer from ``file2:PATH``, a bare path, or any securesystemslib URI (+ public key)."""
    if ":" not in key_uri or Path(key_uri).exists():
        key_uri = f"file2:{key_uri}"
    scheme = key_uri.split(":", 1)[0]
    try:
        if scheme == CryptoSigner.SCHEME and public_key is None:
            return CryptoSigner(load_private_key(Path(key_uri.split(":", 1)[1]), passphrase))
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


def load_private_key(path: Path, passphrase: PassphrasePrompt | None = None) -> PrivateKeyTypes:
    """A PEM private key file readable by its owner only; if encrypted, the passphrase comes
    from ``PROVENANCE_KEY_PASSPHRASE`` or the prompt. A key others can read is refused like a
    loose salt file: whoever reads it signs as you."""
    info = path.stat()
    if info.st_mode & 0o077:
        raise ConfigError(
            f"private key {path} is readable or writable by others "
            f"(mode {stat.S_IMODE(info.st_mode):o})",
            hint=f"chmod 600 {path}",
        )
    pem = path.read_bytes()
    try:
        return load_pem_private_key(pem, password=None)
    except TypeError:  # encrypted: "Password was not given but private key is encrypted"
        pass
    env = os.environ.get(PASSPHRASE_ENV)
    secret = env.encode() if env is not None else passphrase(path) if passphrase else None
    if not secret:
        raise SigningError(
            f"private key {path} is encrypted and no passphrase was given",
            hint=f"set {PASSPHRASE_ENV}, or run at a terminal to be asked",
        )
    try:
        return load_pem_private_key(pem, password=secret)
    except ValueError as e:  # the message never contains the passphrase
        raise SigningError(
            f"cannot decrypt private key {path}: wrong passphrase or damaged key",
            hint=f"check {PASSPHRASE_ENV} (or what you typed)",
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
    passphrase: PassphrasePrompt | None = None,
) -> SignedLine:
    """Sign a statement into a DSSE envelope and check it verifies with the public key.

    ``pinned``: a signer loaded earlier (the key file read before the agent ran: G55).
    """
    signer = pinned if pinned is not None else load_signer(key_uri, public_key, passphrase)
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
