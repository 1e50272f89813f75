"""Verify and show: the single-commit gate and the auditor's view of one commit."""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from provenance.app.policy_source import resolve_policy
from provenance.errors import UsageError
from provenance.gitio import Git, check_repository_safe, resolve_commit
from provenance.policy import LoadedPolicy
from provenance.store import NotesStore
from provenance.verify.gate import verify_commits
from provenance.verify.report import Report
from provenance.verify.trust import TrustContext, TrustSource, build_trust


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
        return TrustSource(
            self.trusted_root, self.trust_config, self.offline, self.trust_origin, via
        )

    def trust(self, loaded: LoadedPolicy) -> TrustContext:
        """The one trust context for ``loaded`` and these options."""
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


def with_trust(report: Report, trust: TrustContext) -> Report:
    """The report, naming the trusted root that decided (text, JSON, SARIF and VSA show it)."""
    return replace(report, extra={**report.extra, "trusted_root": trust.description()})


def verify(repo: Path, revisions: list[str], options: VerifyOptions) -> Report:
    """Verify each given commit's attestations against the policy and trust root.

    ``offline`` here means: a pinned root is required and nothing is fetched. The CLI also
    calls :func:`forbid_network` so the whole process cannot open a connection.
    """
    if not revisions:
        raise UsageError("name at least one commit to verify")
    git = Git.discover(repo)
    check_repository_safe(git)  # before any object is read
    commits = [resolve_commit(git, rev) for rev in revisions]
    head = resolve_commit(git, "HEAD")
    loaded = resolve_policy(git, options.policy, head)
    trust = options.trust(loaded)
    store = NotesStore(git, loaded.policy.notes_ref)
    report = verify_commits(git, commits, trust, store)
    return with_trust(report, trust)
