"""Queries over the index: verified change attestations by agent, model, skill, person, path,
rule and time, and per-commit provenance columns for ``log`` and ``blame``.

Path globs are gitignore-style patterns matched by ``pathspec`` against the distinct paths of
the index (a few thousand strings, not one per attestation); the matching ids then join in SQL.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pathspec

from provenance.audit.index import LIST_SEP, Index
from provenance.audit.models import CommitSummary, Hit
from provenance.errors import UsageError

_SEP = LIST_SEP
_DIGEST = re.compile(r"^(?:sha256:)?([0-9a-f]{64})$")


@dataclass(frozen=True)
class Query:
    """Filters; every given one must hold (AND). ``path`` and ``rule`` hold on the same path."""

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
    limit: int | None = None


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)

    def add(self, clause: str, *args: object) -> None:
        self.where.append(clause)
        self.args.extend(args)


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


def _match_paths(index: Index, glob: str) -> list[int]:
    """Ids of indexed paths the gitignore-style ``glob`` matches (``pathspec``)."""
    try:
        spec = pathspec.PathSpec.from_lines("gitignore", [glob])
    except (ValueError, TypeError) as e:
        raise UsageError(f"--path {glob!r} is not a valid glob: {e}") from e
    rows = index.conn.execute("SELECT id, path FROM path_names").fetchall()
    return [pid for pid, path in rows if spec.match_file(path)]


def _temp_ids(index: Index, name: str, ids: Sequence[int]) -> None:
    index.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (id INTEGER PRIMARY KEY)")
    index.conn.execute(f"DELETE FROM {name}")  # noqa: S608 - fixed names
    index.conn.executemany(
        f"INSERT OR IGNORE INTO {name} (id) VALUES (?)",  # noqa: S608
        [(i,) for i in ids],
    )


def _filters(index: Index, q: Query) -> _Sql:
    sql = _Sql()
    sql.add("a.kind = 'change'")
    if q.agent:
        tool, _, version = q.agent.partition("@")
        sql.add("a.agent = ?", tool)
        if version:
            sql.add("a.agent_version = ?", version)
    if q.model:
        sql.add("a.model = ?", q.model)
    if q.prompter:
        sql.add("a.prompter = ?", q.prompter)
    if q.skill:
        m = _DIGEST.match(q.skill)
        name, _, version = q.skill.partition("@")
        if m:
            clause, values = "s.digest = ?", [f"sha256:{m.group(1)}"]
        elif version:
            clause, values = "s.name = ? AND s.version = ?", [name, version]
        else:
            clause, values = "s.name = ?", [name]
        sql.add(f"a.id IN (SELECT s.att_id FROM skills s WHERE {clause})", *values)  # noqa: S608
    if q.approver:
        sql.add(
            "a.commit_sha IN (SELECT p.commit_sha FROM attestations p WHERE p.kind = 'approval'"
            " AND p.counted = 1 AND (p.approver = ? OR p.signer = ?))",
            q.approver,
            q.approver,
        )
    if q.path is not None:
        _temp_ids(index, "q_paths", _match_paths(index, q.path))
        if q.rule:
            sql.add(
                "a.id IN (SELECT ap.att_id FROM att_rules r JOIN att_paths ap"
                " ON ap.att_id = r.att_id AND ap.path_id = r.path_id WHERE r.rule = ?"
                " AND (ap.path_id IN q_paths OR ap.old_path_id IN q_paths))",
                q.rule,
            )
        else:
            sql.add(
                "a.id IN (SELECT ap.att_id FROM att_paths ap"
                " WHERE ap.path_id IN q_paths OR ap.old_path_id IN q_paths)"
            )
    elif q.rule:
        sql.add("a.id IN (SELECT r.att_id FROM att_rules r WHERE r.rule = ?)", q.rule)
    if q.since is not None:
        sql.add("a.time_ts >= ?", q.since.timestamp())
    if q.until is not None:
        sql.add("a.time_ts < ?", q.until.timestamp())
    if q.commits is not None:
        sql.add(f"a.commit_sha IN ({','.join('?' * len(q.commits))})", *q.commits)
    return sql


_SELECT = """
SELECT a.commit_sha, a.signed_time, a.agent, a.agent_version, a.model, a.prompter,
  a.session_id, a.signer, a.issuer, a.payload_digest, a.trust_root_digest, a.verified_at,
  a.status, a.reasons, a.approvers, a.skills_text, a.paths_text, a.rules_text, a.time_ts, a.id
FROM attestations a
"""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(_SEP)) if value else ()


def _hit(r: tuple[Any, ...]) -> Hit:
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
    )


def _order(r: tuple[Any, ...]) -> tuple[bool, float, int]:
    return (r[18] is not None, r[18] or 0.0, r[19])


def run_query(index: Index, q: Query) -> list[Hit]:
    """Verified change attestations matching ``q``, oldest signed first.

    Each answer is one row read: the displayed lists and the commit's standing are kept on
    the row itself (the normalised tables serve only the filters). Without a limit the rows
    are sorted here, which is cheaper than SQLite sorting whole rows.
    """
    sql = _filters(index, q)
    text = _SELECT + " WHERE " + " AND ".join(sql.where)
    if q.limit is None:
        rows = index.conn.execute(text, sql.args).fetchall()
        rows.sort(key=_order)
        return [_hit(r) for r in rows]
    text += " ORDER BY a.time_ts, a.id LIMIT ?"
    return [_hit(r) for r in index.conn.execute(text, [*sql.args, q.limit])]


def commit_summaries(index: Index, commits: Sequence[str]) -> dict[str, CommitSummary]:
    """Agent, model, prompter, counted approvers and status of each indexed commit."""
    out: dict[str, CommitSummary] = {}
    wanted = list(dict.fromkeys(commits))
    for i in range(0, len(wanted), 500):
        chunk = wanted[i : i + 500]
        marks = ",".join("?" * len(chunk))
        rows = index.conn.execute(
            "SELECT c.commit_sha, c.status, c.reasons, c.approvers,"  # noqa: S608
            f" (SELECT group_concat(a.agent || ifnull('@' || a.agent_version, ''), '{_SEP}')"
            "   FROM attestations a WHERE a.commit_sha = c.commit_sha AND a.kind = 'change'),"
            f" (SELECT group_concat(a.model, '{_SEP}') FROM attestations a"
            "   WHERE a.commit_sha = c.commit_sha AND a.kind = 'change'),"
            f" (SELECT group_concat(a.prompter, '{_SEP}') FROM attestations a"
            "   WHERE a.commit_sha = c.commit_sha AND a.kind = 'change')"
            f" FROM commits c WHERE c.commit_sha IN ({marks})",
            chunk,
        )
        for sha, status, reasons, approvers, agents, models, prompters in rows:
            out[sha] = CommitSummary(
                commit=sha,
                status=status,
                reasons=_split(reasons),
                approvers=_split(approvers),
                agents=_split(agents),
                models=_split(models),
                prompters=_split(prompters),
            )
    return out
