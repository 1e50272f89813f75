"""``provenance devinstance``: run the local Sigstore-compatible instance, mint tokens for it."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from provenance._cli.output import echo
from provenance.errors import ProvenanceError

_dir_option = click.option(
    "--dir",
    "directory",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Instance directory: keys, certificates, logs, trust_config.json, url.",
)


@click.group(name="devinstance")
def devinstance() -> None:
    """A local Sigstore-compatible instance for tests, demos and air-gapped labs.

    It serves real Fulcio, Rekor (v1 or v2) and RFC 3161 timestamp endpoints on 127.0.0.1,
    so the unmodified sigstore-python client signs against it, and it writes the trust
    config and trusted root that verify those bundles offline. Bundles it signs never
    verify against the production Sigstore root.

    \b
    Example:
      provenance devinstance serve --dir .demo/sigstore &
      TOKEN=$(provenance devinstance token --dir .demo/sigstore --identity agent@example.com)
    """


@devinstance.command()
@_dir_option
@click.option("--port", default=0, show_default=True, help="TCP port; 0 picks a free one.")
@click.option(
    "--rekor-version",
    type=click.Choice(["1", "2"]),
    default="1",
    show_default=True,
    help="Rekor API the signing config points clients at (both logs are always served).",
)
@click.option("--no-tsa", is_flag=True, help="Leave the timestamp authority out of the config.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request to stderr.")
def serve(directory: Path, port: int, rekor_version: str, no_tsa: bool, verbose: bool) -> None:
    """Serve the instance until SIGTERM or Ctrl-C.

    When ready it writes DIR/trust_config.json (give it to the signer), DIR/trusted_root.json
    (give it to verifiers) and, last, DIR/url, so scripts can wait for that file. Restarting
    on the same DIR keeps every key and both logs; only the URL may change.

    \b
    Example:
      provenance devinstance serve --dir /tmp/sigstore --rekor-version 2
    """
    if verbose:
        _log_to_stderr()
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    from provenance.devinstance import DevInstance

    with DevInstance(directory, rekor_version=int(rekor_version), tsa=not no_tsa) as inst:
        echo(f"devinstance serving {inst.url}", err=True)
        echo(f"  trust config: {inst.trust_config_path}", err=True)
        echo(f"  trusted root: {inst.trusted_root_path}", err=True)
        echo(f"  OIDC issuer:  {inst.default_issuer}", err=True)
        echo(f"  tokens:       devinstance token --dir {directory} --identity ID", err=True)
        while not stop.wait(0.5):
            pass
        echo("devinstance stopping", err=True)


@devinstance.command()
@_dir_option
@click.option("--identity", required=True, help="Email or URI the certificate will name.")
@click.option("--issuer", default=None, help="Issuer URL (default: the instance's own issuer).")
@click.option("--ttl", default=600, show_default=True, help="Lifetime in seconds; <0 = expired.")
def token(directory: Path, identity: str, issuer: str | None, ttl: int) -> None:
    """Print an OIDC ID token that the instance in DIR accepts.

    Needs no running server: it signs with the issuer key kept in DIR (a new issuer URL gets
    its key on first use). Verify the resulting bundles with that identity and issuer.

    \b
    Example:
      provenance devinstance token --dir /tmp/sigstore --identity agent@example.com
      provenance devinstance token --dir /tmp/sigstore --ttl=-60 --identity a@example.com
    """
    from provenance.devinstance import issuer_registry

    echo(issuer_registry(directory).issue_token(identity, issuer, ttl))


def _log_to_stderr() -> None:
    """Send the instance's own logger (not the root logger) to stderr, once."""
    logger = logging.getLogger("provenance.devinstance")
    logger.setLevel(logging.DEBUG)
    if not logging.getLogger("provenance").handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        logger.addHandler(handler)


def main() -> None:
    """Standalone entry point (``python -m provenance._cli.devinstance_cmd``)."""
    try:
        devinstance.main(prog_name="devinstance")
    except ProvenanceError as e:
        echo(f"error: {e.diagnostics()}", err=True)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
