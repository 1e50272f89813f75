"""Writes of one index run of one repository, inside the run's transaction.

A :class:`Writer` comes from :meth:`Index.writing` and touches only its repository's rows:
every statement names ``repo_id``, so nothing one repository's run does can change another
repository's answers (and PostgreSQL's row-level security enforces it for per-repository
roles). Inserts are ``ON CONFLICT DO NOTHING``: a line indexed twice stays one row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from provenance.audit.models import AttestationRow, RefusedLine, SkillRow
from provenance.audit.schema import (
    att_paths,
    att_rules,
    attestations,
    commits,
    lines,
    notes,
    path_names,
    repositories,
    skills,
)

if TYPE_CHECKING:
    from sqlalchemy import Column, Table
    from sqlalchemy.dialects.sqlite import Insert
    from sqlalchemy.engine import Connection, Engine

    from provenance.verify.approvals import ApprovalFacts, ChangeFacts

#: Separator of the list columns (reasons, approvers): never part of a reason or a person.
LIST_SEP = "\x1f"
#: Settings a repository is indexed with; any change empties its rows first.
SETTINGS = ("policy_digest", "keys_digest", "trust_root_digest", "notes_ref")
_CHUNK = 500


def fold(value: str | None) -> str | None:
    """The case-insensitive key of an identity, agent, model or skill name."""
    return value.casefold() if value is not None else None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def skill_label(skill: SkillRow) -> str:
    """How a skill is shown in answers: ``name@version (sha256:…)``."""
    label = f"{skill.name}@{skill.version}" if skill.version else skill.name
    return f"{label} ({skill.digest})" if skill.digest else label


def insert(conn: Connection, table: Table) -> Insert:
    """``INSERT`` in the connection's dialect (for ``ON CONFLICT``)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)  # type: ignore[return-value]
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _attestation(repo_id: int, row: AttestationRow) -> dict[str, object]:
    return {
        "repo_id": repo_id,
        "line_digest": row.line_digest,
        "commit_sha": row.commit,
        "kind": row.kind,
        "payload_digest": row.payload_digest,
        "format": row.format,
        "signer": row.signer,
        "signer_key": fold(row.signer),
        "issuer": row.issuer,
        "signed_time": _iso(row.signed_time),
        "claimed_time": _iso(row.claimed_time),
        "time_ts": _epoch(row.signed_time or row.claimed_time),
        "verified_at": _iso(row.verified_at),
        "trust_root_digest": row.trust_root_digest,
        "policy_digest": row.policy_digest,
        "change_signer": row.change_signer,
        "approver": row.approver,
        "approver_key": fold(row.approver),
        "predicate_type": row.predicate_type,
        "agent": row.agent,
        "agent_key": fold(row.agent),
        "agent_version": row.agent_version,
        "model": row.model,
        "model_key": fold(row.model),
        "session_id": row.session_id,
        "prompter": row.prompter,
        "prompter_key": fold(row.prompter),
        "signed_prompter": row.signed_prompter,
        "claimed_repository": row.claimed_repository,
        "identity_related": row.identity_related,
        "decision": row.decision,
        "approves": row.approves,
        "comment": row.comment,
        "skills_text": LIST_SEP.join(skill_label(s) for s in row.skills),
        "paths_text": LIST_SEP.join(sorted({p.path for p in row.paths})),
        "rules_text": LIST_SEP.join(sorted({r for p in row.paths for r in p.rules})),
    }


class Writer:
    """The writes of one run of one repository (see the module docstring)."""

    def __init__(self, engine: Engine, conn: Connection, repository: str) -> None:
        from sqlalchemy import select

        self.engine = engine  # for the shared path dictionary's own short transactions
        self.conn = conn
        self.repository = repository
        stmt = insert(conn, repositories).values(name=repository)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
        found = conn.execute(select(repositories.c.id).where(repositories.c.name == repository))
        self.repo_id = int(found.scalar_one())

    # --- settings ------------------------------------------------------------------------------

    def settings(self) -> dict[str, str]:
        """The repository's settings as of the last committed run."""
        from sqlalchemy import select

        row = self.conn.execute(select(repositories).where(repositories.c.id == self.repo_id))
        values = row.one()._mapping
        return {k: v for k, v in values.items() if isinstance(v, str) and k != "name"}

    def set_settings(self, values: dict[str, str]) -> None:
        self.conn.execute(
            repositories.update().where(repositories.c.id == self.repo_id).values(**values)
        )

    def reset(self, values: dict[str, str]) -> None:
        """Forget every row of this repository (only this one) and record new settings."""
        from sqlalchemy import select

        mine = select(attestations.c.id).where(attestations.c.repo_id == self.repo_id)
        for table in (att_paths, att_rules, skills):
            self.conn.execute(table.delete().where(table.c.att_id.in_(mine)))
        for table in (attestations, lines, notes, commits):
            self.conn.execute(table.delete().where(table.c.repo_id == self.repo_id))
        cleared = {c.name: None for c in repositories.c if c.name not in ("id", "name")}
        self.set_settings({**cleared, **values})  # type: ignore[dict-item]

    # --- incremental bookkeeping ---------------------------------------------------------------

    def note_blobs(self) -> dict[str, str]:
        """Commit -> note blob id as of the last run."""
        from sqlalchemy import select

        stmt = select(notes.c.commit_sha, notes.c.blob).where(notes.c.repo_id == self.repo_id)
        return {str(c): str(b) for c, b in self.conn.execute(stmt)}

    def set_note_blobs(self, blobs: dict[str, str]) -> None:
        if not blobs:
            return
        stmt = insert(self.conn, notes)
        stmt = stmt.on_conflict_do_update(
            index_elements=["repo_id", "commit_sha"], set_={"blob": stmt.excluded.blob}
        )
        self.conn.execute(
            stmt, [{"repo_id": self.repo_id, "commit_sha": c, "blob": b} for c, b in blobs.items()]
        )

    def known_lines(self, commits_: Iterable[str]) -> set[tuple[str, str]]:
        """(commit, line digest) of every line already seen on these commits.

        Keyed by commit too: a valid line copied onto another commit first (where it is
        refused) must not hide it on the commit it belongs to.
        """
        from sqlalchemy import select

        known: set[tuple[str, str]] = set()
        for chunk in _chunks(list(dict.fromkeys(commits_))):
            stmt = select(lines.c.commit_sha, lines.c.line_digest).where(
                lines.c.repo_id == self.repo_id, lines.c.commit_sha.in_(chunk)
            )
            known.update((str(c), str(d)) for c, d in self.conn.execute(stmt))
        return known

    # --- rows ----------------------------------------------------------------------------------

    def _path_ids(self, paths: set[str]) -> dict[str, int]:
        """Ids of ``paths`` in the shared dictionary, adding the missing ones (sorted).

        On PostgreSQL the additions commit at once on a connection of their own: the
        dictionary is shared by every repository, and holding its new rows until the end of
        a long run would make other runs wait (an unused name is harmless).
        """
        from sqlalchemy import select

        wanted = sorted(paths)
        found: dict[str, int] = {}

        def look_up(names: list[str]) -> None:
            for chunk in _chunks(names):
                stmt = select(path_names.c.path, path_names.c.id).where(
                    path_names.c.path.in_(chunk)
                )
                found.update((str(p), int(i)) for p, i in self.conn.execute(stmt))

        look_up(wanted)  # most paths were named before: only the new ones are added
        missing = [p for p in wanted if p not in found]
        if not missing:
            return found
        add = insert(self.conn, path_names).on_conflict_do_nothing(index_elements=["path"])
        if self.conn.dialect.name == "postgresql":
            with self.engine.connect() as other, other.begin():
                for chunk in _chunks(missing, 2000):
                    other.execute(add, [{"path": p} for p in chunk])
        else:
            for chunk in _chunks(missing, 2000):
                self.conn.execute(add, [{"path": p} for p in chunk])
        look_up(missing)
        return found

    def _insert(
        self,
        table: Table,
        values: Sequence[dict[str, object]],
        keys: Sequence[str] | None = None,
        returning: Sequence[Column[Any]] = (),
    ) -> list[tuple[Any, ...]]:
        """``INSERT … ON CONFLICT (keys) DO NOTHING`` of ``values`` (one dict per row, the
        same keys in each), returning ``returning`` of the rows inserted. PostgreSQL: by
        ``COPY`` through a staging table (:mod:`~provenance.audit.bulk`)."""
        from sqlalchemy import select

        if not values:
            return []
        stmt = insert(self.conn, table)
        if self.conn.dialect.name == "postgresql":
            from provenance.audit.bulk import stage

            names = list(values[0])
            staged = stage(self.conn, table, names, [tuple(v[n] for n in names) for v in values])
            stmt = stmt.from_select(names, select(*(staged.c[n] for n in names)))
            stmt = stmt.on_conflict_do_nothing(index_elements=keys)
            if returning:
                return [tuple(r) for r in self.conn.execute(stmt.returning(*returning))]
            self.conn.execute(stmt)
            return []
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
        if not returning:
            self.conn.execute(stmt, list(values))
            return []
        found: list[tuple[Any, ...]] = []
        for chunk in _chunks(values, 2000):
            result = self.conn.execute(stmt.returning(*returning), list(chunk))
            found.extend(tuple(r) for r in result)
        return found

    def add(self, rows: Sequence[AttestationRow], refused: Sequence[RefusedLine] = ()) -> int:
        """Insert verified rows and remember refused lines; returns rows inserted."""
        rid = self.repo_id
        pids = self._path_ids({n for r in rows for p in r.paths for n in (p.path, p.old_path) if n})
        a = attestations.c
        inserted = self._insert(
            attestations,
            [_attestation(rid, r) for r in rows],
            ["repo_id", "commit_sha", "line_digest"],
            (a.id, a.commit_sha, a.line_digest),
        )
        ids = {(str(r[1]), str(r[2])): int(r[0]) for r in inserted}
        paths: dict[tuple[int, int], dict[str, object]] = {}
        rules: dict[tuple[str, int, int], dict[str, object]] = {}
        named: list[dict[str, object]] = []
        for row in rows:
            att = ids.get((row.commit, row.line_digest))
            if att is None:  # already indexed (another run of the same repository)
                continue
            for p in row.paths:
                pid = pids[p.path]
                old = pids[p.old_path] if p.old_path else None
                paths[att, pid] = {"repo_id": rid, "att_id": att, "path_id": pid,
                                   "old_path_id": old, "status": p.status}  # fmt: skip
                rules.update(((r, att, pid), {"repo_id": rid, "rule": r, "att_id": att,
                                              "path_id": pid}) for r in p.rules)  # fmt: skip
            named.extend(
                {"repo_id": rid, "att_id": att, "name": s.name, "name_key": fold(s.name),
                 "uri": s.uri, "version": s.version, "digest": s.digest}
                for s in row.skills
            )  # fmt: skip
        for table, values in ((att_paths, paths.values()), (att_rules, rules.values())):
            self._insert(table, list(values))
        self._insert(skills, named)
        seen = [(r.line_digest, r.commit, True, "") for r in rows]
        seen += [(r.line_digest, r.commit, False, ",".join(r.reasons)) for r in refused]
        self._insert(
            lines,
            [{"repo_id": rid, "line_digest": d, "commit_sha": c, "ok": ok, "reasons": why}
             for d, c, ok, why in seen],
        )  # fmt: skip
        return len(ids)

    def facts(self, commit: str) -> tuple[list[ChangeFacts], list[tuple[str, ApprovalFacts]]]:
        """What the gate's decision reads of a commit's verified rows (and each line digest).

        Rows hold exactly the facts :func:`provenance.verify.gate.standing` needs, so the
        index decides as the gate does without rebuilding any predicate; only this
        repository's rows count.
        """
        from sqlalchemy import select

        from provenance.verify.approvals import ApprovalFacts, ChangeFacts

        a = attestations.c
        stmt = (
            select(a.line_digest, a.kind, a.signer, a.signed_time, a.payload_digest, a.approver,
                   a.prompter, a.approves, a.decision, a.claimed_time)
            .where(a.repo_id == self.repo_id, a.commit_sha == commit)
            .order_by(a.id)
        )  # fmt: skip
        changes: list[ChangeFacts] = []
        approvals: list[tuple[str, ApprovalFacts]] = []
        for (
            line,
            kind,
            signer,
            signed,
            payload,
            approver,
            prompter,
            approves,
            *rest,
        ) in self.conn.execute(stmt):
            if kind == "change":
                changes.append(ChangeFacts(payload, signer, approver, prompter))
                continue
            decision, claimed = rest
            facts = ApprovalFacts(
                reasons=(),
                approves=approves,
                approver=approver,
                signer=signer,
                signed_time=_dt(signed),
                decided_at=_dt(claimed) or datetime.min.replace(tzinfo=UTC),
                decision=decision or "",
            )
            approvals.append((line, facts))
        return changes, approvals

    def set_standing(
        self,
        commit: str,
        status: str,
        reasons: Sequence[str],
        approvers: Sequence[str],
        counted: Sequence[str],
    ) -> None:
        """Record a commit's decision and which approval lines counted toward it."""
        self.set_standings([(commit, status, reasons, approvers, counted)])

    def set_standings(
        self,
        decided: Sequence[tuple[str, str, Sequence[str], Sequence[str], Sequence[str]]],
    ) -> None:
        """:meth:`set_standing` for many commits, in a few statements."""
        from sqlalchemy import bindparam

        if not decided:
            return
        if self.conn.dialect.name == "postgresql":
            self._set_standings_staged(decided)
            return
        rid = self.repo_id
        values = [
            {"repo_id": rid, "commit_sha": c, "status": s, "reasons": LIST_SEP.join(r),
             "approvers": LIST_SEP.join(a)}
            for c, s, r, a, _ in decided
        ]  # fmt: skip
        stmt = insert(self.conn, commits)
        stmt = stmt.on_conflict_do_update(
            index_elements=["repo_id", "commit_sha"],
            set_={k: getattr(stmt.excluded, k) for k in ("status", "reasons", "approvers")},
        )
        self.conn.execute(stmt, values)
        a = attestations.c
        update = (
            attestations.update()
            .where(a.repo_id == rid, a.commit_sha == bindparam("c"))
            .values(counted=False, status=bindparam("s"), reasons=bindparam("r"),
                    approvers=bindparam("p"))
        )  # fmt: skip
        self.conn.execute(
            update,
            [{"c": v["commit_sha"], "s": v["status"], "r": v["reasons"], "p": v["approvers"]}
             for v in values],
        )  # fmt: skip
        counted = [{"c": c, "d": d} for c, *_, lines_ in decided for d in lines_]
        if counted:
            self.conn.execute(
                attestations.update()
                .where(a.repo_id == rid, a.commit_sha == bindparam("c"),
                       a.line_digest == bindparam("d"))
                .values(counted=True),
                counted,
            )  # fmt: skip

    def _set_standings_staged(
        self,
        decided: Sequence[tuple[str, str, Sequence[str], Sequence[str], Sequence[str]]],
    ) -> None:
        """PostgreSQL: the standings by ``COPY``, then one upsert of ``commits`` and one
        ``UPDATE … FROM`` of the attestations (each row rewritten once, counted or not)."""
        from sqlalchemy import any_, literal, select

        from provenance.audit.bulk import stage

        latest = {c: (c, s, LIST_SEP.join(r), LIST_SEP.join(a), list(n))
                  for c, s, r, a, n in decided}  # fmt: skip
        names = ["commit_sha", "status", "reasons", "approvers"]
        staged = stage(self.conn, commits, names, list(latest.values()),
                       extra=[("counted", "text[]")], label="standing")  # fmt: skip
        s_ = staged.c
        stmt = insert(self.conn, commits).from_select(
            ["repo_id", *names], select(literal(self.repo_id), *(s_[n] for n in names))
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["repo_id", "commit_sha"],
            set_={k: getattr(stmt.excluded, k) for k in ("status", "reasons", "approvers")},
        )
        self.conn.execute(stmt)
        a = attestations.c
        self.conn.execute(
            attestations.update()
            .where(a.repo_id == self.repo_id, a.commit_sha == s_.commit_sha)
            .values(counted=a.line_digest == any_(s_.counted), status=s_.status,
                    reasons=s_.reasons, approvers=s_.approvers)
        )  # fmt: skip


__all__ = ["LIST_SEP", "SETTINGS", "Writer", "fold", "insert", "skill_label"]
