"""Audit stage: an index of verified attestations and the queries over it.

:mod:`~provenance.audit.index` is the SQLite index (rows only from lines that verified on
ingest; each commit's standing decided by the gate's own ``standing``);
:mod:`~provenance.audit.ingest` turns stored lines into rows; :mod:`~provenance.audit.models`
holds the rows and answers (pydantic at the boundary); :mod:`~provenance.audit.queries` the
queries behind ``query``, ``log`` and ``blame``; :mod:`~provenance.audit.render` their
table, JSON and CSV forms.
"""

from provenance.audit.index import AuditIndexError, Index
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

__all__ = [
    "AttestationRow",
    "AuditIndexError",
    "BlameLine",
    "CommitSummary",
    "Hit",
    "Index",
    "LogEntry",
    "PathRow",
    "Query",
    "RefusedLine",
    "SkillRow",
    "commit_summaries",
    "line_digest",
    "parse_when",
    "run_query",
]
