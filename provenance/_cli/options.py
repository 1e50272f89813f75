"""Options shared by several commands, defined once as decorators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from provenance.app.options import VerifyOptions

from provenance.display import terminal_safe

F = TypeVar("F", bound=Callable[..., Any])

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def repo_option(f: F) -> F:
    """``--repo``: the repository to work on (default: the current directory)."""
    return click.option(
        "--repo",
        type=click.Path(file_okay=False, path_type=Path),
        default=".",
        show_default=True,
        help="Repository (work tree or bare).",
    )(f)


def key_and_token_options(f: F) -> F:
    """``--key``/``--public-key``/``--identity-token``: how to sign, minus the trust config."""
    f = click.option(
        "--public-key",
        type=_existing_file,
        default=None,
        help="PEM public key for KMS/HSM --key URIs.",
    )(f)
    f = click.option(
        "--key",
        default=None,
        metavar="URI",
        help="Sign with a key instead of Sigstore: a PEM private key path, file2:PATH, "
        "or a securesystemslib KMS URI (gcpkms:, awskms:, azurekms:, hsm:). A key file must "
        "be mode 0600; an encrypted one takes its passphrase from PROVENANCE_KEY_PASSPHRASE "
        "or a prompt at a terminal (never stored).",
    )(f)
    f = click.option(
        "--identity-token",
        default=None,
        metavar="TOKEN|@FILE",
        envvar="PROVENANCE_IDENTITY_TOKEN",
        help="OIDC token for keyless signing, or @FILE to read it from a file. Without it, "
        "ambient CI credentials are detected. [env: PROVENANCE_IDENTITY_TOKEN]",
    )(f)
    return f


def signing_options(f: F) -> F:
    """Keyless (token + trust config) or key signing options, as stamp and approve take them."""
    f = key_and_token_options(f)
    f = click.option(
        "--trust-config",
        type=_existing_file,
        default=None,
        envvar="PROVENANCE_TRUST_CONFIG",
        help="Sigstore client trust config (default: Sigstore production). "
        "[env: PROVENANCE_TRUST_CONFIG]",
    )(f)
    return f


def _root_file_options(f: F, trusted_root_help: str) -> F:
    """``--trusted-root`` and ``--trust-config``: where a pinned trusted root comes from."""
    f = click.option(
        "--trusted-root",
        type=_existing_file,
        default=None,
        help=trusted_root_help,
    )(f)
    f = click.option(
        "--trust-config",
        type=_existing_file,
        default=None,
        envvar="PROVENANCE_TRUST_CONFIG",
        help="Client trust config whose trusted root is used. [env: PROVENANCE_TRUST_CONFIG]",
    )(f)
    return f


def root_options(f: F) -> F:
    """Every source of a trusted root: verify-bundle and trust-root export."""
    f = click.option(
        "--offline",
        is_flag=True,
        help="Never open a network connection. Without a root given, use the public-good "
        "root shipped inside sigstore-python instead of refreshing it through TUF.",
    )(f)
    f = click.option(
        "--staging", is_flag=True, help="Sigstore's staging instance instead of production."
    )(f)
    return _root_file_options(f, "Pinned trusted root JSON (wins over every other source).")


def trust_options(f: F) -> F:
    """Policy and trust root for verification."""
    f = click.option(
        "--offline",
        is_flag=True,
        help="Never open a network connection; needs --trusted-root or --trust-config.",
    )(f)
    f = _root_file_options(f, "Pinned Sigstore trusted root JSON.")
    f = click.option(
        "--policy",
        type=_existing_file,
        default=None,
        help="Policy file outside the repository (default: .provenance/policy.toml "
        "committed at HEAD).",
    )(f)
    return f


def read_token(value: str | None) -> str | None:
    """``@FILE`` reads the token from a file; anything else is the token itself."""
    if value and value.startswith("@"):
        try:
            return Path(value[1:]).read_text().strip()
        except OSError as e:
            raise click.BadParameter(
                f"cannot read {value[1:]}: {e.strerror}", param_hint="--identity-token"
            ) from e
    return value


def ask_passphrase(path: Path) -> bytes | None:
    """An encrypted key's passphrase, typed at a terminal (not echoed); ``None`` without one.

    Asked only when ``PROVENANCE_KEY_PASSPHRASE`` is unset; never logged, never stored.
    """
    import sys

    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    typed = click.prompt(
        f"passphrase for {terminal_safe(str(path))}", hide_input=True, err=True, default=""
    )
    return str(typed).encode() or None


def trust_origin(trust_config: Path | None) -> str | None:
    """``PROVENANCE_TRUST_CONFIG`` when the trust config came from the environment (G51).

    Said on stderr too: an environment variable must never silently redirect the gate to
    another Sigstore instance; reports name the root and its source either way.
    """
    ctx = click.get_current_context()
    if trust_config is None:
        return None
    if ctx.get_parameter_source("trust_config") != click.core.ParameterSource.ENVIRONMENT:
        return None
    click.echo(
        terminal_safe(f"note: trust config {trust_config} from PROVENANCE_TRUST_CONFIG"), err=True
    )
    return "PROVENANCE_TRUST_CONFIG"


def verify_options(
    policy: Path | None,
    trusted_root: Path | None,
    trust_config: Path | None,
    offline: bool,
    *,
    no_network: bool = False,
) -> VerifyOptions:
    """The options of a verifying command (``trust_options``), resolved once.

    Under ``--offline`` (or ``no_network``) this process opens no connection from here on;
    a trust config from ``PROVENANCE_TRUST_CONFIG`` is named as such in every report (G51).
    """
    from provenance.app.options import VerifyOptions, forbid_network

    if offline or no_network:
        forbid_network()
    return VerifyOptions(
        policy=policy,
        trusted_root=trusted_root,
        trust_config=trust_config,
        offline=offline,
        trust_origin=trust_origin(trust_config),
    )
