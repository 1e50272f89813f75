"""Revocations judged against the index: which stored rows an entry withdraws, and what each
commit it touches keeps.

Rows are matched by the gate's own :func:`provenance.revocations.cause_matches` (the row's
signer, issuer, agent, model, skills, prompter and approver), and the window is judged on the
row's **verified** signed time (``signed_time``: the transparency log's or the timestamp
authority's), never its claimed time nor the host clock. A windowed entry and a row without
a verified time (a key-signed envelope): the row cannot be placed outside the window, so it is
listed as hit, marked ``unproven`` (a possible hit, not a certain one).

A commit's standing in the index is its standing *before*: the index verified its lines
with the repository's revocations as they were when it was indexed, which did not hold this
entry unless it was already committed. A line the index refused as ``revoked`` then is no
row, so its facts are unknown: it is listed as a possible hit of any entry
(``when_indexed``), never left out. *Now* is derived from what is left: no change
attestation left is ``refused`` (``revoked``); a commit that passed keeps passing while the
counted approvers left (of approvals not withdrawn, for a change attestation left) are at
least its repository's ``[approvals] required`` (stored on index, revision 0002), else it is
``refused`` (``approval_threshold_not_met``, ``revoked``); without a stored count it is
``undecided`` (run ``provenance verify`` there). A commit that did not pass keeps its
standing (a revocation only removes evidence; the rare rejection it withdraws is for
``verify`` to weigh).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from provenance.audit.schema import attestations, commits, lines, repositories, skills
from provenance.audit.writes import LIST_SEP, fold
from provenance.predicates import Agent, ResourceDescriptor
from provenance.reasons import Reason
from provenance.revocations import Facts, Revocation, Revocations, cause_matches

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.engine import Connection

    from provenance.audit.index import Index


@dataclass(frozen=True)
class RevokedRow:
    """One indexed line an entry withdraws; ``unproven``: a possible hit, either matched
    only because its signed time is unknown and an entry has a window, or ``when_indexed``:
    refused as ``revoked`` when it was indexed (the repository's own revocations), so the
    index kept none of its facts and cannot tell which entry."""

    repository: str
    commit: str
    kind: str
    line_digest: str
    attestation: str | None
    signer: str | None
    signed_time: datetime | None
    revocations: tuple[str, ...]
    unproven: bool
    when_indexed: bool = False


@dataclass(frozen=True)
class Standing:
    """A commit's status, reasons and counted approvers."""

    status: str
    reasons: tuple[str, ...]
    approvers: tuple[str, ...]


@dataclass(frozen=True)
class CommitImpact:
    """One commit an entry touched: before (as indexed), now, withdrawn, what is left."""

    repository: str
    commit: str
    before: Standing
    now: Standing
    withdrawn: tuple[RevokedRow, ...]
    left: tuple[str, ...]  # change attestations still valid ("sha256:…")


@dataclass(frozen=True)
class _Row:
    id: int
    repo_id: int
    commit: str
    kind: str
    line_digest: str
    payload: str
    signer: str | None
    signed_time: datetime | None
    approver: str | None
    approves: str | None
    counted: bool
    facts: Facts


def _prefilter(entries: Sequence[Revocation]) -> ColumnElement[bool]:
    """A cheap SQL superset of the rows the entries can match (exact matching follows)."""
    from sqlalchemy import or_, select

    from provenance.allow import parse_digest

    a = attestations.c
    parts: list[ColumnElement[bool]] = []
    for r in entries:
        if r.skill is not None:
            digest = f"sha256:{parse_digest(r.skill).sha256}"
            parts.append(a.id.in_(select(skills.c.att_id).where(skills.c.digest == digest)))
        elif r.signer is not None:
            parts.append(a.signer_key == fold(r.signer))
        elif r.key is not None:
            parts.append(a.signer == f"key:{r.key}")
        elif r.approver is not None:
            parts.append(a.kind == "approval")
        else:  # model, agent, prompter: globs and person forms, judged in Python
            parts.append(a.kind == "change")
    return or_(*parts)


_COLUMNS = ("id", "repo_id", "commit_sha", "kind", "line_digest", "payload_digest", "signer",
            "issuer", "signed_time", "approver", "approves", "counted", "agent",
            "agent_version", "model", "prompter", "signed_prompter")  # fmt: skip


def _rows(conn: Connection, where: ColumnElement[bool]) -> list[_Row]:
    from sqlalchemy import select

    a = attestations.c
    raw = conn.execute(select(*(a[c] for c in _COLUMNS)).where(where).order_by(a.id)).all()
    ids = [r[0] for r in raw]
    named: dict[int, list[ResourceDescriptor]] = {}
    for i in range(0, len(ids), 500):
        s = skills.c
        for att, name, digest in conn.execute(
            select(s.att_id, s.name, s.digest).where(s.att_id.in_(ids[i : i + 500]))
        ):
            pinned = {"sha256": digest.removeprefix("sha256:")} if digest else {}
            named.setdefault(att, []).append(ResourceDescriptor(name=name, digest=pinned))
    return [_row(r, tuple(named.get(r[0], ()))) for r in raw]


def _row(r: Sequence[Any], pinned: tuple[ResourceDescriptor, ...]) -> _Row:
    v = dict(zip(_COLUMNS, r, strict=True))
    agent = None
    if v["kind"] == "change" and v["agent"] and v["model"]:
        agent = Agent(tool=v["agent"], version=v["agent_version"], model=v["model"])
    facts = Facts(
        kind=v["kind"],
        signer=v["signer"],
        issuer=v["issuer"],
        agent=agent,
        skills=pinned,
        prompters=tuple(p for p in (v["prompter"], v["signed_prompter"]) if p),
        approver=v["approver"],
    )
    signed = datetime.fromisoformat(v["signed_time"]) if v["signed_time"] else None
    return _Row(v["id"], v["repo_id"], v["commit_sha"], v["kind"], v["line_digest"],
                v["payload_digest"], v["signer"], signed, v["approver"], v["approves"],
                bool(v["counted"]), facts)  # fmt: skip


def _judge(row: _Row, entries: Sequence[Revocation]) -> tuple[tuple[str, ...], bool]:
    """Ids of the entries that withdraw ``row``, and whether only an unknown time put it in."""
    hit = [r for r in entries if cause_matches(r, row.facts) and r.in_window(row.signed_time)]
    windowed = any(r.from_ is not None or r.until is not None for r in hit)
    certain = any(r.from_ is None and r.until is None for r in hit)
    return tuple(r.id for r in hit), windowed and not certain and row.signed_time is None


def _names(conn: Connection) -> dict[int, str]:
    from sqlalchemy import select

    return {int(i): str(n) for i, n in conn.execute(select(repositories.c.id, repositories.c.name))}


def _refused_as_revoked(
    conn: Connection, names: dict[int, str], repository: str | None
) -> list[RevokedRow]:
    """Lines the index refused as ``revoked`` (never rows): possible hits of any entry."""
    from sqlalchemy import select

    c = lines.c
    stmt = select(c.repo_id, c.commit_sha, c.line_digest, c.reasons).where(
        c.ok.is_(False), c.reasons.like("%revoked%")
    )
    out = []
    for repo_id, sha, digest, reasons in conn.execute(stmt):
        name = names[int(repo_id)]
        if Reason.REVOKED.value in str(reasons).split(",") and repository in (None, name):
            out.append(RevokedRow(name, sha, "unknown", digest, None, None, None, (), True, True))
    return out


def _revoked(conn: Connection, revs: Revocations, repository: str | None) -> list[RevokedRow]:
    if not revs.revocation:
        return []
    names = _names(conn)
    where = _prefilter(revs.revocation)
    if repository is not None:
        where = where & (attestations.c.repo_id.in_([i for i, n in names.items()
                                                      if n == repository]))  # fmt: skip
    out = _refused_as_revoked(conn, names, repository)
    for row in _rows(conn, where):
        ids, unproven = _judge(row, revs.revocation)
        if ids:
            out.append(RevokedRow(names[row.repo_id], row.commit, row.kind, row.line_digest,
                                  f"sha256:{row.payload}", row.signer, row.signed_time, ids,
                                  unproven))  # fmt: skip
    out.sort(key=lambda h: (h.repository, h.commit, h.kind, h.line_digest))
    return out


def revoked_rows(
    index: Index, revs: Revocations, repository: str | None = None
) -> list[RevokedRow]:
    """Every indexed row the entries withdraw (one repository, or all), grouped by commit."""
    with index.reading() as conn:
        return _revoked(conn, revs, repository)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(value.split(LIST_SEP)) if value else ()


def _now(
    before: Standing, rows: Sequence[_Row], gone: set[str], required: int | None
) -> tuple[Standing, tuple[str, ...]]:
    left = tuple(dict.fromkeys(f"sha256:{r.payload}" for r in rows
                               if r.kind == "change" and r.line_digest not in gone))  # fmt: skip
    if not left:
        return Standing("refused", (Reason.REVOKED.value,), ()), left
    people: dict[str, set[str]] = {}
    for r in rows:
        kept = r.kind == "approval" and r.counted and r.line_digest not in gone
        if kept and f"sha256:{r.approves}" in left:
            people.setdefault(str(r.approves), set()).add((r.approver or "").strip().casefold())
    best: set[str] = max(people.values(), key=lambda s: len(s), default=set())
    approvers = tuple(sorted(best))
    if before.status != "ok":
        return Standing(before.status, before.reasons, approvers), left
    if set(before.approvers) <= set(approvers) or (required is not None and required == 0):
        return Standing("ok", (), approvers), left
    if required is None:  # indexed before 0002: no count to compare with
        return Standing("undecided", (Reason.REVOKED.value,), approvers), left
    if len(approvers) >= required:
        return Standing("ok", (), approvers), left
    short = sorted((Reason.APPROVAL_THRESHOLD_NOT_MET.value, Reason.REVOKED.value))
    return Standing("refused", tuple(short), approvers), left


def commit_impacts(
    index: Index, entry: Revocation, repository: str | None = None
) -> list[CommitImpact]:
    """Per commit the entry touches (every repository, or one): before, now, what is left."""
    from sqlalchemy import select

    one = Revocations(revocation=[entry])
    out = []
    with index.reading() as conn:
        hits = _revoked(conn, one, repository)
        ids = {n: i for i, n in _names(conn).items()}
        r = repositories.c
        counts = {int(i): int(n) if n is not None and str(n).isdigit() else None
                  for i, n in conn.execute(select(r.id, r.approvals_required))}  # fmt: skip
        touched = list(dict.fromkeys((h.repository, h.commit) for h in hits))
        c, a = commits.c, attestations.c
        for name, sha in touched:
            repo_id = ids[name]
            found = conn.execute(select(c.status, c.reasons, c.approvers).where(
                c.repo_id == repo_id, c.commit_sha == sha)).first()  # fmt: skip
            status, reasons, approvers = found if found is not None else ("unknown", "", "")
            before = Standing(status, _split(reasons), _split(approvers))
            rows = _rows(conn, (a.repo_id == repo_id) & (a.commit_sha == sha))
            withdrawn = tuple(h for h in hits if (h.repository, h.commit) == (name, sha))
            gone = {h.line_digest for h in withdrawn}
            now, left = _now(before, rows, gone, counts.get(repo_id))
            out.append(CommitImpact(name, sha, before, now, withdrawn, left))
    return out


__all__ = ["CommitImpact", "RevokedRow", "Standing", "commit_impacts", "revoked_rows"]
