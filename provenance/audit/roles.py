"""PostgreSQL roles for a shared index, and the check that a writer can write only its own.

Three kinds of role (``provenance index --print-roles-sql`` prints the SQL):

* the **owner** runs ``provenance index --upgrade`` (creates and migrates the tables, their
  row-level security, and registers per-repository writers); it never indexes;
* an **indexer** (group ``provenance_indexer``) reads everything and writes rows; when
  ``index_writers`` names a role for a repository (the per-repository mode), row-level
  security lets a role write only the repositories whose writer role it is a member of;
* an **auditor** (group ``provenance_auditor``) reads everything and writes nothing.

Per-repository mode is switched on by the database, not by the job: as soon as
``index_writers`` has a row, every ``provenance index`` run checks its role first
(:func:`check_writer`) and refuses to start (exit 3) when the role could alter another
repository's rows: a superuser or ``BYPASSRLS`` role, a member of a table's owner (owners
skip row-level security and may turn it off), ``TRUNCATE`` or ``TRIGGER`` on a table (a
truncate ignores row-level security; a trigger runs on everyone's writes), row-level
security off or a permissive policy other than ours on a table, or membership in another
repository's writer role. A role registered for no repository is refused as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.audit.db import AuditIndexError
from provenance.audit.schema import ALL_TABLES, REPOSITORY_TABLES

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

    from provenance.audit.index import Index

_OUR_POLICIES = {"provenance_read", "provenance_insert", "provenance_update", "provenance_delete"}
_WRITE = "SELECT, INSERT, UPDATE, DELETE"

ROLES_SQL = f"""\
-- provenance: roles for a shared audit index on PostgreSQL (docs/decisions/0015).
-- Run as the role that owns the index's tables (the one that ran `provenance index --upgrade`),
-- in the index's database. Login roles are yours to create; these are groups to grant.

-- Indexers: CI jobs that run `provenance index --db URL`.
CREATE ROLE provenance_indexer NOLOGIN;
GRANT USAGE ON SCHEMA public TO provenance_indexer;
GRANT {_WRITE} ON {", ".join(t for t in REPOSITORY_TABLES)} TO provenance_indexer;
GRANT SELECT, INSERT ON path_names TO provenance_indexer;
GRANT SELECT ON index_writers, alembic_version TO provenance_indexer;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO provenance_indexer;

-- Auditors: `provenance query/log/blame --db URL`; read-only.
CREATE ROLE provenance_auditor NOLOGIN;
GRANT USAGE ON SCHEMA public TO provenance_auditor;
GRANT SELECT ON {", ".join(ALL_TABLES)}, alembic_version TO provenance_auditor;

-- A login role for each (passwords from your secret store; libpq reads PGPASSWORD/PGPASSFILE):
--   CREATE ROLE ci_indexer LOGIN IN ROLE provenance_indexer;
--   CREATE ROLE alice_auditor LOGIN IN ROLE provenance_auditor;

-- Per-repository writers (optional). Once index_writers has a row, a role may write only the
-- repositories registered to a role it is a member of, and `provenance index` refuses to start
-- with a role that could alter another repository's rows:
--   CREATE ROLE index_app NOLOGIN IN ROLE provenance_indexer;
--   CREATE ROLE ci_app LOGIN IN ROLE index_app;
--   INSERT INTO index_writers (repository, role) VALUES ('github.com/org/app', 'index_app');
"""  # noqa: S608 - fixed table names, printed for people to run


def roles_sql(indexer: str = "provenance_indexer", auditor: str = "provenance_auditor") -> str:
    """The SQL above, for ``provenance index --print-roles-sql`` and the README (the group
    names can differ, for a second index on the same server)."""
    for name in (indexer, auditor):
        if not name.isidentifier() or name != name.lower():
            raise ValueError(f"not a plain role name: {name!r}")
    return ROLES_SQL.replace("provenance_indexer", indexer).replace("provenance_auditor", auditor)


def _refuse(message: str, hint: str) -> AuditIndexError:
    return AuditIndexError(f"refusing to index: {message}", hint=hint)


def _table_problems(conn: Connection) -> list[str]:
    from sqlalchemy import text

    problems: list[str] = []
    for table in (*REPOSITORY_TABLES, "path_names", "index_writers"):
        row = conn.execute(
            text(
                "SELECT c.relrowsecurity, pg_has_role(c.relowner, 'MEMBER'),"
                " has_table_privilege(c.oid, 'TRUNCATE'), has_table_privilege(c.oid, 'TRIGGER')"
                " FROM pg_class c WHERE c.oid = to_regclass(:t)"
            ),
            {"t": table},
        ).one()
        secured, owner, truncate, trigger = row
        if owner:
            problems.append(f"it owns (or is a member of the owner of) table {table}")
        if truncate or trigger:
            problems.append(f"it holds TRUNCATE or TRIGGER on table {table}")
        if table in REPOSITORY_TABLES and not secured:
            problems.append(f"row-level security is off on table {table}")
    return problems


def _policy_problems(conn: Connection) -> list[str]:
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT tablename, policyname, permissive, cmd, coalesce(qual, ''),"
            " coalesce(with_check, '') FROM pg_policies"
            " WHERE schemaname = current_schema() AND tablename = ANY(:tables)"
        ),
        {"tables": list(REPOSITORY_TABLES)},
    )
    problems = []
    for table, name, permissive, cmd, qual, check in rows:
        ours = name in _OUR_POLICIES and (cmd == "SELECT" or "provenance_may_write" in qual + check)
        if permissive == "PERMISSIVE" and not ours:
            problems.append(f"table {table} has a policy {name!r} ({cmd}) that is not provenance's")
    return problems


def check_writer(index: Index, repository: str) -> None:
    """Refuse (exit 3) a role that could alter rows of a repository other than ``repository``
    when per-repository writers are configured (module docstring); otherwise do nothing."""
    from sqlalchemy import text

    with index.reading() as conn:
        configured = conn.execute(text("SELECT count(*) FROM index_writers")).scalar_one()
        if not configured:
            return
        role, superuser, bypass = conn.execute(
            text(
                "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
        problems = []
        if superuser or bypass:
            problems.append("it is a superuser or has BYPASSRLS (row-level security skips it)")
        problems += _table_problems(conn)
        problems += _policy_problems(conn)
        mine = [
            str(r)
            for (r,) in conn.execute(
                text(
                    "SELECT w.repository FROM index_writers w JOIN pg_roles g"
                    " ON g.rolname = w.role WHERE pg_has_role(g.oid, 'MEMBER')"
                    " ORDER BY w.repository"
                )
            )
        ]
    if repository not in mine:
        raise _refuse(
            f"role {role} is not the registered writer of {repository}"
            + (f" (it writes {', '.join(mine[:5])})" if mine else ""),
            "register it: INSERT INTO index_writers (repository, role) VALUES (...), as the "
            "index's owner; or pass the right --repository-id",
        )
    others = [r for r in mine if r != repository]
    if others:
        shown = ", ".join(others[:5]) + (" ..." if len(others) > 5 else "")
        problems.append(f"it may also write {len(others)} other repositories ({shown})")
    if problems:
        raise _refuse(
            f"role {role} could alter other repositories' rows: " + "; ".join(problems),
            "index with a role registered for this repository only (index_writers), never the "
            "tables' owner; see `provenance index --print-roles-sql`",
        )


__all__ = ["ROLES_SQL", "check_writer", "roles_sql"]
