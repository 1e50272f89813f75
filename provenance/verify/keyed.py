"""Key-signed DSSE envelopes: verified with securesystemslib against the policy's keys."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.serialization import load_pem_public_key
from securesystemslib.dsse import Envelope
from securesystemslib.exceptions import FormatError
from securesystemslib.exceptions import VerificationError as SslibVerificationError
from securesystemslib.signer import SSlibKey

from provenance.errors import ConfigError
from provenance.policy import LoadedPolicy, PrompterRule, SignerRule
from provenance.reasons import Reason


@dataclass(frozen=True)
class PolicyKey:
    """A public key the policy trusts: change signer (``rule``), approver, prompter, or several."""

    key: SSlibKey
    rule: SignerRule | None = None
    person: str | None = None
    prompter: PrompterRule | None = None


@dataclass(frozen=True)
class KeyOutcome:
    """Result of verifying one key-signed envelope."""

    reasons: tuple[Reason, ...]
    payload: bytes | None = None
    signer: str | None = None
    key: PolicyKey | None = None


def _load(loaded: LoadedPolicy, path: str) -> SSlibKey:
    try:
        return SSlibKey.from_crypto(load_pem_public_key(loaded.read_file(path)))
    except (OSError, ValueError, TypeError) as e:
        raise ConfigError(f"{loaded.source}: cannot load key {path!r}: {e}") from e


def policy_keys(loaded: LoadedPolicy) -> dict[str, PolicyKey]:
    """Every ``key`` of the policy's signers and approvers, by securesystemslib key id."""
    keys: dict[str, PolicyKey] = {}
    for rule in loaded.policy.signers:
        if rule.key is not None:
            key = _load(loaded, rule.key)
            keys[key.keyid] = replace(keys.get(key.keyid, PolicyKey(key)), rule=rule)
    for approver in loaded.policy.approvers:
        if approver.key is not None:
            key = _load(loaded, approver.key)
            keys[key.keyid] = replace(keys.get(key.keyid, PolicyKey(key)), person=approver.person)
    for prompter in loaded.policy.prompters:
        if prompter.key is not None:
            key = _load(loaded, prompter.key)
            keys[key.keyid] = replace(keys.get(key.keyid, PolicyKey(key)), prompter=prompter)
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
    rule = known.rule
    if rule is not None and rule.valid_from is not None and now < rule.valid_from:
        return KeyOutcome((Reason.KEY_NOT_YET_VALID,), signer=f"key:{keyid}")
    if rule is not None and rule.valid_until is not None and now > rule.valid_until:
        return KeyOutcome((Reason.KEY_EXPIRED,), signer=f"key:{keyid}")
    try:
        envelope.verify([known.key], 1)
    except (SslibVerificationError, ValueError):
        return KeyOutcome((Reason.SIGNATURE_INVALID,), signer=f"key:{keyid}")
    return KeyOutcome((), payload=envelope.payload, signer=f"key:{keyid}", key=known)
