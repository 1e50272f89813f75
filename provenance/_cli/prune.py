"""prune: remove stored lines that can never count (parse, call one library function, render)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from provenance._cli.options import repo_option, trust_options, verify_options
from provenance._cli.output import Reporter, report_options
from provenance.display import shown


@click.command("prune")
@click.argument("revisions", metavar="BASE..HEAD | COMMIT")
@repo_option
@trust_options
@click.option("--dry-run", is_flag=True, help="Only report what would be removed.")
@report_options("text", "json")
def prune_cmd(
    revisions: str,
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    dry_run: bool,
    report: Reporter,
) -> None:
    """Remove stored lines that are refused for a reason that can never change.

    Junk in the notes never blocks a valid attestation (the gate screens it out), so this is
    housekeeping. A line is removed only when no trust root, policy or later approval could
    make it count for its commit: not strict JSON, too large, not a canonical bundle or DSSE
    envelope, a statement about another commit, or a signature or log entry that does not
    match the line's own certificate or key. Lines that verify, and lines refused for their
    signer, chain, log or time, are kept. The notes ref moves by compare-and-swap.

    Sync is a union: a clone that still holds removed lines brings them back on its next
    sync. Prune in every clone that stamps (it is deterministic), then sync or push.

    \b
    Examples:
      provenance prune --dry-run refs/remotes/origin/main..HEAD
      provenance prune --offline --trusted-root trusted_root.json HEAD
    """
    from provenance.app.prune import prune

    options = verify_options(policy, trusted_root, trust_config, offline)
    result = prune(repo, revisions, options, dry_run=dry_run)
    if report.fmt == "json":
        document = {
            "notes_ref": result.notes_ref,
            "dry_run": dry_run,
            "written": result.written,
            "removed": result.removed,
            "commits": [
                {"commit": c.commit, "kept": c.kept, "removed": c.removed} for c in result.commits
            ],
        }
        report.write(json.dumps(document, indent=2))
        return
    lines = []
    for c in result.commits:
        if c.removed:
            why = ", ".join(f"{n} {reason}" for reason, n in c.removed.items())
            lines.append(f"{c.commit[:12]}  kept {c.kept}, removed {why}")
    verb = "would remove" if dry_run else "removed"
    lines.append(f"{verb} {result.removed} line(s) from {shown(result.notes_ref)}")
    report.write("\n".join(lines))
