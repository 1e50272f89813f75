"""link: record rewrite links (by hand, or found with --auto)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from provenance._cli.options import (
    key_and_token_options,
    read_token,
    repo_option,
)
from provenance._cli.output import Reporter, echo, report_options
from provenance.display import shown
from provenance.errors import UsageError

_existing_file = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command("link")
@click.argument("new", required=False)
@click.option(
    "--from",
    "sources",
    multiple=True,
    metavar="SOURCE|A..B",
    help="A commit NEW rewrites (amend, rebase, cherry-pick), or A..B for a squash of those "
    "commits. Repeat for several.",
)
@click.option(
    "--auto",
    "auto",
    metavar="BASE..HEAD",
    default=None,
    help="Find sources for every commit of BASE..HEAD without evidence of its own, among "
    "commits reachable from --candidates, and link those found.",
)
@click.option(
    "--candidates",
    multiple=True,
    metavar="REF_PATTERN",
    help="Ref patterns to search with --auto (default: refs/heads, refs/remotes, "
    "refs/pull/*/head, refs/merge-requests/*/head, refs/provenance/sources).",
)
@click.option(
    "--rewritten",
    type=click.Choice(["amend", "rebase", "cherry-pick"]),
    default=None,
    hidden=True,
    help="Read git's post-rewrite input (OLD NEW lines) from stdin (the hook's form).",
)
@click.option(
    "--policy",
    type=_existing_file,
    default=None,
    help="Policy file whose identity rules judge the link (default: the one committed at HEAD).",
)
@key_and_token_options
@click.option(
    "--trust-config",
    type=_existing_file,
    default=None,
    envvar="PROVENANCE_TRUST_CONFIG",
    help="Sigstore client trust config for signing the link (default: Sigstore production). "
    "[env: PROVENANCE_TRUST_CONFIG]",
)
@repo_option
@report_options("text", "json")
def link_cmd(
    new: str | None,
    sources: tuple[str, ...],
    auto: str | None,
    candidates: tuple[str, ...],
    rewritten: str | None,
    policy: Path | None,
    identity_token: str | None,
    key: str | None,
    public_key: Path | None,
    trust_config: Path | None,
    repo: Path,
    report: Reporter,
) -> None:
    """Record that NEW rewrites SOURCE (or squashes A..B), so NEW may pass on their evidence.

    The link is a line in the notes ref; the gate never trusts it: it recomputes from git
    objects that replaying the sources onto NEW's parent gives NEW on every identity-related
    path, and requires every identity-related source to pass on its own. `link` refuses
    (exit 1) when that does not hold now: link_source_missing (fetch refs/provenance/*),
    link_not_equivalent (an identity-related difference needs its own attestation).
    Sources are kept reachable under refs/provenance/sources/ (`provenance sync` pushes them).
    With a credential at hand (--identity-token, PROVENANCE_IDENTITY_TOKEN or --key) the link
    is signed, so auditors see who linked; the gate never trusts it either way.

    \b
    Examples:
      provenance link HEAD --from feature~2..feature        # after a squash-merge
      provenance link HEAD --from 1a2b3c4d                  # after an amend or cherry-pick
      provenance link --auto "$BEFORE..$AFTER"              # post-merge CI job (commit ids)
    """
    from provenance.app import link as linking
    from provenance.sign.signing import SigningOptions

    signing = None
    if key or identity_token:
        signing = SigningOptions(
            key=key,
            public_key=public_key,
            identity_token=read_token(identity_token),
            trust_config=trust_config,
        )

    if rewritten is not None:
        stdin = sys.stdin.read()
        done_all = linking.link_rewritten(repo, stdin)
        for x in done_all.linked:
            echo(f"provenance: linked {x.new[:12]} ({shown(x.link.describe())})", err=True)
        for sha, reason in done_all.refused:
            echo(f"provenance: not linked {sha[:12]}: {reason}", err=True)
        return
    if auto is not None:
        if new is not None or sources:
            raise UsageError("--auto finds sources itself", hint="give NEW --from ... or --auto")
        found = linking.auto_link(repo, auto, list(candidates) or None, policy, signing)
        records = [{"new": x.new, "via": x.link.describe(), "refs": list(x.refs)} for x in found]
    else:
        if new is None or not sources:
            raise UsageError("name NEW and at least one --from", hint="or use --auto BASE..HEAD")
        done = linking.link(repo, new, list(sources), policy, signing)
        records = [{"new": done.new, "via": done.link.describe(), "refs": list(done.refs)}]
    if report.fmt == "json":
        report.write(json.dumps({"links": records}, indent=2))
        return
    lines = [f"linked {r['new'][:12]} ({shown(r['via'])})" for r in records]
    report.write("\n".join(lines or ["no links recorded"]))
