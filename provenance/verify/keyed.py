"""Key-signed DSSE envelopes: verified with securesystemslib against the policy's keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import FormatError
from securesystemslib.exceptions import VerificationError as SslibVerificationError
from securesystemslib.signer import SSlibKey

from provenance.errors import ConfigError
from provenance.policy import LoadedPolicy, SignerRule
from provenance.verify.reasons import Reason


@dataclass(frozen=True)
class PolicyKey:
    """A public key the policy trusts, with its validity window."""

    key: SSlibKey
    rule: SignerRule


@dataclass(frozen=True)
class KeyOutcome:
    """Result of verifying one key-signed envelope."""

    reasons: tuple[Reason, ...]
    payload: bytes | None = None
    signer: str | None = None


def policy_keys(loaded: LoadedPolicy, rules: list[SignerRule]) -> dict[str, PolicyKey]:
    """Load every ``key`` signer of the policy, by securesystemslib key id."""
    keys: dict[str, PolicyKey] = {}
    for rule in rules:
        if rule.key is None:
            continue
        try:
            pem = loaded.read_file(rule.key)
            key = SSlibKey.from_crypto(load_pem_public_key(pem))
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(f"{loaded.source}: cannot load signer key {rule.key!r}: {e}") from e
        keys[key.keyid] = PolicyKey(key=key, rule=rule)
    return keys


def verify_envelope(document: dict[str, Any], keys: dict[str, PolicyKey]) -> KeyOutcome:
    """Verify a DSSE envelope signed by one of ``keys``; time checks use the host clock."""
    try:
        envelope = Envelope.from_dict(
            dict(document, signatures=[dict(s) for s in document["signatures"]])
        )
    except (KeyError, ValueError, TypeError, FormatError):
        return KeyOutcome((Reason.MALFORMED,))
    (keyid,) = envelope.signatures
    known = keys.get(keyid)
    if known is None:
        return KeyOutcome((Reason.KEY_UNKNOWN,), signer=f"key:{keyid}")
    now = datetime.now(UTC)
    if known.rule.valid_from is not None and now < known.rule.valid_from:
        return KeyOutcome((Reason.KEY_NOT_YET_VALID,), signer=f"key:{keyid}")
    if known.rule.valid_until is not None and now > known.rule.valid_until:
        return KeyOutcome((Reason.KEY_EXPIRED,), signer=f"key:{keyid}")
    try:
        envelope.verify([known.key], 1)
    except (SslibVerificationError, ValueError):
        return KeyOutcome((Reason.SIGNATURE_INVALID,), signer=f"key:{keyid}")
    return KeyOutcome((), payload=envelope.payload, signer=f"key:{keyid}")
