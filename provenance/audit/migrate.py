"""Versioned schema migrations (Alembic, driven from here: no ``alembic.ini`` for users).

The migration scripts ship inside the package (``provenance/audit/migrations``). A SQLite
index is a cache, so it is brought to the current schema whenever it is opened for writing
(and an index written before versioned migrations is emptied first). A PostgreSQL index is
shared and owned by someone: it is never migrated implicitly; ``provenance index --upgrade``
does it, in one transaction, under an advisory lock so two upgrades cannot interleave.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from provenance.audit.schema import SCHEMA_HEAD

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection

#: Tables of the index written before versioned migrations (schema "1", one repository).
_LEGACY_TABLES = (
    "meta",
    "notes",
    "lines",
    "attestations",
    "path_names",
    "att_paths",
    "att_rules",
    "skills",
    "commits",
)
_UPGRADE_LOCK = 0x70726F76  # "prov": serialises concurrent upgrades of one database


def current_revision(conn: Connection) -> str | None:
    """The schema revision stored in the database, or ``None`` when it has none."""
    from sqlalchemy import inspect, text

    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def is_legacy(conn: Connection) -> bool:
    """True for an index written before versioned migrations (it has a ``meta`` table)."""
    from sqlalchemy import inspect

    return inspect(conn).has_table("meta") and not inspect(conn).has_table("alembic_version")


def _drop_legacy(conn: Connection) -> None:
    from sqlalchemy import inspect, text

    present = set(inspect(conn).get_table_names())
    for table in _LEGACY_TABLES:
        if table in present:
            conn.execute(text(f'DROP TABLE "{table}"'))


def upgrade(conn: Connection, *, drop_legacy: bool = False) -> tuple[str | None, str]:
    """Migrate the schema to ``SCHEMA_HEAD`` inside the caller's transaction; (from, to).

    ``drop_legacy`` (SQLite caches only) empties an index written before versioned
    migrations instead of refusing it.
    """
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _UPGRADE_LOCK})
    before = current_revision(conn)
    if before == SCHEMA_HEAD:
        return before, SCHEMA_HEAD
    if is_legacy(conn):
        if not drop_legacy:
            raise RuntimeError("an index from before versioned migrations")
        _drop_legacy(conn)
    config = Config()
    config.set_main_option("script_location", "provenance.audit:migrations")
    config.attributes["connection"] = conn
    command.upgrade(config, "head")
    return before, SCHEMA_HEAD


def script_head() -> str | None:
    """The newest revision among the shipped scripts (a test keeps it equal to SCHEMA_HEAD)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", "provenance.audit:migrations")
    return ScriptDirectory.from_config(config).get_current_head()


__all__ = ["current_revision", "is_legacy", "script_head", "upgrade"]
