"""init, stamp, verify, show: parse, call one library function, render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from provenance.gitio.walk import RangeError

if TYPE_CHECKING:
    from provenance.verify.report import Report

from provenance._cli.gate import progress_printer
from provenance._cli.options import (
    format_option,
    key_and_token_options,
    read_token,
    repo_option,
    signing_options,
    trust_options,
)
from provenance.errors import UsageError

EXIT_PASS, EXIT_REFUSED = 0, 1


@click.command("init")
@repo_option
@click.option(
    "--issuer",
    default="https://token.actions.githubusercontent.com",
    show_default=True,
    help="OIDC issuer of the signer allowed to stamp.",
)
@click.option(
    "--identity",
    default="agent-bot@example.com",
    show_default=True,
    help="Exact signer identity (certificate SAN) allowed to stamp.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing policy.")
def init_cmd(repo: Path, issuer: str, identity: str, force: bool) -> None:
    """Write a commented .provenance/policy.toml to edit and commit.

    \b
    Example:
      provenance init --issuer https://accounts.example.com --identity agent-bot@example.com
    """
    from provenance.app.init import init_policy

    path = init_policy(repo, issuer, identity, force=force)
    click.echo(f"wrote {path}; review it, then commit it", err=True)


@click.command("stamp")
@click.argument("commit", default="HEAD")
@repo_option
@click.option(
    "--agent", required=True, metavar="TOOL[@VERSION]", help="Agent tool, e.g. claude-code@2.1."
)
@click.option("--model", required=True, metavar="ID", help="Model id, e.g. claude-opus-4.")
@click.option("--prompter", required=True, metavar="IDENTITY", help="Human who prompted the agent.")
@click.option(
    "--prompt-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Prompt text; only its sha256 is recorded.",
)
@click.option("--prompt-digest", metavar="sha256:HEX", help="Commitment computed elsewhere.")
@click.option("--session-id", metavar="ID", help="Agent session id.")
@click.option(
    "--skill",
    "skills",
    multiple=True,
    metavar="PATH|NAME@VERSION",
    help="Skill package used (a directory is digested). Repeatable.",
)
@signing_options
def stamp_cmd(
    commit: str,
    repo: Path,
    agent: str,
    model: str,
    prompter: str,
    prompt_file: Path | None,
    prompt_digest: str | None,
    session_id: str | None,
    skills: tuple[str, ...],
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Record who and what produced COMMIT, sign it, and store it in git notes.

    The attestation is an in-toto Statement v1 whose subject is the sha256 of the raw commit
    object; the prompt is stored only as a commitment. Prints the attestation digest.

    \b
    Examples:
      provenance stamp --agent claude-code@2.1 --model claude-opus-4 \\
          --prompter alice@example.com --prompt-file prompt.txt \\
          --identity-token @token.jwt --trust-config trust_config.json
      provenance stamp HEAD~1 --agent codex --model gpt-5 --prompter bob@example.com \\
          --prompt-digest sha256:<hex> --key keys/agent.pem
    """
    from provenance.app.stamp import SigningOptions, stamp
    from provenance.record.change import (
        SessionContext,
        parse_agent,
        prompt_from_digest,
        prompt_from_text,
        skill_descriptor,
    )

    if (prompt_file is None) == (prompt_digest is None):
        raise UsageError("give exactly one of --prompt-file and --prompt-digest")
    tool, version = parse_agent(agent)
    prompt = (
        prompt_from_text(prompt_file.read_bytes())
        if prompt_file
        else prompt_from_digest(str(prompt_digest))
    )
    session = SessionContext(
        tool=tool,
        tool_version=version,
        model=model,
        prompter=prompter,
        prompt=prompt,
        session_id=session_id,
        skills=tuple(skill_descriptor(s) for s in skills),
    )
    signing = SigningOptions(
        key=key,
        public_key=public_key,
        identity_token=read_token(identity_token),
        trust_config=trust_config,
    )
    result = stamp(repo, commit, session, signing)
    click.echo(result.digest)
    state = "stored" if result.added else "already stored"
    click.echo(f"stamped {result.commit[:12]} signed by {result.signer} ({state})", err=True)


def _emit(report: Report, fmt: str, *, detailed: bool = False) -> None:
    from provenance.verify.report import render_json, render_text, report_to_dict

    if fmt == "json":
        data = report_to_dict(report)
        if detailed:
            for entry, verdict in zip(data["commits"], report.commits, strict=True):
                for out, att in zip(entry["attestations"], verdict.attestations, strict=True):
                    out["predicate"] = att.predicate
        click.echo(json.dumps(data, indent=2) if detailed else render_json(report))
    else:
        click.echo(render_text(report), err=True)


@click.command("verify")
@click.argument("revisions", nargs=-1, required=True, metavar="COMMIT... | BASE..HEAD")
@repo_option
@trust_options
@format_option("text", "json", "sarif")
@click.option(
    "--vsa",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an SLSA verification_summary/v1 statement for HEAD to this file "
    "(signed when --key or --identity-token is given; keyless uses --trust-config).",
)
@key_and_token_options
def verify_cmd(
    revisions: tuple[str, ...],
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    fmt: str,
    vsa: Path | None,
    identity_token: str | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Verify commits, or gate a release range BASE..HEAD.

    \b
    COMMIT...   every named commit needs a valid change attestation.
    BASE..HEAD  every commit of the range (merges included) is classified with the rules of
                the policy committed at BASE; each identity-related one needs a valid change
                attestation. The policy is never read from the candidate.

    A change attestation is valid when its signature, certificate chain, transparency-log
    proof and signed time verify against the trust root, its subject is the commit's
    recomputed digest, its predicate validates and the policy allows its signer.

    \b
    Exit codes: 0 passed, 1 refused, 2 usage error, 3 could not decide.
    Examples:
      provenance verify --offline --trusted-root trusted_root.json --format json HEAD
      provenance verify --format sarif --vsa vsa.json origin/release..HEAD > gate.sarif
    """
    from provenance.app.gate import verify_range
    from provenance.app.stamp import SigningOptions
    from provenance.app.verify import VerifyOptions, forbid_network, verify
    from provenance.app.vsa import write_vsa
    from provenance.verify.formats import render_sarif
    from provenance.verify.report import render_text

    if offline:
        forbid_network()
    options = VerifyOptions(
        policy=policy, trusted_root=trusted_root, trust_config=trust_config, offline=offline
    )
    ranges = [r for r in revisions if ".." in r]
    if ranges and len(revisions) != 1:
        raise UsageError("give either one BASE..HEAD range or commits, not both")
    if ranges:
        try:
            report = verify_range(repo, ranges[0], options, progress_printer())
        except RangeError as e:
            _refuse_range(e, fmt)
    else:
        report = verify(repo, list(revisions), options)
    if vsa is not None:
        signing = None
        if key or identity_token:
            signing = SigningOptions(
                key=key,
                public_key=public_key,
                identity_token=read_token(identity_token),
                trust_config=trust_config,
            )
        digest = write_vsa(report, vsa, repo, signing)
        click.echo(f"wrote VSA {vsa} ({digest})", err=True)
    if fmt == "sarif":
        click.echo(render_sarif(report))
        click.echo(render_text(report), err=True)
    else:
        _emit(report, fmt)
    raise SystemExit(EXIT_PASS if report else EXIT_REFUSED)


def _refuse_range(error: RangeError, fmt: str) -> NoReturn:
    """A range that proves nothing is a refusal (exit 1), machine-readable in every format."""
    click.echo(f"error: {error.diagnostics()}", err=True)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "result": "refused",
                    "reasons": [error.reason],
                    "error": str(error),
                    "commits": [],
                },
                indent=2,
            )
        )
    elif fmt == "sarif":
        from provenance.verify.formats import render_refusal_sarif

        click.echo(render_refusal_sarif(error.reason, str(error)))
    raise SystemExit(EXIT_REFUSED)


@click.command("show")
@click.argument("commit")
@repo_option
@trust_options
@format_option("text", "json")
def show_cmd(
    commit: str,
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    fmt: str,
) -> None:
    """Show every attestation stored on COMMIT, decoded, with its verification status.

    \b
    Example:
      provenance show HEAD --format json --trust-config trust_config.json
    """
    from provenance.app.verify import VerifyOptions, forbid_network, verify

    if offline:
        forbid_network()
    options = VerifyOptions(
        policy=policy, trusted_root=trusted_root, trust_config=trust_config, offline=offline
    )
    report = verify(repo, [commit], options)
    if fmt == "json":
        _emit(report, fmt, detailed=True)
        return
    verdict = report.commits[0]
    click.echo(f"commit {verdict.commit}: {verdict.status}", err=True)
    for reason in verdict.reasons:
        click.echo(f"  reason: {reason}", err=True)
    for att in verdict.attestations:
        status = "ok" if att.ok else "refused: " + ", ".join(att.reasons)
        click.echo(f"  [{att.index}] {att.kind} ({att.format}) {status}", err=True)
        if att.signer:
            click.echo(
                f"      signer: {att.signer}  issuer: {att.issuer}  time: {att.signed_time}",
                err=True,
            )
        if att.predicate:
            agent = att.predicate.get("agent", {})
            click.echo(
                f"      agent: {agent.get('tool')}@{agent.get('version')}  model: "
                f"{agent.get('model')}  prompter: {att.predicate.get('prompter')}",
                err=True,
            )
            for change in att.predicate.get("changes", []):
                rules = ",".join(change.get("rules", [])) or "-"
                click.echo(
                    f"      {change.get('status')} {change.get('path')}  [{rules}]", err=True
                )
