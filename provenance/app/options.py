"""What a verification is given: policy and trust-root options, and no network under --offline."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:  # the verifier (and sigstore) load only when verifying, never to classify
    from provenance.policy import LoadedPolicy
    from provenance.verify.trust import TrustContext, TrustSource


@dataclass(frozen=True)
class VerifyOptions:
    """Where trust comes from and whether the network may be used."""

    policy: Path | None = None
    trusted_root: Path | None = None
    trust_config: Path | None = None
    offline: bool = False
    #: How the trust root was named, for reports ("--trust-config" or "PROVENANCE_TRUST_CONFIG").
    trust_origin: str | None = None

    def trust_source(self, *, via: str | None = None) -> TrustSource:
        """Where the trusted root comes from (:class:`~provenance.verify.trust.TrustSource`)."""
        from provenance.verify.trust import TrustSource

        return TrustSource(
            self.trusted_root, self.trust_config, self.offline, self.trust_origin, via
        )

    def trust(self, loaded: LoadedPolicy) -> TrustContext:
        """The one trust context for ``loaded`` and these options."""
        from provenance.verify.trust import build_trust

        return build_trust(loaded, self.trust_source())


def _refuse_network(*_args: Any, **_kwargs: Any) -> NoReturn:
    raise OSError("network access is disabled by --offline")


def forbid_network() -> None:
    """Make every socket connection in this process fail (defence in depth for --offline).

    Process-wide and irreversible: only the CLI calls it, never library code.
    """
    socket.socket.connect = _refuse_network  # type: ignore[method-assign]
    socket.socket.connect_ex = _refuse_network  # type: ignore[method-assign]
    socket.create_connection = _refuse_network
    socket.getaddrinfo = _refuse_network
