"""Where the index lives: a URL (a SQLite file or a PostgreSQL database), its engine, safe text.

``--db`` and ``PROVENANCE_INDEX_URL`` name the index as a file path, ``sqlite:///PATH`` or
``postgresql://…`` (``postgres://`` and ``postgresql+psycopg://`` too; psycopg 3 is the
driver, from the ``[postgres]`` extra). Credentials come from the URL or, better, from
libpq's environment (``PGPASSWORD``, ``PGPASSFILE``, ``PGSERVICE``); no message this module
builds ever holds a password: :meth:`IndexUrl.shown` drops it, and database errors are
reduced to the driver's own message with any password scrubbed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from provenance.errors import ProvenanceError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import URL, Engine

Backend = Literal["sqlite", "postgresql"]

_SQLITE_SCHEMES = {"sqlite", "sqlite+pysqlite"}
_POSTGRES_SCHEMES = {"postgresql", "postgres", "postgresql+psycopg"}
#: How long a SQLite writer waits for another one (index runs are one transaction each).
SQLITE_BUSY_SECONDS = 600.0
#: How long connecting to a PostgreSQL server may take before it is reported as down.
CONNECT_TIMEOUT_SECONDS = 10


class AuditIndexError(ProvenanceError):
    """The index is missing, unreachable, unreadable or from another schema (exit 3)."""


@dataclass(frozen=True)
class IndexUrl:
    """A resolved index location: the SQLAlchemy URL and which backend serves it."""

    url: URL
    backend: Backend

    @property
    def path(self) -> Path | None:
        """The SQLite file, or ``None`` for a server."""
        return Path(self.url.database or "") if self.backend == "sqlite" else None

    @property
    def password(self) -> str | None:
        """The password the URL carries (to scrub it from messages), if any."""
        given = self.url.password or self.url.query.get("password")
        return str(given) if isinstance(given, str) and given else None

    def shown(self) -> str:
        """The URL for people and logs: never a password (nor a ``password=`` parameter)."""
        if self.path is not None:
            return str(self.path)
        from sqlalchemy.engine import URL

        u = self.url
        query = {k: v for k, v in u.query.items() if k.lower() != "password"}
        safe = URL.create("postgresql", u.username, None, u.host, u.port, u.database, query)
        return safe.render_as_string(hide_password=True)

    def scrub(self, text: str) -> str:
        """``text`` with the URL's password (and its URL-encoded form) replaced by ``***``."""
        from urllib.parse import quote

        secret = self.password
        if not secret:
            return text
        for form in {secret, quote(secret, safe=""), quote(secret)}:
            text = text.replace(form, "***")
        return text

    def lock_key(self, repository: str) -> int:
        """A signed 64-bit key for PostgreSQL's per-repository advisory lock."""
        digest = hashlib.sha256(b"provenance-index\0" + repository.encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)


def sqlite_url(path: Path) -> IndexUrl:
    """The index in the SQLite file ``path`` (made absolute: the engine may change directory)."""
    from sqlalchemy.engine import URL

    url = URL.create("sqlite+pysqlite", database=str(Path(path).expanduser().absolute()))
    return IndexUrl(url, "sqlite")


def parse_index_url(value: str | Path) -> IndexUrl:
    """``--db``/``PROVENANCE_INDEX_URL``: a file path, ``sqlite:///PATH`` or ``postgresql://…``.

    The value is never echoed in an error: it may hold a password.
    """
    if isinstance(value, Path) or "://" not in value:
        if not str(value):
            raise UsageError("--db is empty", hint="give a file path or a database URL")
        return sqlite_url(Path(value))
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(value)
    except (ArgumentError, ValueError) as e:
        raise UsageError(
            "--db is not a database URL", hint="postgresql://HOST/DB, sqlite:///PATH or a file path"
        ) from e
    scheme = url.drivername.lower()
    if scheme in _SQLITE_SCHEMES:
        if not url.database or url.database == ":memory:":
            raise UsageError(
                "--db names no SQLite file", hint="sqlite:///relative/path or sqlite:////abs/path"
            )
        return sqlite_url(Path(url.database))
    if scheme in _POSTGRES_SCHEMES:
        return IndexUrl(url.set(drivername="postgresql+psycopg"), "postgresql")
    raise UsageError(
        f"--db: unsupported database {scheme.split('+')[0]!r}",
        hint="the index runs on SQLite (a file path) or PostgreSQL (postgresql://HOST/DB)",
    )


def _sqlite_engine(where: IndexUrl) -> Engine:
    from sqlalchemy import create_engine, event

    engine = create_engine(
        where.url,
        connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False},
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: object) -> None:
        dbapi.isolation_level = None  # transactions are ours: BEGIN IMMEDIATE for writers
        for pragma in (
            "journal_mode=WAL",
            "synchronous=NORMAL",
            "temp_store=MEMORY",
            "cache_size=-131072",  # 128 MiB of page cache
            "mmap_size=1073741824",
            "foreign_keys=ON",
        ):
            dbapi.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def make_engine(where: IndexUrl) -> Engine:
    """An engine for ``where``; PostgreSQL needs the ``[postgres]`` extra (psycopg 3)."""
    if where.backend == "sqlite":
        path = where.path
        assert path is not None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise AuditIndexError(f"cannot create the index's directory {path.parent}: {e}") from e
        return _sqlite_engine(where)
    try:
        import psycopg  # noqa: F401 - only to say what is missing
    except ImportError as e:
        raise AuditIndexError(
            "PostgreSQL support is not installed",
            hint="pip install 'identity-provenance[postgres]' (psycopg 3)",
        ) from e
    from sqlalchemy import create_engine

    return create_engine(
        where.url,
        hide_parameters=True,
        pool_pre_ping=False,
        connect_args={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "application_name": "provenance",
        },
    )


def database_error(where: IndexUrl, doing: str, error: BaseException) -> AuditIndexError:
    """An :class:`AuditIndexError` for a driver or SQLAlchemy error, without any secret.

    The driver's own message names the cause (server down, authentication failed, missing
    table); SQLAlchemy's wrapper text (statement, parameters) is dropped, and the URL's
    password is scrubbed from what remains.
    """
    cause = getattr(error, "orig", None) or error
    text = " ".join(str(cause).split()) or type(cause).__name__
    hint = None
    if "password" in text.lower() or "authentication" in text.lower():
        hint = "credentials come from libpq's environment: PGPASSWORD, PGPASSFILE, PGSERVICE"
    elif "could not connect" in text.lower() or "connection" in text.lower():
        hint = "is the server running and reachable? check the host, port and database name"
    return AuditIndexError(
        where.scrub(f"cannot {doing} the index {where.shown()}: {text}"), hint=hint
    )


__all__ = [
    "AuditIndexError",
    "Backend",
    "IndexUrl",
    "database_error",
    "make_engine",
    "parse_index_url",
    "sqlite_url",
]
