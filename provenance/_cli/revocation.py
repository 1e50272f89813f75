"""``provenance revoke`` and ``provenance impact``: withdraw evidence by cause, see what it hits."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from provenance._cli.options import repo_option, trust_options, verify_options
from provenance._cli.output import Reporter, echo, report_options
from provenance.display import shown
from provenance.errors import UsageError

_CAUSE_HELP = {
    "skill": "A skill package: sha256:HEX, or NAME@sha256:HEX (NAME a glob).",
    "model": "A model id glob (claude-opus-4*).",
    "agent": "An agent version range: TOOL@RANGE (claude-code@<2.1.3, PEP 440).",
    "signer": "A verified signer identity (certificate SAN, exact); --issuer narrows it.",
    "prompter": "A prompter, asserted or signed (address or name, case-insensitive).",
    "key": "A key id of key-signed envelopes (as reports show key:ID).",
    "approver": "An approver identity or person: their approvals stop counting.",
}


def _time(value: str | None, flag: str) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as e:
        raise UsageError(f"{flag} {value!r} is not an ISO 8601 time") from e
    if when.tzinfo is None:
        raise UsageError(f"{flag} {value!r} needs an offset", hint="write 2026-11-03T00:00:00Z")
    return when


def _cause_options(f: click.decorators.FC) -> click.decorators.FC:
    for cause in reversed(_CAUSE_HELP):
        f = click.option(f"--{cause}", default=None, help=_CAUSE_HELP[cause])(f)
    return f


@click.command("revoke")
@_cause_options
@click.option("--issuer", default=None, help="With --signer: only certificates of this issuer.")
@click.option("--from", "start", default=None, help="Window start on the verified signed time.")
@click.option("--until", "end", default=None, help="Window end (exclusive), signed time.")
@click.option("--reason", required=True, help="Why: shown in every refusal it causes.")
@click.option("--reference", default=None, help="An incident, advisory or ticket.")
@click.option("--id", "rid", default=None, help="Entry id (default: derived from the cause).")
@repo_option
def revoke_cmd(
    repo: Path,
    issuer: str | None,
    start: str | None,
    end: str | None,
    reason: str,
    reference: str | None,
    rid: str | None,
    **causes: str | None,
) -> None:
    """Add a revocation to .provenance/revocations.toml in the work tree, to review and commit.

    Name exactly one cause. Every change attestation (or approval, for --approver) that
    verifies and matches it is refused with `revoked` and this entry's reason; with
    --from/--until only lines whose *verified* signed time (transparency log or timestamp
    authority, never the host clock) is inside [from, until). A key-signed line has no
    proven time: a windowed entry matches it. The gate reads the file from BASE, like the
    policy; commit it, then `provenance impact --revocation ID BASE..HEAD` shows what it hits.

    \b
    Examples:
      provenance revoke --skill auth-helper@sha256:<hex> --from 2026-11-03T00:00:00Z \\
          --until 2026-11-17T00:00:00Z --reason "poisoned upstream" --reference INC-7
      provenance revoke --agent 'claude-code@<2.1.3' --reason "CVE-2026-0001"
      provenance revoke --approver bob@example.com --reason "account compromised"
    """
    from provenance.app.revoke import build_entry, revoke

    named = {c: v for c, v in causes.items() if v is not None}
    if len(named) != 1:
        raise UsageError("name exactly one cause", hint="--" + " | --".join(_CAUSE_HELP))
    ((cause, value),) = named.items()
    entry = build_entry(
        cause,
        value,
        reason,
        start=_time(start, "--from"),
        end=_time(end, "--until"),
        reference=reference,
        issuer=issuer,
        rid=rid,
    )
    done = revoke(repo, entry)
    echo(entry.id)
    echo(f"added {shown(entry.id)} to {shown(str(done.path))}; review it, then commit it", err=True)


@click.command("impact")
@click.argument("spec", metavar="[BASE..HEAD]", required=False)
@click.option("--revocation", "rid", required=True, help="The entry id (`revoke` prints it).")
@click.option(
    "--db",
    metavar="PATH|URL",
    default=None,
    help="Ask the index instead of a range: every repository and commit it holds "
    "(a file path, sqlite:///PATH or postgresql://...; see `provenance index --help`).",
)
@click.option(
    "--revocations",
    "revocations_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --db: read the entry from this revocations.toml (default: the clone's).",
)
@click.option(
    "--repository",
    metavar="ID|URL",
    default=None,
    help="With --db: only this repository (default: every repository in the index).",
)
@repo_option
@trust_options
@report_options("text", "json")
def impact_cmd(
    spec: str | None,
    rid: str,
    db: str | None,
    revocations_file: Path | None,
    repository: str | None,
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    report: Reporter,
) -> None:
    """Show every commit whose evidence one revocation withdraws: over BASE..HEAD, or
    with --db over every repository in the index.

    \b
    BASE..HEAD: the entry is read from the revocations committed at HEAD, else from the
    work tree's (uncommitted) .provenance/revocations.toml. The range is gated with BASE's
    policy and revocations plus this entry; each commit it touched is listed with its
    decision before (this entry undone) and now, the lines withdrawn and the lines still
    valid.

    \b
    --db URL: the entry comes from --revocations FILE, else from this clone's file (HEAD,
    then work tree). Every indexed row is matched against it, the window judged on the
    row's verified signed time (never the claimed time nor the host clock). A row with no
    verified time (key-signed) and an entry with a window is listed as a *possible* hit.
    Before is the standing the index holds; now is refused (revoked) when no change
    attestation is left, ok while the counted approvers left meet the repository's
    [approvals] required, refused (approval_threshold_not_met, revoked) when they do not,
    undecided when the index has no count for it (re-run `provenance index` there).

    The report's exit status is 0 whatever it finds (it decides nothing; `verify` does).

    \b
    Examples:
      provenance impact --revocation skill-1a2b3c4d5e v1.4.0..HEAD
      provenance impact --revocation INC-7 --format json --offline \\
          --trusted-root trusted_root.json origin/release..HEAD
      provenance impact --revocation INC-7 --db postgresql://audit@db/provenance \\
          --revocations revocations.toml --format json
    """
    if (spec is None) == (db is None):
        raise UsageError(
            "name either a range BASE..HEAD or an index --db URL",
            hint="provenance impact --revocation ID BASE..HEAD, or --db URL",
        )
    if db is None and (revocations_file is not None or repository is not None):
        raise UsageError("--revocations and --repository go with --db", hint="add --db URL")
    if db is not None:
        _impact_index(repo, rid, db, revocations_file, repository, report)
        return
    from provenance.app.impact import impact, impact_to_dict, render_impact_text

    assert spec is not None
    options = verify_options(policy, trusted_root, trust_config, offline)
    result = impact(repo, spec, rid, options)
    if report.fmt == "json":
        report.write(json.dumps(impact_to_dict(result), indent=2))
    else:
        report.write(render_impact_text(result))


def _impact_index(
    repo: Path, rid: str, db: str, file: Path | None, repository: str | None, report: Reporter
) -> None:
    from provenance.app.impact_index import (
        impact_index,
        index_impact_to_dict,
        render_index_impact_text,
    )
    from provenance.audit import canonical_repository, parse_index_url

    result = impact_index(
        repo,
        rid,
        db=parse_index_url(db),
        revocations=file,
        repository=canonical_repository(repository) if repository else None,
    )
    if report.fmt == "json":
        report.write(json.dumps(index_impact_to_dict(result), indent=2))
    else:
        report.write(render_index_impact_text(result))


__all__ = ["impact_cmd", "revoke_cmd"]
