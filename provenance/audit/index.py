"""The index of verified attestations: opening it, reading it, and one write run per repository.

Only lines that verified on ingest become ``attestations`` rows; every line seen (verified or
not) is remembered by digest in ``lines`` so a re-run skips it. Each repository's row in
``repositories`` records the policy and trusted root its rows were verified against: when
either changes, that repository's rows (and only those) are rebuilt. The index is a cache of
the stores and can always be deleted and rebuilt.

Writers: one index run of one repository is one transaction (:meth:`Index.writing`), so
readers see the previous run or the whole new one, and a run that dies (even by SIGKILL)
leaves the previous state. Runs of the same repository wait for each other (a
per-repository advisory lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite, which has one
writer at a time anyway); runs of different repositories proceed side by side on PostgreSQL.
Inserts are idempotent (``ON CONFLICT DO NOTHING``), and the only table repositories share
(``path_names``) is added to in sorted order by short statements of their own, so two runs
never wait on each other in opposite orders.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING

from provenance.audit.db import (
    AuditIndexError,
    IndexUrl,
    database_error,
    make_engine,
)
from provenance.audit.schema import SCHEMA_HEAD, attestations, commits, lines, repositories

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

    from provenance.audit.writes import Writer

#: Revisions this code knows; anything else was written by a newer provenance.
KNOWN_REVISIONS = ("0001", "0002")


class Index:
    """An open index (SQLite file or PostgreSQL database); a context manager."""

    def __init__(self, engine: Engine, where: IndexUrl) -> None:
        self.engine = engine
        self.where = where

    @property
    def backend(self) -> str:
        return self.where.backend

    @classmethod
    def open(cls, where: IndexUrl, *, create: bool = True) -> Index:
        """Open the index at ``where``, checking (or, for a SQLite cache, bringing) its schema.

        ``create`` (the ``index`` command): a missing SQLite file is created and an old one
        migrated or emptied. Readers never change anything. A PostgreSQL index is never
        migrated here: ``provenance index --upgrade`` does that, deliberately.
        """
        path = where.path
        if not create and path is not None and not path.is_file():
            raise AuditIndexError(
                f"no index at {path}", hint="run `provenance index` first (it reads the store)"
            )
        engine = make_engine(where)
        index = cls(engine, where)
        try:
            index._check_schema(create)
        except BaseException:
            engine.dispose()
            raise
        return index

    def _check_schema(self, create: bool) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from provenance.audit.migrate import current_revision, is_legacy, upgrade

        try:
            with self.engine.connect() as conn:
                revision, legacy = current_revision(conn), is_legacy(conn)
            if revision == SCHEMA_HEAD:
                return
            if revision is not None and revision not in KNOWN_REVISIONS:
                raise AuditIndexError(
                    f"the index {self.where.shown()} has schema {revision}, written by a newer "
                    "provenance",
                    hint="upgrade provenance (a SQLite cache may also be deleted and rebuilt)",
                )
            if self.backend == "sqlite" and create:
                with self.engine.connect() as conn:
                    conn.execution_options(write=True)
                    with conn.begin():
                        upgrade(conn, drop_legacy=True)
                return
        except SQLAlchemyError as e:
            raise database_error(self.where, "open", e) from e
        self._refuse_schema(revision, legacy)

    def _refuse_schema(self, revision: str | None, legacy: bool) -> None:
        if self.backend == "sqlite":
            what = "is from before versioned migrations" if legacy else "has an older schema"
            raise AuditIndexError(
                f"the index {self.where.shown()} {what}",
                hint="run `provenance index` (it brings the cache up to date)",
            )
        found = f"schema {revision}" if revision else "no provenance schema"
        raise AuditIndexError(
            f"the index {self.where.shown()} has {found}; this provenance needs {SCHEMA_HEAD}",
            hint="run `provenance index --upgrade --db URL` once, with the role that owns the "
            "index's tables (PostgreSQL indexes are never migrated implicitly)",
        )

    def __enter__(self) -> Index:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.engine.dispose()

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A read transaction (never blocks writers; sees whole runs only)."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self.engine.connect() as conn, conn.begin():
                yield conn
        except SQLAlchemyError as e:
            raise database_error(self.where, "read", e) from e

    @contextmanager
    def writing(self, repository: str) -> Iterator[Writer]:
        """One index run of ``repository``: a single transaction, all of it or none of it.

        Waits for another run of the same repository to finish first (PostgreSQL: an
        advisory lock keyed by the repository; SQLite: ``BEGIN IMMEDIATE``).
        """
        from sqlalchemy import func, select
        from sqlalchemy.exc import SQLAlchemyError

        from provenance.audit.writes import Writer

        try:
            with self.engine.connect() as conn:
                conn.execution_options(write=True)
                with conn.begin():
                    if self.backend == "postgresql":
                        key = self.where.lock_key(repository)
                        conn.execute(select(func.pg_advisory_xact_lock(key)))
                    yield Writer(self.engine, conn, repository)
        except SQLAlchemyError as e:
            raise database_error(self.where, "write", e) from e

    def repository_id(self, conn: Connection, name: str) -> int | None:
        """The key of repository ``name`` in this index, if it was ever indexed."""
        from sqlalchemy import select

        row = conn.execute(select(repositories.c.id).where(repositories.c.name == name)).first()
        return None if row is None else int(row[0])

    def settings(self, name: str) -> dict[str, str]:
        """What repository ``name`` was last indexed with (policy, root, notes ref and tip)."""
        from sqlalchemy import select

        with self.reading() as conn:
            row = conn.execute(select(repositories).where(repositories.c.name == name)).first()
        if row is None:
            return {}
        return {k: v for k, v in row._mapping.items() if isinstance(v, str) and k != "name"}

    def repositories(self) -> list[str]:
        """Every repository the index holds."""
        from sqlalchemy import select

        with self.reading() as conn:
            rows = conn.execute(select(repositories.c.name).order_by(repositories.c.name))
            return [str(r[0]) for r in rows]

    def counts(self, name: str | None = None) -> dict[str, int]:
        """Verified attestations, refused lines and decided commits (of one repository)."""
        from sqlalchemy import func, select

        with self.reading() as conn:
            rid = None if name is None else self.repository_id(conn, name)
            if name is not None and rid is None:
                return {"attestations": 0, "refused_lines": 0, "commits": 0}

            def count(table: object, *where: object) -> int:
                stmt = select(func.count()).select_from(table)  # type: ignore[arg-type]
                if rid is not None:
                    stmt = stmt.where(table.c.repo_id == rid)  # type: ignore[attr-defined]
                return int(conn.execute(stmt.where(*where)).scalar_one())  # type: ignore[arg-type]

            return {
                "attestations": count(attestations),
                "refused_lines": count(lines, lines.c.ok.is_(False)),
                "commits": count(commits),
            }

    def analyze(self) -> None:
        """Refresh SQLite's planner statistics after a bulk change (PostgreSQL's autovacuum
        does this on its own)."""
        if self.backend != "sqlite":
            return
        from sqlalchemy import text

        with self.engine.connect() as conn:
            conn.execution_options(write=True)
            with conn.begin():
                conn.execute(text("ANALYZE"))


__all__ = ["KNOWN_REVISIONS", "AuditIndexError", "Index"]
