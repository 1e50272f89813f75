"""``classify``: which commits of a range the release gate will demand evidence for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenance._cli.output import echo, progress_printer
from provenance.classify.explain import finding_to_dict, summary, where
from provenance.display import shown, shown_path

if TYPE_CHECKING:
    from provenance.app.gate import Classified

from provenance._cli.options import format_option, repo_option


def classified_to_dict(result: Classified) -> dict[str, object]:
    """The documented classify JSON."""
    return {
        "range": result.range_info,
        "rules_source": result.policy_source,
        "ruleset_digest": result.ruleset_digest,
        "commits": [
            {
                "commit": c.commit,
                "identity_related": c.identity_related,
                "paths": [
                    {"path": p.path, **({"old_path": p.old_path} if p.old_path else {}),
                     "rules": list(p.rules),
                     "findings": [finding_to_dict(f) for f in p.findings]}
                    for p in c.paths
                    if p.rules
                ],
            }
            for c in result.commits
        ],
    }  # fmt: skip


@click.command("classify")
@click.argument("revision_range", metavar="BASE..HEAD")
@repo_option
@click.option(
    "--policy",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Policy file outside the repository (default: the one committed at BASE).",
)
@format_option("text", "json")
def classify_cmd(revision_range: str, repo: Path, policy: Path | None, fmt: str) -> None:
    """Show which commits of BASE..HEAD are identity-related, which rules fired, and where.

    This is what the release gate will demand attestations for. Rules come from the policy
    committed at BASE (or --policy); with none, the built-in ruleset builtin:identity (its
    newest version, @2) is used. Each identity-related commit names the hunks (path and
    lines; "(removed)" for lines of the parent) and the rules that made it so. Reads git
    objects only, so it works in a clone without a work tree.

    \b
    Example:
      provenance classify --format json origin/main..HEAD
    """
    from provenance.app.gate import classify_range

    result = classify_range(repo, revision_range, policy, progress_printer())
    if fmt == "json":
        echo(json.dumps(classified_to_dict(result), indent=2))
        return
    related = [c for c in result.commits if c.identity_related]
    for c in result.commits:
        flagged = [p for p in c.paths if p.rules]
        why = f"  {summary(c.findings, shown_path)}" if c.findings else ""
        echo(f"{'ID ' if flagged else '-- '} {c.commit[:12]}{why}", err=True)
        for p in flagged:
            echo(f"      {shown_path(p.path)}  [{shown(', '.join(p.rules))}]", err=True)
            for f in p.findings:
                echo(f"        {where(f, shown_path)}  {shown(f.rule)}", err=True)
    echo(f"{len(related)} of {len(result.commits)} commit(s) identity-related "
               f"(rules: {result.policy_source})", err=True)  # fmt: skip


__all__ = ["classified_to_dict", "classify_cmd"]
