"""What verification trusts, assembled in one place: the policy, its keys and one trusted root.

A :class:`TrustSource` says where the Sigstore trusted root comes from (a pinned file, a trust
config's ``trustedRoot``, or Sigstore production through TUF) and how it was named; it reads
and digests a pinned root exactly as the index and evidence packs record it. :func:`build_trust`
is the only constructor of a :class:`TrustContext`: it refuses a policy without signers
(THREATS.md C12), loads the policy's keys now and the trusted root on first use, and the
context then knows which root decided and where it came from (G51), for every report.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.x509 import Certificate

from provenance.errors import ConfigError, UsageError
from provenance.policy import ApproverRule, LoadedPolicy, PrompterRule, SignerRule
from provenance.verify.certificates import certificate_identities
from provenance.verify.keyed import PolicyKey, policy_keys
from provenance.verify.prompt import PromptTrust
from provenance.verify.screen import screen_line

if TYPE_CHECKING:
    from provenance.verify.sigstore_adapter import BundleVerifier

#: How reports name Sigstore's production root, fetched through TUF.
PRODUCTION = "sigstore production (TUF)"


def _sha256(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


@dataclass(frozen=True)
class TrustSource:
    """Where the trusted root comes from, resolved once from flags and environment.

    ``origin`` names how a pinned root was given when it was not its flag (the
    ``PROVENANCE_TRUST_CONFIG`` variable); ``via`` names what it was pinned for
    (``"evidence pack"``). ``offline`` refuses to fetch production's root.
    """

    trusted_root: Path | None = None
    trust_config: Path | None = None
    offline: bool = False
    origin: str | None = None
    via: str | None = None

    @property
    def pinned(self) -> Path | None:
        """The file that pins the root (``None``: Sigstore production)."""
        return self.trusted_root or self.trust_config

    def document(self) -> bytes | None:
        """The trusted root JSON verification uses: the pinned file, or a trust config's root.

        A trust config's root is serialised as sorted JSON, as evidence packs store it;
        ``None`` means production through TUF (no file to digest or export).
        """
        try:
            if self.trusted_root is not None:
                return self.trusted_root.read_bytes()
            if self.trust_config is not None:
                config = json.loads(self.trust_config.read_text())
                root = config.get("trustedRoot") if isinstance(config, dict) else None
                if not isinstance(root, dict):
                    raise ConfigError(f"{self.trust_config} has no trustedRoot")
                return (json.dumps(root, indent=2, sort_keys=True) + "\n").encode()
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot read the trusted root: {e}") from e
        return None

    def pinned_digest(self) -> str | None:
        """``sha256:`` of :meth:`document`, or ``None`` for production via TUF."""
        doc = self.document()
        return _sha256(doc) if doc is not None else None

    def load(self) -> BundleVerifier:
        """The bundle verifier for this root (``--offline`` needs a pinned one).

        sigstore's client is imported here, when a bundle is to be verified, not with this
        module: a command that meets no bundle never pays for it (decision 0024).
        """
        from provenance.verify.sigstore_adapter import BundleVerifier, load_trusted_root

        if self.offline and self.pinned is None:
            raise UsageError("--offline needs a pinned root: pass --trusted-root or --trust-config")
        return BundleVerifier(load_trusted_root(self.trusted_root, self.trust_config))

    def label(self) -> str:
        """Where the root came from, as reports say it."""
        if self.trusted_root is not None:
            source = self.origin or "--trusted-root"
        elif self.trust_config is not None:
            source = self.origin or "--trust-config"
        else:
            source = PRODUCTION
        return f"{self.via}, pinned by {source}" if self.via is not None else source

    def description(self, loaded_digest: str | None = None) -> dict[str, str | None]:
        """Which trusted root decided and where it came from (THREATS.md G51).

        A pinned root is digested from its file; production's only once it was loaded
        (``loaded_digest``: no bundle, no network, no digest).
        """
        pinned = self.pinned
        digest = self.pinned_digest() if pinned is not None else loaded_digest
        return {"source": self.label(), "path": str(pinned) if pinned else None, "digest": digest}


def _matches(
    rule: SignerRule | ApproverRule | PrompterRule, cert: Certificate, identities: list[str]
) -> bool:
    """Does a keyless rule (exact issuer, identity or anchored pattern) match a certificate?"""
    from provenance.verify.sigstore_adapter import issuer_matches  # only once a bundle is read

    if rule.key is not None or rule.issuer is None:
        return False
    issuer = rule.issuer
    return issuer_matches(cert, issuer) and any(
        rule.matches_identity(issuer, ident) for ident in identities
    )


@dataclass
class TrustContext:
    """The policy, its keys, and the trusted root (loaded on first use). See :func:`build_trust`."""

    policy: LoadedPolicy
    keys: dict[str, PolicyKey]
    source: TrustSource = field(default_factory=TrustSource)
    _verifier: BundleVerifier | None = None

    def verifier(self) -> BundleVerifier:
        """The bundle verifier, loading the trusted root on first use (may raise TrustError)."""
        if self._verifier is None:
            self._verifier = self.source.load()
        return self._verifier

    def root_digest(self) -> str | None:
        """Digest of the trusted root that decides: a pinned file's, or production's once loaded."""
        if self.source.pinned is not None:
            return self.source.pinned_digest()
        return self._verifier.root_digest if self._verifier is not None else None

    def description(self) -> dict[str, str | None]:
        """Which trusted root decided, and where it came from (THREATS.md G51)."""
        loaded = self._verifier.root_digest if self._verifier is not None else None
        return self.source.description(loaded)

    def verifier_if_needed(self, lines: dict[str, list[bytes]]) -> None:
        """Load the trusted root up front (once, not per worker) when any bundle may appear."""
        if any(b'"mediaType"' in line for ls in lines.values() for line in ls):
            self.verifier()

    def roles(self, cert: Certificate) -> tuple[bool, str | None]:
        """(may sign change attestations, approver person or None) for a verified certificate."""
        identities = certificate_identities(cert)
        policy = self.policy.policy
        signer = any(_matches(rule, cert, identities) for rule in policy.signers)
        person = next((a.person for a in policy.approvers if _matches(a, cert, identities)), None)
        return signer, person

    def prompter_rule(self, cert: Certificate) -> PrompterRule | None:
        """The ``[[prompters]]`` entry a verified certificate matches, if any."""
        identities = certificate_identities(cert)
        rules = self.policy.policy.prompters
        return next((r for r in rules if _matches(r, cert, identities)), None)

    def prompt_trust(self) -> PromptTrust:
        """What checking an embedded prompt attestation needs (verify.prompt)."""
        return PromptTrust(self.verifier, self.prompter_rule, self.keys)

    def has_role(self, cert: Certificate) -> bool:
        """May this certificate sign anything the verifier reads (a claim, not verified)?"""
        signer, person = self.roles(cert)
        return signer or person is not None

    def screen(self, line: bytes) -> bytes:
        """The store's line screen: junk becomes a stand-in before anything is verified."""
        return screen_line(line, self.has_role, self.keys)


def build_trust(loaded: LoadedPolicy, source: TrustSource) -> TrustContext:
    """Refuse to run without signers (THREATS.md C12); keys load now, the root on first use."""
    if not loaded.policy.signers:
        raise ConfigError(
            f"{loaded.source}: no [[signers]] configured; refusing to verify",
            hint="add the identities or keys allowed to sign change attestations",
        )
    return TrustContext(policy=loaded, keys=policy_keys(loaded), source=source)


__all__ = ["PRODUCTION", "TrustContext", "TrustSource", "build_trust"]
