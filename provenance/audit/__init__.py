"""Audit stage: an index of verified attestations and the queries over it."""

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
