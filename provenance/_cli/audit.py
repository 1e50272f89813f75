"""The auditor's commands: index, query, log, blame, export, sync."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from provenance._cli.options import repo_option, trust_options, verify_options
from provenance._cli.output import Reporter, echo, progress_printer, refuse_whole, report_options
from provenance.display import shown
from provenance.errors import UsageError

if TYPE_CHECKING:
    from provenance.app.options import VerifyOptions
    from provenance.audit import IndexUrl
    from provenance.verify.report import Report

_db_option = click.option(
    "--db",
    metavar="PATH|URL",
    envvar="PROVENANCE_INDEX_URL",
    default=None,
    help="The index: a file path or sqlite:///PATH (default: .git/provenance/index.sqlite), "
    "or postgresql://[USER@]HOST[:PORT]/DB for one index shared by many repositories "
    "(password from PGPASSWORD, PGPASSFILE or a service file). [env: PROVENANCE_INDEX_URL]",
)
_repository_id_option = click.option(
    "--repository-id",
    "repository_id",
    metavar="ID",
    default=None,
    help="This repository's id in the index (default: the canonical URL of remote origin, "
    "e.g. github.com/org/app; in CI pass the CI system's own repository name).",
)


def _where(db: str | None) -> IndexUrl | None:
    from provenance.audit import parse_index_url

    return parse_index_url(db) if db else None


def _stale(stale: bool) -> None:
    if stale:
        echo(
            "warning: attestations were added since the index was built; "
            "run `provenance index` for current answers",
            err=True,
        )


@click.command("index")
@repo_option
@trust_options
@_db_option
@_repository_id_option
@click.option("--rebuild", is_flag=True, help="Forget this repository's rows and ingest again.")
@click.option(
    "--upgrade",
    is_flag=True,
    help="Only migrate the index's schema to this version (PostgreSQL: run once, as the "
    "tables' owner) and stop.",
)
@click.option(
    "--print-roles-sql",
    is_flag=True,
    help="Only print the SQL for PostgreSQL indexer and auditor roles (stdout) and stop.",
)
def index_cmd(
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    db: str | None,
    repository_id: str | None,
    rebuild: bool,
    upgrade: bool,
    print_roles_sql: bool,
) -> None:
    """Index the attestations that verify, for `query`, `log` and `blame`.

    Every stored line is verified against the policy committed at HEAD (or --policy) and the
    trust root; only those that pass are indexed, with their verification time and the
    trusted root's digest. Re-runs only read new lines; a different policy or root rebuilds
    this repository's rows. One run is one transaction: readers see the previous run or this
    one, never half of it.

    Many repositories can share one index (--db postgresql://...): each row carries the
    repository's id, and each repository is decided with its own policy and root.

    \b
    Examples:
      provenance index --offline --trusted-root trusted_root.json
      PGPASSFILE=~/.pgpass provenance index --db postgresql://ci@db.internal/provenance \\
          --repository-id github.com/org/app
      provenance index --db postgresql://owner@db.internal/provenance --upgrade
    """
    if print_roles_sql:
        from provenance.audit.roles import roles_sql

        echo(roles_sql().rstrip("\n"))
        return
    if upgrade:
        _upgrade(repo, db)
        return
    from provenance.app.audit import build_index

    options = verify_options(policy, trusted_root, trust_config, offline)
    progress = progress_printer()
    stats = build_index(
        repo, options, db=_where(db), repository=repository_id, rebuild=rebuild, progress=progress
    )
    if not stats.notes_available:
        echo(
            f"warning: {stats.notes_ref} holds no attestations here; fetch it first: "
            f"git fetch origin '{stats.notes_ref}:{stats.notes_ref}'",
            err=True,
        )
    echo(
        f"{'rebuilt' if stats.rebuilt else 'updated'} {stats.repository} in {stats.db}: "
        f"{stats.new_lines} new line(s), {stats.indexed} indexed, {stats.refused} refused; "
        f"total {stats.totals['attestations']} attestation(s) on {stats.totals['commits']} "
        f"commit(s) (policy {stats.policy_source}, trusted root "
        f"{stats.trust_root_digest or 'production'})",
        err=True,
    )


def _upgrade(repo: Path, db: str | None) -> None:
    from provenance.app.audit import default_db, upgrade_index
    from provenance.gitio import Git

    where = _where(db) or default_db(Git.discover(repo))
    before, after = upgrade_index(where)
    if before == after:
        echo(f"{where.shown()}: schema {after}, nothing to do", err=True)
    else:
        echo(f"{where.shown()}: schema {before or '(none)'} -> {after}", err=True)


@click.command("query")
@repo_option
@_db_option
@click.option(
    "--repository",
    metavar="ID|URL",
    help="Only this repository (any spelling of its remote URL; default: every repository).",
)
@click.option("--agent", metavar="TOOL[@VERSION]", help="Agent tool (and version).")
@click.option("--model", metavar="ID", help="Model id.")
@click.option("--skill", metavar="NAME[@VERSION]|sha256:HEX", help="Skill name or digest.")
@click.option("--prompter", metavar="IDENTITY", help="Human who prompted the agent.")
@click.option("--approver", metavar="PERSON|IDENTITY", help="Approver whose approval counted.")
@click.option("--path", "glob", metavar="GLOB", help="Changed path (gitignore-style glob).")
@click.option("--rule", metavar="ID", help="Classifier rule that fired (with --path: on it).")
@click.option("--since", metavar="DATE", help="Signed at or after (YYYY-MM-DD or ISO 8601).")
@click.option("--until", metavar="DATE", help="Signed before (a bare date includes that day).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N results.")
@click.option(
    "--revoked",
    is_flag=True,
    help="Instead: the indexed lines (changes and approvals) the revocations withdraw.",
)
@click.option(
    "--revocations",
    "revocations_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="With --revoked: this revocations.toml (default: the clone's, HEAD then work tree).",
)
@report_options("table", "json", "csv")
def query_cmd(
    repo: Path,
    db: str | None,
    repository: str | None,
    agent: str | None,
    model: str | None,
    skill: str | None,
    prompter: str | None,
    approver: str | None,
    glob: str | None,
    rule: str | None,
    since: str | None,
    until: str | None,
    limit: int | None,
    revoked: bool,
    revocations_file: Path | None,
    report: Reporter,
) -> None:
    """Find verified change attestations; every given filter must hold.

    \b
    --revoked answers another question: which indexed lines (change attestations and
    approvals, every repository or --repository) the revocations withdraw, each with its
    verified signed time and the entries that match it. A windowed entry matches a line
    without a verified time as a *possible* hit; so does, for any entry, a line the index
    refused as revoked when it was indexed (it kept none of its facts). Use `provenance
    impact --db` for what each commit keeps.

    \b
    Without --repository the answer spans every repository in the index; each hit names
    its repository and the policy that decided it.

    \b
    Examples:
      provenance query --approver alice --rule scim.provisioning
      provenance query --skill sha256:3f2a... --format json
      provenance query --model claude-opus-4 --path 'app/auth/**' \\
          --since 2025-07-01 --until 2025-09-30 --format csv
      provenance query --revoked --revocations revocations.toml --format json
    """
    if revoked:
        filters = (agent, model, skill, prompter, approver, glob, rule, since, until, limit)
        if any(f is not None for f in filters):
            raise UsageError(
                "--revoked takes no other filter than --repository",
                hint="filter the JSON (--format json), or ask `provenance impact --db`",
            )
        _query_revoked(repo, db, repository, revocations_file, report)
        return
    if revocations_file is not None:
        raise UsageError("--revocations goes with --revoked", hint="add --revoked")
    from provenance.app.audit import query
    from provenance.audit import Query, canonical_repository, parse_when
    from provenance.audit.render import render_hits

    q = Query(
        agent=agent,
        model=model,
        skill=skill,
        prompter=prompter,
        approver=approver,
        path=glob,
        rule=rule,
        since=parse_when(since) if since else None,
        until=parse_when(until, end=True) if until else None,
        repository=canonical_repository(repository) if repository else None,
        limit=limit,
    )
    answer = query(repo, q, db=_where(db))
    _stale(answer.stale)
    report.write(render_hits(answer.items, report.fmt))
    echo(f"{len(answer.items)} attestation(s) from {answer.db}", err=True)


def _query_revoked(
    repo: Path, db: str | None, repository: str | None, file: Path | None, report: Reporter
) -> None:
    from provenance.app.impact_index import query_revoked, render_revoked
    from provenance.audit import canonical_repository

    fmt = report.fmt
    if fmt == "csv":
        raise UsageError("--revoked answers as a table or JSON", hint="--format table|json")
    rows, where = query_revoked(
        repo,
        db=_where(db),
        revocations=file,
        repository=canonical_repository(repository) if repository else None,
    )
    report.write(render_revoked(rows, fmt))
    echo(f"{len(rows)} revoked line(s) from {where}", err=True)


@click.command("log")
@click.argument("revision_range", required=False, metavar="[REVISION_RANGE]")
@repo_option
@_db_option
@_repository_id_option
@click.option("-n", "--max-count", type=click.IntRange(min=1), default=None, help="At most N.")
@report_options("table", "json", "csv")
def log_cmd(
    revision_range: str | None,
    repo: Path,
    db: str | None,
    repository_id: str | None,
    max_count: int | None,
    report: Reporter,
) -> None:
    """`git log` with provenance columns: agent, model, approvers, status.

    Status is `ok` (a verified change attestation, approved as the policy asks), the reason
    codes that are still missing (e.g. approval_missing), or `unattested`.

    \b
    Example:
      provenance log origin/release..HEAD
    """
    from provenance.app.audit import log
    from provenance.audit.render import render_log

    answer = log(repo, revision_range, db=_where(db), repository=repository_id, max_count=max_count)
    _stale(answer.stale)
    report.write(render_log(answer.items, report.fmt))


@click.command("blame")
@click.argument("file")
@repo_option
@_db_option
@_repository_id_option
@click.option("--rev", default="HEAD", show_default=True, help="Blame the file at this commit.")
@report_options("table", "json", "csv")
def blame_cmd(
    file: str, repo: Path, db: str | None, repository_id: str | None, rev: str, report: Reporter
) -> None:
    """Per line of FILE: the last commit, its agent, model and approvers, or `human-only`.

    \b
    Example:
      provenance blame app/auth/sso.py
    """
    from provenance.app.audit import blame
    from provenance.audit.render import render_blame

    answer = blame(repo, file, rev=rev, db=_where(db), repository=repository_id)
    _stale(answer.stale)
    report.write(render_blame(answer.items, report.fmt))


@click.command("export")
@click.argument("revision_range", metavar="BASE..HEAD")
@repo_option
@trust_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="New directory for the pack (must not exist or be empty).",
)
def export_cmd(
    revision_range: str,
    repo: Path,
    policy: Path | None,
    trust_config: Path | None,
    trusted_root: Path | None,
    offline: bool,
    out: Path,
) -> None:
    """Write an evidence pack: the range's attestations, the policy at BASE, the trusted root.

    The manifest lists the sha256 of every file. Verify it later, offline, with
    `provenance verify --evidence DIR --offline BASE..HEAD`.

    \b
    Example:
      provenance export origin/release..HEAD --out evidence/ --trusted-root trusted_root.json
    """
    from provenance.app.evidence import export_pack
    from provenance.app.options import VerifyOptions, forbid_network

    if offline:
        forbid_network()
    options = VerifyOptions(policy=policy, trusted_root=trusted_root, trust_config=trust_config)
    done = export_pack(repo, revision_range, out, options)
    echo(json.dumps(done.manifest, indent=2))
    echo(
        f"wrote {done.out}: {done.lines} attestation line(s) on {done.attested_commits} of "
        f"{done.commits} commit(s), policy {done.manifest['policy']['digest']}, trusted root "
        f"{done.manifest['trusted_root']['digest']}",
        err=True,
    )


def evidence_report(
    repo: Path, spec: str, pack: Path, options: VerifyOptions, out: Reporter
) -> Report:
    """``verify --evidence``: the gate from a pack (the text report states the root's age)."""
    from provenance.app.evidence import verify_evidence
    from provenance.store import PackError

    try:
        report = verify_evidence(repo, spec, pack, options, progress_printer())
    except PackError as e:
        refuse_whole(e, out)
    return report


@click.command("sync")
@click.argument("remote", default="origin")
@repo_option
@click.option(
    "--attempts", type=click.IntRange(1, 100), default=12, show_default=True,
    help="Rounds of fetch, merge, push before giving up when the remote keeps moving.",
)  # fmt: skip
def sync_cmd(remote: str, repo: Path, attempts: int) -> None:
    """Exchange attestations with REMOTE: fetch, union merge, push (never forced).

    Lines from both sides are kept (git notes merge -s cat_sort_uniq); the push is a
    fast-forward, retried after a fresh fetch and merge when the remote moved meanwhile.
    REMOTE is a configured remote (its URL read from a config file only you can write) or a
    URL or path. Nothing from the repository's own config is used to reach it (an agent can
    write .git/config): a repository that sets transport options there is refused; git and
    ssh come from your PATH and environment; hooks of a local remote do not run.

    \b
    Example:
      provenance sync origin
    """
    from provenance.app.sync import sync

    done = sync(repo, remote, attempts=attempts)
    action = "pushed" if done.pushed else "nothing to push"
    merged = "merged remote notes" if done.merged else "no remote changes"
    echo(
        f"{done.ref} <-> {shown(done.remote)}: {merged}; {action} "
        f"({(done.local_after or 'none')[:12]}, {done.attempts} round(s)); "
        f"link sources: {done.sources_fetched} fetched, {done.sources_pushed} pushed",
        err=True,
    )


#: Registered by ``provenance._cli._register``.
AUDIT_COMMANDS = (
    index_cmd,
    query_cmd,
    log_cmd,
    blame_cmd,
    export_cmd,
    sync_cmd,
)
