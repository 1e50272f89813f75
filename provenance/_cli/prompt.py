"""prompt sign, and the prompter options of run and stamp: the prompter signs, not the wrapper."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from provenance._cli.options import ask_passphrase, read_token, repo_option, signing_options
from provenance._cli.output import echo
from provenance.display import shown
from provenance.errors import UsageError

if TYPE_CHECKING:
    from provenance.record.change import SessionContext

F = TypeVar("F", bound=Callable[..., Any])
_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def prompter_options(f: F) -> F:
    """``--prompter-sign`` (with the prompter's token or key) or ``--prompt-attestation``."""
    options = [
        click.option(
            "--prompter-sign",
            is_flag=True,
            help="Before anything runs, have the prompter sign a prompt attestation with "
            "their own identity (--prompter-token @FILE or --prompter-key); every change "
            "attestation of the session carries it.",
        ),
        click.option(
            "--prompter-token",
            metavar="@FILE",
            help="The prompter's own OIDC token for --prompter-sign (never a CI token).",
        ),
        click.option(
            "--prompter-key",
            metavar="PATH",
            help="The prompter's PEM private key for --prompter-sign.",
        ),
        click.option(
            "--prompt-attestation",
            type=_existing_file,
            help="A prompt attestation the prompter signed earlier (provenance prompt sign).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def apply_prompter(
    repo: Path, session: SessionContext, kwargs: dict[str, Any], trust_config: Path | None
) -> SessionContext:
    """Pop the prompter options; sign or attach the prompt attestation (THREATS.md G50)."""
    from provenance.app.prompt import prompter_session
    from provenance.sign.signing import SigningOptions

    sign = kwargs.pop("prompter_sign", False)
    token, key = kwargs.pop("prompter_token", None), kwargs.pop("prompter_key", None)
    attestation = kwargs.pop("prompt_attestation", None)
    if (token or key) and not sign:
        raise UsageError("--prompter-token and --prompter-key go with --prompter-sign")
    signing = None
    if sign:
        if token is not None and not token.startswith("@"):
            raise UsageError(
                "--prompter-token takes @FILE: a token on the command line is visible to "
                "every process (/proc/PID/cmdline)"
            )
        if (token is None) == (key is None):
            raise UsageError("--prompter-sign needs --prompter-token @FILE or --prompter-key")
        signing = SigningOptions(
            passphrase=ask_passphrase,
            key=key,
            identity_token=read_token(token),
            trust_config=trust_config,
        )
    return prompter_session(repo, session, sign_with=signing, attestation=attestation)


@click.group("prompt")
def prompt_group() -> None:
    """Prompt attestations: the prompter's own signature on the prompt (see `prompt sign`)."""


@prompt_group.command("sign")
@repo_option
@click.option("--prompter", required=True, metavar="IDENTITY", help="How you name yourself.")
@click.option("--prompt-file", type=_existing_file, help="The prompt (only a commitment).")
@click.option("--prompt-digest", metavar="sha256:HEX", help="Commitment computed elsewhere.")
@click.option("--prompt-salt-file", type=_existing_file, help="HMAC the prompt with this salt.")
@click.option("--salted", is_flag=True, help="HMAC with this machine's per-repository salt.")
@click.option("--session-id", metavar="ID", help="Bind it to this agent session only.")
@click.option(
    "--valid-for",
    type=click.IntRange(1, 168),
    default=24,
    show_default=True,
    metavar="HOURS",
    help="Until when a change attestation may carry it (at most a week).",
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the attestation here (default: stdout).",
)
@signing_options
def prompt_sign_cmd(
    repo: Path,
    prompter: str,
    prompt_file: Path | None,
    prompt_digest: str | None,
    prompt_salt_file: Path | None,
    salted: bool,
    session_id: str | None,
    valid_for: int,
    out: Path | None,
    trust_config: Path | None,
    identity_token: str | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Sign a prompt attestation as yourself, for an agent that runs somewhere else.

    For CI-triggered agents: the person who asks for the change signs the prompt with their
    own identity (keyless with their OIDC token, or their key) before the pipeline runs,
    and the pipeline passes the file to `provenance run --prompt-attestation FILE`. The
    commitment must be the one the pipeline computes (same prompt, same salt), and the
    repository the one it names (set `repository` in the policy). A CI token is refused: its
    certificate names the workflow, not you.

    \b
    Example:
      provenance prompt sign --prompter alice@example.com --prompt-file task.md \\
          --identity-token @alice.jwt --out prompt.sigstore.json
    """
    from provenance.app.prompt import prompt_commitment, sign_prompt
    from provenance.app.session import CaptureOptions
    from provenance.sign.signing import SigningOptions

    capture = CaptureOptions(
        agent="",
        model="",
        prompter=prompter,
        prompt_file=prompt_file,
        prompt_digest=prompt_digest,
        salt_file=prompt_salt_file,
        salted=salted,
    )
    signing = SigningOptions(
        passphrase=ask_passphrase,
        key=key,
        public_key=public_key,
        identity_token=read_token(identity_token),
        trust_config=trust_config,
    )
    signed = sign_prompt(
        repo,
        prompter=prompter,
        commitment=prompt_commitment(repo, prompter, capture),
        signing=signing,
        session_id=session_id,
        valid_for=timedelta(hours=valid_for),
    )
    if out is None:
        echo(signed.line.decode())
    else:
        out.write_bytes(signed.line + b"\n")
    echo(
        f"signed prompt attestation {signed.digest} as {shown(signed.signer)}, valid until "
        f"{signed.expires_at.isoformat(timespec='seconds')}",
        err=True,
    )
