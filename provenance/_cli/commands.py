"""init, stamp, verify, show: parse, call one library function, render."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provenance._cli.output import echo, finish_verdict
from provenance.display import shown, shown_path
from provenance.gitio.walk import RangeError

if TYPE_CHECKING:
    from provenance.verify.report import Report

from provenance._cli.options import (
    ask_passphrase,
    key_and_token_options,
    read_token,
    repo_option,
    signing_options,
    trust_options,
    verify_options,
)
from provenance._cli.output import Reporter, progress_printer, refuse_whole, report_options
from provenance._cli.prompt import apply_prompter, prompter_options
from provenance._cli.run import capture_options
from provenance.errors import UsageError


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
    echo(f"wrote {path}; review it, then commit it", err=True)


@click.command("stamp")
@click.argument("commit", default="HEAD")
@repo_option
@capture_options(required=False)
@prompter_options
@click.option(
    "--pending",
    "complete_pending",
    is_flag=True,
    help="Instead of stamping COMMIT, sign and store every statement left pending by a "
    "failed stamp or run (refs/notes/provenance-pending).",
)
@signing_options
def stamp_cmd(
    commit: str,
    repo: Path,
    complete_pending: bool,
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
    **capture: Any,
) -> None:
    """Record who and what produced COMMIT, sign it, and store it in git notes.

    The attestation is an in-toto Statement v1 whose subject is the sha256 of the raw commit
    object; the prompt is stored only as a commitment (sha256, or HMAC with --salted or
    --prompt-salt-file), and its text only with --store-prompt after a secret scan. Agent
    configuration files committed at COMMIT (AGENTS.md, CLAUDE.md, .mcp.json, ...) are
    recorded by digest. Prints the attestation digest. If signing fails the commit is left
    pending (exit 3); `provenance stamp --pending` completes every pending commit later.

    \b
    Examples:
      provenance stamp --agent claude-code@2.1 --model claude-opus-4 \\
          --prompter alice@example.com --prompt-file prompt.txt \\
          --identity-token @token.jwt --trust-config trust_config.json
      provenance stamp HEAD~1 --agent codex --model gpt-5 --prompter bob@example.com \\
          --prompt-digest sha256:<hex> --key keys/agent.pem
      provenance stamp --pending --identity-token @token.jwt
    """
    from provenance._cli.run import complete_pending_cmd
    from provenance.app.stamp import stamp
    from provenance.sign.signing import SigningOptions

    signing = SigningOptions(
        passphrase=ask_passphrase,
        key=key,
        public_key=public_key,
        identity_token=read_token(identity_token),
        trust_config=trust_config,
    )
    if complete_pending:
        complete_pending_cmd(repo, signing, capture)
        return
    from provenance._cli.run import capture_from
    from provenance.app.session import build_session

    session = build_session(repo, capture_from(capture))
    session = apply_prompter(repo, session, capture, trust_config)
    result = stamp(repo, commit, session, signing)
    echo(result.digest)
    state = "stored" if result.added else "already stored"
    echo(f"stamped {result.commit[:12]} signed by {shown(result.signer)} ({state})", err=True)


def _emit(report: Report, out: Reporter, *, detailed: bool = False) -> None:
    """The gate's report in the format asked for; with a machine format, the text for
    people goes to stderr too (a CI log shows what was refused)."""
    from provenance.verify.formats import render_sarif
    from provenance.verify.report import render_json, render_text, report_to_dict

    if out.fmt == "sarif":
        out.write(render_sarif(report))
    elif out.fmt == "json" and detailed:
        data = report_to_dict(report)
        for entry, verdict in zip(data["commits"], report.commits, strict=True):
            for item, att in zip(entry["attestations"], verdict.attestations, strict=True):
                item["predicate"] = att.predicate.model_dump(mode="json") if att.predicate else None
        out.write(json.dumps(data, indent=2))
    elif out.fmt == "json":
        out.write(render_json(report))
    else:
        out.write(render_text(report))
        return
    if not detailed:
        echo(render_text(report), err=True)


@click.command("verify")
@click.argument("revisions", nargs=-1, required=True, metavar="COMMIT... | BASE..HEAD")
@repo_option
@trust_options
@report_options("text", "json", "sarif", gate=True)
@click.option(
    "--vsa",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write an SLSA verification_summary/v1 statement for HEAD to this file "
    "(signed when --key or --identity-token is given; keyless uses --trust-config). "
    "For single commits it needs --policy FILE (HEAD's own policy vouches for nothing).",
)
@click.option(
    "--evidence",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Decide BASE..HEAD from this evidence pack (provenance export) and the repository's "
    "objects alone, with no network. Needs the root you trust (--trusted-root or "
    "--trust-config; the pack's own root proves nothing and must equal it); the pack's policy "
    "must be the one committed at BASE.",
)
@key_and_token_options
def verify_cmd(
    revisions: tuple[str, ...],
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    report: Reporter,
    vsa: Path | None,
    evidence: Path | None,
    identity_token: str | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Verify commits, or gate a release range BASE..HEAD.

    \b
    COMMIT...   each named commit is a range of one: classified against its parents with
                the rules of the policy committed at HEAD (or --policy); an identity-related
                one needs a valid change attestation and the approvals the policy asks for;
                the others are not-required (attestations on them are shown anyway).
    BASE..HEAD  every commit of the range (merges included) is classified with the rules of
                the policy committed at BASE; each identity-related one needs a valid change
                attestation. The policy is never read from the candidate.

    A change attestation is valid when its signature, certificate chain, transparency-log
    proof and signed time verify against the trust root, its subject is the commit's
    recomputed digest, its predicate validates, the policy allows its signer and what
    produced it ([allow]: agent, model, skills, agent configs), and no entry of the
    revocations read with the policy (.provenance/revocations.toml) withdraws it (`revoked`,
    judged on the verified signed time). AI trailers of identity-related commits must agree
    with it ([trailers]).

    \b
    The report goes to stdout (or --output FILE); with --format json or sarif the text
    report also goes to stderr for the log. Every exit has a report: refusals before any
    commit was judged carry their reason code, and exit 2 or 3 gives "result": "error"
    (SARIF: invocations[0].executionSuccessful false).

    \b
    Exit codes: 0 passed, 1 refused, 2 usage error, 3 could not decide.
    Examples:
      provenance verify --offline --trusted-root trusted_root.json --format json HEAD
      provenance verify --format sarif --output gate.sarif --vsa vsa.json \\
          refs/remotes/origin/release..HEAD
      provenance verify --evidence pack/ --offline --trusted-root root.json BASE..HEAD
    """
    from provenance.app.gate import verify, verify_range
    from provenance.app.vsa import write_vsa
    from provenance.sign.signing import SigningOptions

    options = verify_options(
        policy, trusted_root, trust_config, offline, no_network=evidence is not None
    )
    ranges = [r for r in revisions if ".." in r]
    if ranges and len(revisions) != 1:
        raise UsageError("give either one BASE..HEAD range or commits, not both")
    if vsa is not None and not ranges and policy is None:
        raise UsageError(
            "--vsa for single commits needs --policy FILE: without it the policy is HEAD's "
            "own, chosen by the candidate, and a summary would vouch for nothing",
            hint="verify the range BASE..HEAD (policy from BASE), or pass a trusted --policy",
        )
    if evidence is not None and not ranges:
        raise UsageError("--evidence verifies a range: give BASE..HEAD")
    try:
        if ranges and evidence is not None:
            from provenance._cli.audit import evidence_report

            decided = evidence_report(repo, ranges[0], evidence, options, report)
        elif ranges:
            decided = verify_range(repo, ranges[0], options, progress_printer())
        else:
            decided = verify(repo, list(revisions), options)
    except RangeError as e:  # includes revision_ambiguous for single commits
        refuse_whole(e, report)
    if vsa is not None:
        signing = None
        if key or identity_token:
            signing = SigningOptions(
                passphrase=ask_passphrase,
                key=key,
                public_key=public_key,
                identity_token=read_token(identity_token),
                trust_config=trust_config,
            )
        digest = write_vsa(decided, vsa, repo, signing)
        echo(f"wrote VSA {vsa} ({digest})", err=True)
    _emit(decided, report)
    finish_verdict(bool(decided))


@click.command("show")
@click.argument("commit")
@repo_option
@trust_options
@report_options("text", "json")
def show_cmd(
    commit: str,
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    report: Reporter,
) -> None:
    """Show every attestation stored on COMMIT, decoded, with its verification status.

    A commit that passed through a rewrite link shows the chain: how (``squash of A..B``)
    and each source commit, whose own attestations `show SOURCE` prints.

    \b
    Example:
      provenance show HEAD --format json --trust-config trust_config.json
    """
    from provenance.app.gate import verify

    options = verify_options(policy, trusted_root, trust_config, offline)
    decided = verify(repo, [commit], options)
    if report.fmt == "json":
        _emit(decided, report, detailed=True)
        return
    report.write("\n".join(show_lines(decided)))


def show_lines(report: Report) -> list[str]:
    """``show``'s text: the commit's status, the root, then each attestation decoded."""
    from provenance.predicates import ChangePredicate

    verdict = report.commits[0]
    root = report.trusted_root or {}
    lines = [
        f"commit {verdict.commit}: {verdict.status}",
        f"  trusted root {root.get('digest')} from {shown(root.get('source'))}",
        *(f"  reason: {reason}" for reason in verdict.reasons),
    ]
    if verdict.via is not None:
        lines.append(f"  via: {shown(verdict.via)} (recomputed from git objects)")
        lines += [f"      source {s}  (provenance show {s[:12]})" for s in verdict.sources]
    for att in verdict.attestations:
        status = "ok" if att.ok else "refused: " + ", ".join(att.reasons)
        lines.append(f"  [{att.index}] {att.kind} ({att.format}) {status}")
        if att.signer:
            lines.append(
                f"      signer: {shown(att.signer)}  issuer: {shown(att.issuer)}  "
                f"time: {att.signed_time}"
            )
        if isinstance(att.predicate, ChangePredicate):
            agent = att.predicate.agent
            lines.append(
                f"      agent: {shown(agent.tool)}@{shown(agent.version)}  "
                f"model: {shown(agent.model)}  prompter: {shown(att.predicate.prompter)}"
            )
            for change in att.predicate.changes:
                rules = shown(",".join(change.rules) or "-")
                lines.append(f"      {shown(change.status)} {shown_path(change.path)}  [{rules}]")
    return lines
