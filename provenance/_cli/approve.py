"""approve and pending: the reviewer's commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from provenance.app.approve import Preview

from provenance._cli.gate import progress_printer
from provenance._cli.options import format_option, read_token, repo_option, signing_options
from provenance.errors import UsageError

_file = click.Path(exists=True, dir_okay=False, path_type=Path)


def _show(seen: Preview) -> None:
    p = seen.predicate
    agent = p.get("agent", {})
    prompt = p.get("prompt", {})
    click.echo(f"commit     {seen.commit.sha}", err=True)
    tool = agent.get("tool", "?") + (f"@{agent['version']}" if agent.get("version") else "")
    session = agent.get("session_id") or "-"
    click.echo(f"agent      {tool}  model {agent.get('model')}  session {session}", err=True)
    click.echo(f"prompter   {p.get('prompter')}", err=True)
    click.echo(f"prompt     {prompt.get('algorithm')}:{prompt.get('digest')}", err=True)
    for skill in p.get("skills", []):
        click.echo(
            f"skill      {skill.get('name')} {skill.get('version') or ''} "
            f"{skill.get('digest', {}).get('sha256', '')}",
            err=True,
        )
    click.echo(
        f"signed by  {seen.change.signer} ({seen.change.issuer}) at {seen.change.signed_time}",
        err=True,
    )
    for change in p.get("changes", []):
        if change.get("rules"):
            click.echo(f"identity   {change.get('path')}  [{', '.join(change['rules'])}]", err=True)
    for path, added, removed in seen.diffstat:
        click.echo(f"  {path} | +{added} -{removed}", err=True)


@click.command("approve")
@click.argument("commits", nargs=-1, required=True)
@repo_option
@click.option(
    "--decision",
    type=click.Choice(["approve", "reject"]),
    default="approve",
    show_default=True,
    help="Approve, or reject (blocks until you approve again).",
)
@click.option("--comment", default=None, help="Free text stored in the signed approval.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (needed without a TTY).")
@click.option("--policy", type=_file, default=None, help="Policy outside the repository.")
@click.option(
    "--trusted-root", type=_file, default=None, help="Pinned trusted root to verify with."
)
@signing_options
def approve_cmd(
    commits: tuple[str, ...],
    repo: Path,
    decision: str,
    comment: str | None,
    yes: bool,
    policy: Path | None,
    trusted_root: Path | None,
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Approve (or reject) the change attestation of each COMMIT, signed with YOUR identity.

    Shows what you are approving (agent, model, prompter, prompt commitment, skills,
    identity-related paths and rules, diff stat), asks for confirmation, then signs an approval
    attestation bound to the exact commit and change attestation, and stores it. The approver
    is whoever the signature proves. A commit without a valid change attestation is refused.

    \b
    Example:
      provenance approve HEAD --comment "reviewed the SSO callback" --identity-token @me.jwt
    """
    from provenance.app.approve import approve, preview
    from provenance.app.stamp import SigningOptions
    from provenance.app.verify import VerifyOptions

    options = VerifyOptions(policy=policy, trusted_root=trusted_root, trust_config=trust_config)
    signing = SigningOptions(
        key=key,
        public_key=public_key,
        identity_token=read_token(identity_token),
        trust_config=trust_config,
    )
    # every commit is checked before anything is signed: a refused one stores nothing at all
    previews = [preview(repo, rev, options) for rev in commits]
    for seen in previews:
        _show(seen)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("refusing to approve without confirmation", hint="pass --yes")
            click.confirm(f"{decision} {seen.commit.sha[:12]}?", abort=True, err=True)
        done = approve(repo, seen, decision, comment, signing)
        click.echo(done.digest)
        verb = "approved" if done.decision == "approve" else "rejected"
        click.echo(
            f"{verb} {done.commit[:12]} (change attestation {done.approves[:19]}…)"
            f" signed by {done.signer}",
            err=True,
        )


@click.command("pending")
@click.argument("revision_range", metavar="BASE..HEAD")
@repo_option
@click.option("--policy", type=_file, default=None, help="Policy outside the repository.")
@click.option("--trusted-root", type=_file, default=None, help="Pinned trusted root.")
@click.option(
    "--trust-config",
    type=_file,
    default=None,
    envvar="PROVENANCE_TRUST_CONFIG",
    help="Trust config whose trusted root is used. [env: PROVENANCE_TRUST_CONFIG]",
)
@click.option("--offline", is_flag=True, help="No network; needs a pinned root.")
@format_option("text", "json")
def pending_cmd(
    revision_range: str,
    repo: Path,
    policy: Path | None,
    trusted_root: Path | None,
    trust_config: Path | None,
    offline: bool,
    fmt: str,
) -> None:
    """List identity-related commits of BASE..HEAD that still lack what the policy requires.

    For each: the reasons (approval_missing, approval_threshold_not_met, self_approval,
    approval_rejected, attestation_missing, ...), who approved so far, and the rules that made
    it identity-related. Exit 0 when nothing is pending, 1 otherwise.
    """
    from provenance.app.pending import pending
    from provenance.app.verify import VerifyOptions, forbid_network

    if offline:
        forbid_network()
    options = VerifyOptions(
        policy=policy, trusted_root=trusted_root, trust_config=trust_config, offline=offline
    )
    report, waiting = pending(repo, revision_range, options, progress_printer())
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "range": report.extra.get("range"),
                    "trusted_root": report.extra.get("trusted_root"),
                    "commits": [
                        {
                            "commit": c.commit,
                            "reasons": list(c.reasons),
                            "approvers": list(c.approvers),
                            "rules": list(c.rules),
                        }
                        for c in waiting
                    ],
                },
                indent=2,
            )
        )
    else:
        for c in waiting:
            click.echo(
                f"{c.commit[:12]}  {', '.join(c.reasons)}  approvers: "
                f"{', '.join(c.approvers) or '-'}  rules: {', '.join(c.rules)}",
                err=True,
            )
        click.echo(f"{len(waiting)} commit(s) pending", err=True)
    raise SystemExit(1 if waiting else 0)
