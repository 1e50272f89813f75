"""Queries over the index: verified change attestations by repository, agent, model, skill,
person, path, rule and time, and per-commit provenance columns for ``log`` and ``blame``.

One query text for both backends (SQLAlchemy Core). Path globs are gitignore-style patterns
matched by ``pathspec`` against the distinct paths of the index (thousands of strings, not
one per attestation); the matching ids then join in SQL (an array on PostgreSQL, a
temporary table on SQLite). Identities, agents, models and skill names compare on their
case-folded ``_key`` columns, the same way on both backends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pathspec

from provenance.audit.models import CommitSummary, Hit
from provenance.audit.schema import (
    att_paths,
    att_rules,
    attestations,
    commits,
    path_names,
    repositories,
    skills,
)
from provenance.audit.writes import LIST_SEP, fold
from provenance.errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement, Select
    from sqlalchemy.engine import Connection

    from provenance.audit.index import Index

_SEP = LIST_SEP
_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")


@dataclass(frozen=True)
class Query:
    """Filters; every given one must hold (AND). ``path`` and ``rule`` hold on the same path.

    ``repository`` is a canonical repository id (``None``: every repository in the index).
    """

    agent: str | None = None
    model: str | None = None
    skill: str | None = None
    prompter: str | None = None
    approver: str | None = None
    path: str | None = None
    rule: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    commits: tuple[str, ...] | None = None
    repository: str | None = None
    limit: int | None = None


def parse_when(value: str, *, end: bool = False) -> datetime:
    """ISO date or date-time (UTC when no zone); a bare date as ``end`` means the next midnight."""
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as e:
        raise UsageError(f"{value!r} is not a date (YYYY-MM-DD or ISO 8601)") from e
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    if end and len(value) == 10:
        when += timedelta(days=1)
    return when


def _match_paths(conn: Connection, glob: str) -> list[int]:
    """Ids of indexed paths the gitignore-style ``glob`` matches (``pathspec``)."""
    from sqlalchemy import select

    try:
        spec = pathspec.PathSpec.from_lines("gitignore", [glob])
    except (ValueError, TypeError) as e:
        raise UsageError(f"--path {glob!r} is not a valid glob: {e}") from e
    rows = conn.execute(select(path_names.c.id, path_names.c.path))
    return [int(pid) for pid, path in rows if spec.match_file(path)]


def _among(conn: Connection, ids: Sequence[int]) -> Callable[[Any], ColumnElement[bool]]:
    """A test "this path column is one of ``ids``": a bound array on PostgreSQL (nothing is
    written, so a read-only role can ask), a temporary table on SQLite."""
    from sqlalchemy import BigInteger, any_, bindparam, column, select, table, text

    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        array = bindparam("path_ids", list(ids), type_=ARRAY(BigInteger))
        return lambda col: col == any_(array)
    conn.execute(text("CREATE TEMP TABLE IF NOT EXISTS q_paths (id INTEGER PRIMARY KEY)"))
    conn.execute(text("DELETE FROM q_paths"))
    if ids:
        conn.execute(
            text("INSERT OR IGNORE INTO q_paths (id) VALUES (:id)"), [{"id": i} for i in ids]
        )
    ids_table: Select[Any] = select(column("id")).select_from(table("q_paths"))
    return lambda col: col.in_(ids_table)


def _path_filter(conn: Connection, q: Query) -> ColumnElement[bool] | None:
    from sqlalchemy import and_, or_, select

    a = attestations.c
    if q.path is not None:
        among = _among(conn, _match_paths(conn, q.path))
        on_path = or_(among(att_paths.c.path_id), among(att_paths.c.old_path_id))
        if q.rule:
            ruled = (
                select(att_paths.c.att_id)
                .join(att_rules, and_(att_rules.c.att_id == att_paths.c.att_id,
                                      att_rules.c.path_id == att_paths.c.path_id))
                .where(att_rules.c.rule == q.rule, on_path)
            )  # fmt: skip
            return a.id.in_(ruled)
        return a.id.in_(select(att_paths.c.att_id).where(on_path))
    if q.rule:
        return a.id.in_(select(att_rules.c.att_id).where(att_rules.c.rule == q.rule))
    return None


def _skill_filter(value: str) -> ColumnElement[bool]:
    from sqlalchemy import select

    m = _DIGEST.match(value)
    name, _, version = value.partition("@")
    if m:
        where = [skills.c.digest == f"sha256:{m.group(1)}"]
    elif version:
        where = [skills.c.name_key == fold(name), skills.c.version == version]
    else:
        where = [skills.c.name_key == fold(name)]
    return attestations.c.id.in_(select(skills.c.att_id).where(*where))


def _filters(conn: Connection, q: Query, repo_id: int | None) -> list[ColumnElement[bool]]:
    from sqlalchemy import or_, select, tuple_

    a = attestations.c
    where: list[ColumnElement[bool]] = [a.kind == "change"]
    if repo_id is not None:
        where.append(a.repo_id == repo_id)
    if q.agent:
        tool, _, version = q.agent.partition("@")
        where.append(a.agent_key == fold(tool))
        if version:
            where.append(a.agent_version == version)
    if q.model:
        where.append(a.model_key == fold(q.model))
    if q.prompter:
        where.append(a.prompter_key == fold(q.prompter))
    if q.skill:
        where.append(_skill_filter(q.skill))
    if q.approver:
        p = attestations.alias("p").c
        person = fold(q.approver)
        counted = select(p.repo_id, p.commit_sha).where(
            p.kind == "approval",
            p.counted.is_(True),
            or_(p.approver_key == person, p.signer_key == person),
        )
        where.append(tuple_(a.repo_id, a.commit_sha).in_(counted))
    on_path = _path_filter(conn, q)
    if on_path is not None:
        where.append(on_path)
    if q.since is not None:
        where.append(a.time_ts >= q.since.timestamp())
    if q.until is not None:
        where.append(a.time_ts < q.until.timestamp())
    if q.commits is not None:
        where.append(a.commit_sha.in_(q.commits))
    return where


def _select() -> Select[Any]:
    from sqlalchemy import select

    a = attestations.c
    return select(
        a.commit_sha, a.signed_time, a.agent, a.agent_version, a.model, a.prompter,
        a.session_id, a.signer, a.issuer, a.payload_digest, a.trust_root_digest, a.verified_at,
        a.status, a.reasons, a.approvers, a.skills_text, a.paths_text, a.rules_text,
        a.time_ts, a.id, a.repo_id, a.policy_digest,
    )  # fmt: skip


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(_SEP)) if value else ()


def _hit(r: Sequence[Any], names: dict[int, str]) -> Hit:
    return Hit(
        commit=r[0],
        signed_time=datetime.fromisoformat(r[1]) if r[1] else None,
        agent=r[2],
        agent_version=r[3],
        model=r[4],
        prompter=r[5],
        session_id=r[6],
        signer=r[7],
        issuer=r[8],
        attestation=f"sha256:{r[9]}",
        trust_root_digest=r[10],
        verified_at=datetime.fromisoformat(r[11]),
        status=r[12],
        reasons=tuple(r[13].split(_SEP)) if r[13] else (),
        approvers=tuple(r[14].split(_SEP)) if r[14] else (),
        skills=tuple(r[15].split(_SEP)) if r[15] else (),
        paths=tuple(r[16].split(_SEP)) if r[16] else (),
        rules=tuple(r[17].split(_SEP)) if r[17] else (),
        repository=names[r[20]],
        policy_digest=r[21],
    )


def _order(r: Sequence[Any]) -> tuple[bool, float, int]:
    return (r[18] is not None, r[18] or 0.0, r[19])


def _names(conn: Connection) -> dict[int, str]:
    from sqlalchemy import select

    rows = conn.execute(select(repositories.c.id, repositories.c.name))
    return {int(i): str(n) for i, n in rows}


def run_query(index: Index, q: Query) -> list[Hit]:
    """Verified change attestations matching ``q``, oldest signed first.

    Each answer is one row read: the displayed lists and the commit's standing are kept on
    the row itself (the normalised tables serve only the filters). Without a limit the rows
    are sorted here, which is cheaper than the database sorting whole rows.
    """
    with index.reading() as conn:
        names = _names(conn)
        repo_id = None
        if q.repository is not None:
            found = [i for i, n in names.items() if n == q.repository]
            if not found:
                return []
            repo_id = found[0]
        stmt = _select().where(*_filters(conn, q, repo_id))
        if q.limit is None:
            rows = list(conn.execute(stmt).all())
            rows.sort(key=_order)
            return [_hit(r, names) for r in rows]
        a = attestations.c
        stmt = stmt.order_by(a.time_ts.asc().nulls_first(), a.id).limit(q.limit)
        return [_hit(r, names) for r in conn.execute(stmt).all()]


def commit_summaries(
    index: Index, repository: str, commit_ids: Sequence[str]
) -> dict[str, CommitSummary]:
    """Agent, model, prompter, counted approvers and status of each indexed commit of one
    repository (a fork's index may hold the same commit ids under another repository)."""
    from sqlalchemy import select

    out: dict[str, CommitSummary] = {}
    wanted = list(dict.fromkeys(commit_ids))
    a, c = attestations.c, commits.c
    with index.reading() as conn:
        repo_id = index.repository_id(conn, repository)
        if repo_id is None:
            return out
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            decided = conn.execute(
                select(c.commit_sha, c.status, c.reasons, c.approvers).where(
                    c.repo_id == repo_id, c.commit_sha.in_(chunk)
                )
            ).all()
            made: dict[str, list[tuple[str | None, str | None, str | None]]] = {}
            for sha, agent, version, model, prompter in conn.execute(
                select(a.commit_sha, a.agent, a.agent_version, a.model, a.prompter)
                .where(a.repo_id == repo_id, a.commit_sha.in_(chunk), a.kind == "change")
                .order_by(a.id)
            ):
                label = None if agent is None else agent + (f"@{version}" if version else "")
                made.setdefault(sha, []).append((label, model, prompter))
            for sha, status, reasons, approvers in decided:
                rows = made.get(sha, [])
                out[sha] = CommitSummary(
                    commit=sha,
                    status=status,
                    reasons=_split(reasons),
                    approvers=_split(approvers),
                    agents=tuple(r[0] for r in rows if r[0] is not None),
                    models=tuple(r[1] for r in rows if r[1] is not None),
                    prompters=tuple(r[2] for r in rows if r[2] is not None),
                )
    return out
