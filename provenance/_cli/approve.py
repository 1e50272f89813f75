"""approve and pending: the reviewer's commands."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenance._cli.output import echo, finish_verdict
from provenance.display import shown, shown_path

if TYPE_CHECKING:
    from provenance.app.approve import Preview

from provenance._cli.options import (
    ask_passphrase,
    read_token,
    repo_option,
    signing_options,
    verify_options,
)
from provenance._cli.output import Reporter, progress_printer, report_options
from provenance.errors import UsageError

_file = click.Path(exists=True, dir_okay=False, path_type=Path)


#: At most this many identity-related paths are listed right above the prompt.
_SUMMARY_PATHS = 20


def _header(seen: Preview) -> list[str]:
    """Who made the commit, its message, and what the signed change record says."""
    p, c = seen.predicate, seen.commit
    agent, prompt = p.agent, p.prompt
    tool = shown(agent.tool) + (f"@{shown(agent.version)}" if agent.version else "")
    lines = [
        f"commit     {c.sha}",
        f"author     {shown(c.author)}",
        f"committer  {shown(c.committer)}",
        "message    "
        + "\n           ".join(shown(ln) for ln in seen.message.rstrip("\n").split("\n")[:20]),
        f"agent      {tool}  model {shown(agent.model)}  session {shown(agent.session_id or '-')}",
        f"prompter   {shown(p.prompter)}",
        f"prompt     {shown(prompt.algorithm)}:{shown(prompt.digest)}",
    ]
    for skill in p.skills:
        lines.append(
            f"skill      {shown(skill.name)} {shown(skill.version or '')} "
            f"{shown(skill.digest.get('sha256', ''))}"
        )
    ch = seen.change
    lines.append(f"signed by  {shown(ch.signer)} ({shown(ch.issuer)}) at {ch.signed_time}")
    lines.append(f"policy     {shown(seen.policy_source)}")
    return lines


def _summary(seen: Preview, decision: str) -> list[str]:
    """What is being approved, in a few lines, printed directly above the prompt (G57)."""
    paths = seen.identity_paths()
    lines = [f"-- {decision} {seen.commit.sha[:12]}: {len(paths)} identity-related path(s) --"]
    for path, rules in paths[:_SUMMARY_PATHS]:
        lines.append(f"  {shown_path(path)}  [{shown(', '.join(rules))}]")
    if len(paths) > _SUMMARY_PATHS:
        lines.append(f"  ... and {len(paths) - _SUMMARY_PATHS} more (listed above)")
    since = seen.judged_from[:12] or "nothing (a root commit: every path)"
    lines.append(f"  as the release gate judges it, from {since}")
    recorded = seen.recorded_paths()
    if sorted(recorded) != sorted(paths):
        lines.append(
            f"  (the stamp recorded {len(recorded)} identity-related path(s); "
            "the gate's verdict above is what needs your approval)"
        )
    lines.append(f"  by {shown(seen.commit.author)}; {len(seen.diffstat)} path(s) changed in all")
    return lines


def _show(seen: Preview, decision: str, show_diff: bool) -> None:
    """Header, diff stat, the identity-related hunks if asked, then the summary, last."""
    for line in _header(seen):
        echo(line, err=True)
    for path, added, removed in seen.diffstat:
        echo(f"  {shown_path(path)} | +{added} -{removed}", err=True)
    if show_diff:
        for hunk in seen.hunks:
            echo(f"--- {shown_path(hunk.path)}", err=True)
            for line in hunk.removed:
                echo(f"-{shown(line)}", err=True)
            for line in hunk.added:
                echo(f"+{shown(line)}", err=True)
    for line in _summary(seen, decision):
        echo(line, err=True)


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
@click.option(
    "--base",
    metavar="REV",
    default=None,
    help="Verify with the policy committed here: the branch the commits will merge into "
    "(default: the current branch's upstream). Never HEAD's own policy.",
)
@click.option("--policy", type=_file, default=None, help="Pinned policy file (instead of --base).")
@click.option(
    "--trusted-root", type=_file, default=None, help="Pinned trusted root to verify with."
)
@click.option(
    "--show-diff/--no-show-diff",
    default=None,
    help="Show the identity-related lines the commit adds and removes "
    "(default: on at a terminal when they are short).",
)
@signing_options
def approve_cmd(
    commits: tuple[str, ...],
    repo: Path,
    decision: str,
    comment: str | None,
    yes: bool,
    base: str | None,
    policy: Path | None,
    trusted_root: Path | None,
    show_diff: bool | None,
    identity_token: str | None,
    trust_config: Path | None,
    key: str | None,
    public_key: Path | None,
) -> None:
    """Approve (or reject) the change attestation of each COMMIT, signed with YOUR identity.

    Shows what you are approving (author, committer, message, agent, model, prompter, prompt
    commitment, skills, diff stat, optionally the identity-related lines), then, right above
    the question, the identity-related paths and their rules; asks for confirmation, then signs
    an approval attestation bound to the exact commit and change attestation, and stores it.
    The approver is whoever the signature proves. A commit without a valid change attestation
    is refused. The attestation is checked against the policy committed at --base (default:
    the upstream of the current branch) or --policy, never the policy of the commit's branch.

    \b
    Example:
      provenance approve HEAD --base origin/main --comment "reviewed the SSO callback" \\
          --identity-token @me.jwt
    """
    from provenance.app.approve import SHORT_DIFF_LINES, approve, preview
    from provenance.app.options import VerifyOptions
    from provenance.sign.signing import SigningOptions

    options = VerifyOptions(policy=policy, trusted_root=trusted_root, trust_config=trust_config)
    signing = SigningOptions(
        passphrase=ask_passphrase,
        key=key,
        public_key=public_key,
        identity_token=read_token(identity_token),
        trust_config=trust_config,
    )
    # every commit is checked before anything is signed: a refused one stores nothing at all
    previews = [preview(repo, rev, options, base) for rev in commits]
    for seen in previews:
        interactive = sys.stderr.isatty() and sys.stdin.isatty()
        wanted = show_diff if show_diff is not None else (
            interactive and seen.diff_lines() <= SHORT_DIFF_LINES
        )  # fmt: skip
        _show(seen, decision, wanted)
        if not yes:
            if not sys.stdin.isatty():
                raise UsageError("refusing to approve without confirmation", hint="pass --yes")
            click.confirm(f"{decision} {seen.commit.sha[:12]}?", abort=True, err=True)
        done = approve(repo, seen, decision, comment, signing)
        echo(done.digest)
        verb = "approved" if done.decision == "approve" else "rejected"
        echo(
            f"{verb} {done.commit[:12]} (change attestation {done.approves[:19]}…)"
            f" signed by {shown(done.signer)}",
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
@report_options("text", "json")
def pending_cmd(
    revision_range: str,
    repo: Path,
    policy: Path | None,
    trusted_root: Path | None,
    trust_config: Path | None,
    offline: bool,
    report: Reporter,
) -> None:
    """List identity-related commits of BASE..HEAD that still lack what the policy requires.

    For each: the reasons (approval_missing, approval_threshold_not_met, self_approval,
    approval_rejected, attestation_missing, ...), who approved so far, and the rules that made
    it identity-related. Exit 0 when nothing is pending, 1 otherwise.
    """
    from provenance.app.pending import pending

    options = verify_options(policy, trusted_root, trust_config, offline)
    decided, waiting = pending(repo, revision_range, options, progress_printer())
    if report.fmt == "json":
        document = {
            "range": decided.extra.get("range"),
            "trusted_root": decided.extra.get("trusted_root"),
            "commits": [
                {
                    "commit": c.commit,
                    "reasons": list(c.reasons),
                    "approvers": list(c.approvers),
                    "rules": list(c.rules),
                }
                for c in waiting
            ],
        }
        report.write(json.dumps(document, indent=2))
    else:
        lines = [
            f"{c.commit[:12]}  {', '.join(c.reasons)}  approvers: "
            f"{shown(', '.join(c.approvers) or '-')}  rules: {shown(', '.join(c.rules))}"
            for c in waiting
        ]
        report.write("\n".join([*lines, f"{len(waiting)} commit(s) pending"]))
    finish_verdict(not waiting)
