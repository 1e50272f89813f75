"""Where the index lives: URLs, secrets kept out of messages, and versioned schemas.

A SQLite index is a cache: created, migrated or emptied when ``index`` opens it. A
PostgreSQL index is never migrated implicitly (exit 3 with a hint to ``--upgrade``).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from provenance.app.audit import build_index, query, upgrade_index
from provenance.audit import AuditIndexError, Index, IndexUrl, Query, parse_index_url
from provenance.audit.migrate import script_head
from provenance.audit.schema import SCHEMA_HEAD, metadata
from provenance.errors import UsageError
from tests.audit.conftest import World, clone_world

SECRET = "s3cr3t-Pa55/word"


@pytest.mark.parametrize(
    ("value", "backend", "shown"),
    [
        ("relative/index.sqlite", "sqlite", str(Path("relative/index.sqlite").absolute())),
        ("sqlite:///rel.sqlite", "sqlite", str(Path("rel.sqlite").absolute())),
        ("sqlite:////abs/index.sqlite", "sqlite", "/abs/index.sqlite"),
        ("postgresql://u@db.internal/prov", "postgresql", "postgresql://u@db.internal/prov"),
        (
            "postgres://u@db.internal:6432/prov",
            "postgresql",
            "postgresql://u@db.internal:6432/prov",
        ),
        ("postgresql+psycopg://db.internal/prov", "postgresql", "postgresql://db.internal/prov"),
    ],
)
def test_index_urls(value: str, backend: str, shown: str) -> None:
    where = parse_index_url(value)
    assert (where.backend, where.shown()) == (backend, shown)
    if backend == "postgresql":
        assert where.url.drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    "value",
    [
        "mysql://u@h/db",
        "sqlite://",
        "sqlite:///:memory:",
        "",
        f"postgresql+pg8000://u:{SECRET}@h/d",
    ],
)
def test_other_databases_are_usage_errors_that_echo_nothing(value: str) -> None:
    with pytest.raises(UsageError) as e:
        parse_index_url(value)
    assert SECRET not in e.value.diagnostics()


def test_a_password_is_never_shown() -> None:
    """The password in the URL, or as a ``password=`` parameter, never reaches a message."""
    where = parse_index_url(
        f"postgresql://ci:{SECRET}@db.internal/prov?password={SECRET}&sslmode=require"
    )
    assert where.shown() == "postgresql://ci@db.internal/prov?sslmode=require"
    assert SECRET not in where.shown()
    assert where.scrub(f"x {SECRET} y s3cr3t-Pa55%2Fword") == "x *** y ***"


def test_an_unreachable_server_names_the_cause_not_the_password(tmp_path: Path) -> None:
    where = parse_index_url(f"postgresql://ci:{SECRET}@127.0.0.1:1/prov")
    with pytest.raises(AuditIndexError) as e:
        query(tmp_path, Query(), db=where)
    text_ = e.value.diagnostics()
    assert e.value.exit_code == 3
    assert "127.0.0.1" in text_ and "hint:" in text_
    assert SECRET not in text_ and "s3cr3t" not in text_


def test_a_wrong_password_is_refused_without_echoing_it(postgres: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    wrong = make_url(postgres).set(password=SECRET).render_as_string(hide_password=False)
    with pytest.raises(AuditIndexError) as e:
        query(tmp_path, Query(), db=parse_index_url(wrong))
    assert "password authentication failed" in str(e.value)
    assert SECRET not in e.value.diagnostics() and "PGPASSFILE" in e.value.diagnostics()


def test_a_postgresql_index_is_never_migrated_implicitly(
    world: World, tmp_path: Path, pg_database: str
) -> None:
    where = parse_index_url(pg_database)
    mine = clone_world(world, tmp_path)
    with pytest.raises(AuditIndexError) as e:
        build_index(mine.repo.path, mine.options(), db=where)
    assert e.value.exit_code == 3 and "--upgrade" in (e.value.hint or "")
    assert "no provenance schema" in str(e.value)
    assert str(make_password(pg_database)) not in e.value.diagnostics()
    with pytest.raises(AuditIndexError):
        query(None, Query(), db=where)
    assert upgrade_index(where) == (None, SCHEMA_HEAD)
    assert upgrade_index(where) == (SCHEMA_HEAD, SCHEMA_HEAD)
    assert build_index(mine.repo.path, mine.options(), db=where).indexed == 3


def make_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).password or "<no password>"


def _legacy(path: Path) -> None:
    """An index as provenance wrote it before versioned migrations (schema "1")."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
            "INSERT INTO meta VALUES ('schema', '1');"
            "CREATE TABLE attestations (id INTEGER PRIMARY KEY, commit_sha TEXT, kind TEXT);"
            "INSERT INTO attestations (commit_sha, kind) VALUES ('deadbeef', 'change');"
            "CREATE TABLE commits (commit_sha TEXT PRIMARY KEY, status TEXT);"
        )


def test_an_old_sqlite_cache_is_refused_by_readers_and_rebuilt_by_index(
    world: World, tmp_path: Path
) -> None:
    mine, db = clone_world(world, tmp_path), tmp_path / "old.sqlite"
    _legacy(db)
    with pytest.raises(AuditIndexError) as e:
        query(mine.repo.path, Query(), db=db)
    assert "run `provenance index`" in (e.value.hint or "")
    stats = build_index(mine.repo.path, mine.options(), db=db)
    assert stats.indexed == 3 and stats.totals["attestations"] == 3
    assert {h.commit for h in query(mine.repo.path, Query(), db=db).items} == {mine.sso, mine.scim}
    with sqlite3.connect(db) as conn:
        tables = {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "meta" not in tables and "alembic_version" in tables


def test_the_default_index_is_a_sqlite_cache_in_the_clone(world: World, tmp_path: Path) -> None:
    mine = clone_world(world, tmp_path)
    stats = build_index(mine.repo.path, mine.options())
    assert stats.db == str(mine.repo.path / ".git" / "provenance" / "index.sqlite")
    assert len(query(mine.repo.path, Query()).items) == 2


def test_the_migrations_build_exactly_the_schema_the_code_uses(index_db: IndexUrl) -> None:
    """Alembic's own comparison of the migrated database with ``schema.metadata``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    assert script_head() == SCHEMA_HEAD
    with Index.open(index_db) as index, index.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_a_schema_from_a_newer_provenance_is_refused(index_db: IndexUrl) -> None:
    with Index.open(index_db) as index, index.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for create in (True, False):
        with pytest.raises(AuditIndexError) as e:
            Index.open(index_db, create=create)
        assert "newer provenance" in str(e.value)
