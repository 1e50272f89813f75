"""Verify and show: the single-commit gate and the auditor's view of one commit."""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from provenance.app.policy_source import resolve_policy
from provenance.errors import UsageError
from provenance.gitio import Git, check_repository_safe, resolve_commit
from provenance.store import NotesStore
from provenance.verify.attestation import TrustContext
from provenance.verify.gate import trust_context, verify_commits
from provenance.verify.report import Report
from provenance.verify.sigstore_adapter import BundleVerifier, load_trusted_root


@dataclass(frozen=True)
class VerifyOptions:
    """Where trust comes from and whether the network may be used."""

    policy: Path | None = None
    trusted_root: Path | None = None
    trust_config: Path | None = None
    offline: bool = False
    #: How the trust root was named, for reports ("--trust-config" or "PROVENANCE_TRUST_CONFIG").
    trust_origin: str | None = None


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


def verifier_factory(options: VerifyOptions) -> Any:
    if options.offline and options.trusted_root is None and options.trust_config is None:

        def pinned_required() -> BundleVerifier:
            raise UsageError("--offline needs a pinned root: pass --trusted-root or --trust-config")

        return pinned_required
    return lambda: BundleVerifier(load_trusted_root(options.trusted_root, options.trust_config))


PRODUCTION = "sigstore production (TUF)"


def trust_description(
    options: VerifyOptions, trust: TrustContext | None, *, via: str | None = None
) -> dict[str, str | None]:
    """Which trusted root decided, and where it came from (THREATS.md G51).

    A pinned file or trust config is digested as the index and evidence packs digest it;
    production's root only once it was loaded (no bundle, no network, no digest).
    """
    from provenance.app.evidence import trusted_root_digest  # evidence imports this module

    path = options.trusted_root or options.trust_config
    if options.trusted_root is not None:
        source = options.trust_origin or "--trusted-root"
    elif options.trust_config is not None:
        source = options.trust_origin or "--trust-config"
    else:
        source = PRODUCTION
    digest = trusted_root_digest(options) if path is not None else None
    if path is None and trust is not None:
        digest = trust.root_digest()
    if via is not None:
        source = f"{via}, pinned by {source}"
    return {"source": source, "path": str(path) if path else None, "digest": digest}


def with_trust(report: Report, description: dict[str, str | None]) -> Report:
    """The report, naming the trusted root that decided (text, JSON, SARIF and VSA show it)."""
    return replace(report, extra={**report.extra, "trusted_root": description})


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
    trust = trust_context(loaded, verifier_factory(options))
    store = NotesStore(git, loaded.policy.notes_ref)
    report = verify_commits(git, commits, trust, store)
    return with_trust(report, trust_description(options, trust))
