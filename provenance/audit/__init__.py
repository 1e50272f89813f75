"""Audit stage: an index of verified attestations and the queries over it.

:mod:`~provenance.audit.index` opens the index (a SQLite file by default, or a PostgreSQL
database shared by many repositories: :mod:`~provenance.audit.db`) and runs one write
transaction per repository (:mod:`~provenance.audit.writes`); rows only come from lines that
verified on ingest, and each commit's standing is decided by the gate's own ``standing``
(:mod:`~provenance.audit.ingest`). :mod:`~provenance.audit.schema` holds the tables and
:mod:`~provenance.audit.migrate` their versioned migrations (Alembic);
:mod:`~provenance.audit.repository` names repositories; :mod:`~provenance.audit.roles` the
PostgreSQL roles and the check that a per-repository writer can write nothing else;
:mod:`~provenance.audit.models` holds the rows and answers (pydantic at the boundary);
:mod:`~provenance.audit.queries` the queries behind ``query``, ``log`` and ``blame``;
:mod:`~provenance.audit.render` their table, JSON and CSV forms.
"""

from provenance.audit.db import AuditIndexError, IndexUrl, parse_index_url, sqlite_url
from provenance.audit.index import Index
from provenance.audit.models import (
    AttestationRow,
    BlameLine,
    CommitSummary,
    Hit,
    LogEntry,
    PathRow,
    RefusedLine,
    SkillRow,
    line_digest,
)
from provenance.audit.queries import Query, commit_summaries, parse_when, run_query
from provenance.audit.repository import canonical_repository

__all__ = [
    "AttestationRow",
    "AuditIndexError",
    "BlameLine",
    "CommitSummary",
    "Hit",
    "Index",
    "IndexUrl",
    "LogEntry",
    "PathRow",
    "Query",
    "RefusedLine",
    "SkillRow",
    "canonical_repository",
    "commit_summaries",
    "line_digest",
    "parse_index_url",
    "parse_when",
    "run_query",
    "sqlite_url",
]
