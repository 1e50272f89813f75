"""The index's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Every row carries its repository (``repo_id``, a key of ``repositories``, whose ``name`` is
the canonical repository id); ``attestations`` rows also carry the policy digest and the
trusted root's digest they were verified with. ``repositories`` holds each repository's
index settings (policy, keys, root, notes ref), so each is decided and rebuilt on its own.
``path_names`` is the one table shared by repositories: a dictionary of path strings, only
ever added to. ``index_writers`` names the role allowed to write each repository's rows
(PostgreSQL's row-level security; empty means any role with the table privileges).

This module describes the *current* schema for queries and writes; the versioned history
that creates it lives in ``migrations/versions`` (a test compares the two on both backends).
Columns ending in ``_key`` hold the case-folded form of the one beside them: identities,
agents and models compare case-insensitively, the same way on both backends.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)

#: The Alembic revision this code reads and writes (``migrations/versions``).
SCHEMA_HEAD = "0002"

metadata = MetaData()
_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite: INTEGER PRIMARY KEY is the rowid

repositories = Table(
    "repositories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("policy_digest", Text),
    Column("keys_digest", Text),
    Column("trust_root_digest", Text),
    Column("notes_ref", Text),
    Column("policy_source", Text),
    Column("notes_tip", Text),
    Column("indexed_at", Text),
    Column("approvals_required", Text),  # the policy's [approvals] required (0002)
)

index_writers = Table(
    "index_writers",
    metadata,
    Column("repository", Text, primary_key=True),
    Column("role", Text, nullable=False),
)

notes = Table(
    "notes",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("commit_sha", Text, nullable=False),
    Column("blob", Text, nullable=False),
    PrimaryKeyConstraint("repo_id", "commit_sha"),
    sqlite_with_rowid=False,
)

lines = Table(
    "lines",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("commit_sha", Text, nullable=False),
    Column("line_digest", Text, nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("reasons", Text, nullable=False),
    PrimaryKeyConstraint("repo_id", "commit_sha", "line_digest"),
    sqlite_with_rowid=False,
)

attestations = Table(
    "attestations",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("repo_id", Integer, ForeignKey("repositories.id"), nullable=False),
    Column("line_digest", Text, nullable=False),
    Column("commit_sha", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("payload_digest", Text, nullable=False),
    Column("format", Text, nullable=False),
    Column("signer", Text),
    Column("signer_key", Text),
    Column("issuer", Text),
    Column("signed_time", Text),
    Column("claimed_time", Text),
    Column("time_ts", Float),
    Column("verified_at", Text, nullable=False),
    Column("trust_root_digest", Text),
    Column("policy_digest", Text, nullable=False),
    Column("change_signer", Boolean, nullable=False),
    Column("approver", Text),
    Column("approver_key", Text),
    Column("predicate_type", Text, nullable=False),
    Column("agent", Text),
    Column("agent_key", Text),
    Column("agent_version", Text),
    Column("model", Text),
    Column("model_key", Text),
    Column("session_id", Text),
    Column("prompter", Text),
    Column("prompter_key", Text),
    Column("claimed_repository", Text),
    Column("identity_related", Boolean),
    Column("decision", Text),
    Column("approves", Text),
    Column("comment", Text),
    Column("counted", Boolean, nullable=False, server_default=text("false")),
    Column("skills_text", Text, nullable=False, server_default=""),
    Column("paths_text", Text, nullable=False, server_default=""),
    Column("rules_text", Text, nullable=False, server_default=""),
    Column("status", Text, nullable=False, server_default="unknown"),
    Column("reasons", Text, nullable=False, server_default=""),
    Column("approvers", Text, nullable=False, server_default=""),
    Column("signed_prompter", Text),  # who signed the prompt attestation (0002)
    UniqueConstraint("repo_id", "commit_sha", "line_digest", name="att_line"),
    Index("att_agent", "kind", "agent_key"),
    Index("att_model", "kind", "model_key"),
    Index("att_prompter", "kind", "prompter_key"),
    Index("att_time", "kind", "time_ts"),
    Index("att_approver", "approver_key"),
    Index("att_signer", "signer_key"),
)

path_names = Table(
    "path_names",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False, unique=True),
)

att_paths = Table(
    "att_paths",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("att_id", _ID, nullable=False),
    Column("path_id", _ID, nullable=False),
    Column("old_path_id", _ID),
    Column("status", Text, nullable=False),
    PrimaryKeyConstraint("att_id", "path_id"),
    Index("att_paths_path", "path_id", "att_id"),
    Index("att_paths_old", "old_path_id", "att_id"),
    sqlite_with_rowid=False,
)

att_rules = Table(
    "att_rules",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("rule", Text, nullable=False),
    Column("att_id", _ID, nullable=False),
    Column("path_id", _ID, nullable=False),
    PrimaryKeyConstraint("rule", "att_id", "path_id"),
    Index("att_rules_att", "att_id", "path_id"),
    sqlite_with_rowid=False,
)

skills = Table(
    "skills",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("att_id", _ID, nullable=False),
    Column("name", Text, nullable=False),
    Column("name_key", Text, nullable=False),
    Column("uri", Text),
    Column("version", Text),
    Column("digest", Text),
    Index("skills_name", "name_key", "att_id"),
    Index("skills_digest", "digest", "att_id"),
    Index("skills_att", "att_id"),
)

commits = Table(
    "commits",
    metadata,
    Column("repo_id", Integer, nullable=False),
    Column("commit_sha", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("approvers", Text, nullable=False),
    PrimaryKeyConstraint("repo_id", "commit_sha"),
    sqlite_with_rowid=False,
)

#: Tables whose rows belong to one repository (row-level security on PostgreSQL).
REPOSITORY_TABLES = (
    "repositories",
    "notes",
    "lines",
    "attestations",
    "att_paths",
    "att_rules",
    "skills",
    "commits",
)
#: Every table of the index, in the order a new schema creates them.
ALL_TABLES = (*REPOSITORY_TABLES[:4], "path_names", *REPOSITORY_TABLES[4:], "index_writers")

__all__ = [
    "ALL_TABLES",
    "REPOSITORY_TABLES",
    "SCHEMA_HEAD",
    "att_paths",
    "att_rules",
    "attestations",
    "commits",
    "index_writers",
    "lines",
    "metadata",
    "notes",
    "path_names",
    "repositories",
    "skills",
]
