"""The organisation index: many repositories, each row carrying its repository.

Revision ID: 0001
Revises: (none; an index written before versioned migrations is a cache and is rebuilt)
Create Date: 2026-12-07

Frozen: later revisions change the schema with their own operations; this module stays as it
was released (``provenance/audit/schema.py`` describes the current schema).

On PostgreSQL it also turns on row-level security: everyone who may read reads every row;
a write must pass ``provenance_may_write(repo)``, true when ``index_writers`` is empty (no
per-repository roles configured) or when the current role is a member of the writer role
registered for that repository. The functions name their tables with the schema they were
created in and pin ``search_path``: a role must not shadow ``index_writers`` with a
temporary table of its own and so grant itself another repository.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_REPOSITORY_TABLES = (
    "repositories",
    "notes",
    "lines",
    "attestations",
    "att_paths",
    "att_rules",
    "skills",
    "commits",
)


def _repo() -> sa.Column[int]:
    return sa.Column("repo_id", sa.Integer, nullable=False)


def _tables() -> None:
    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        *(sa.Column(c, sa.Text) for c in ("policy_digest", "keys_digest", "trust_root_digest")),
        *(sa.Column(c, sa.Text) for c in ("notes_ref", "policy_source", "notes_tip")),
        sa.Column("indexed_at", sa.Text),
    )
    op.create_table(
        "index_writers",
        sa.Column("repository", sa.Text, primary_key=True),
        sa.Column("role", sa.Text, nullable=False),
    )
    op.create_table(
        "notes",
        _repo(),
        sa.Column("commit_sha", sa.Text, nullable=False),
        sa.Column("blob", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("repo_id", "commit_sha"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "lines",
        _repo(),
        sa.Column("commit_sha", sa.Text, nullable=False),
        sa.Column("line_digest", sa.Text, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("repo_id", "commit_sha", "line_digest"),
        sqlite_with_rowid=False,
    )
    _attestations()
    op.create_table(
        "path_names",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("path", sa.Text, nullable=False, unique=True),
    )
    _filters()
    op.create_table(
        "commits",
        _repo(),
        sa.Column("commit_sha", sa.Text, nullable=False),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("status", "reasons", "approvers")),
        sa.PrimaryKeyConstraint("repo_id", "commit_sha"),
        sqlite_with_rowid=False,
    )


def _attestations() -> None:
    text_columns = ("signer", "signer_key", "issuer", "signed_time", "claimed_time")
    person_columns = ("approver", "approver_key")
    agent_columns = ("agent", "agent_key", "agent_version", "model", "model_key", "session_id")
    more = ("prompter", "prompter_key", "claimed_repository")
    listed = ("skills_text", "paths_text", "rules_text")
    op.create_table(
        "attestations",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("repo_id", sa.Integer, sa.ForeignKey("repositories.id"), nullable=False),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("line_digest", "commit_sha", "kind")),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("payload_digest", "format")),
        *(sa.Column(c, sa.Text) for c in text_columns),
        sa.Column("time_ts", sa.Float),
        sa.Column("verified_at", sa.Text, nullable=False),
        sa.Column("trust_root_digest", sa.Text),
        sa.Column("policy_digest", sa.Text, nullable=False),
        sa.Column("change_signer", sa.Boolean, nullable=False),
        *(sa.Column(c, sa.Text) for c in person_columns),
        sa.Column("predicate_type", sa.Text, nullable=False),
        *(sa.Column(c, sa.Text) for c in (*agent_columns, *more)),
        sa.Column("identity_related", sa.Boolean),
        *(sa.Column(c, sa.Text) for c in ("decision", "approves", "comment")),
        sa.Column("counted", sa.Boolean, nullable=False, server_default=sa.text("false")),
        *(sa.Column(c, sa.Text, nullable=False, server_default="") for c in listed),
        sa.Column("status", sa.Text, nullable=False, server_default="unknown"),
        *(
            sa.Column(c, sa.Text, nullable=False, server_default="")
            for c in ("reasons", "approvers")
        ),
        sa.UniqueConstraint("repo_id", "commit_sha", "line_digest", name="att_line"),
    )
    for name, columns in (
        ("att_agent", ["kind", "agent_key"]),
        ("att_model", ["kind", "model_key"]),
        ("att_prompter", ["kind", "prompter_key"]),
        ("att_time", ["kind", "time_ts"]),
        ("att_approver", ["approver_key"]),
        ("att_signer", ["signer_key"]),
    ):
        op.create_index(name, "attestations", columns)


def _filters() -> None:
    op.create_table(
        "att_paths",
        _repo(),
        sa.Column("att_id", _ID, nullable=False),
        sa.Column("path_id", _ID, nullable=False),
        sa.Column("old_path_id", _ID),
        sa.Column("status", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("att_id", "path_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("att_paths_path", "att_paths", ["path_id", "att_id"])
    op.create_index("att_paths_old", "att_paths", ["old_path_id", "att_id"])
    op.create_table(
        "att_rules",
        _repo(),
        sa.Column("rule", sa.Text, nullable=False),
        sa.Column("att_id", _ID, nullable=False),
        sa.Column("path_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint("rule", "att_id", "path_id"),
        sqlite_with_rowid=False,
    )
    op.create_index("att_rules_att", "att_rules", ["att_id", "path_id"])
    op.create_table(
        "skills",
        _repo(),
        sa.Column("att_id", _ID, nullable=False),
        *(sa.Column(c, sa.Text, nullable=False) for c in ("name", "name_key")),
        *(sa.Column(c, sa.Text) for c in ("uri", "version", "digest")),
    )
    op.create_index("skills_name", "skills", ["name_key", "att_id"])
    op.create_index("skills_digest", "skills", ["digest", "att_id"])
    op.create_index("skills_att", "skills", ["att_id"])


def _row_security() -> None:
    """PostgreSQL only: who may write which repository's rows (module docstring)."""
    schema = op.get_bind().execute(sa.text("SELECT current_schema()")).scalar_one()
    s = '"' + str(schema).replace('"', '""') + '"'
    may_write = f"""
        SELECT NOT EXISTS (SELECT 1 FROM {s}.index_writers)
            OR EXISTS (SELECT 1 FROM {s}.index_writers w JOIN {s}.repositories r
                       ON r.name = w.repository JOIN pg_catalog.pg_roles g ON g.rolname = w.role
                       WHERE r.id = repo AND pg_catalog.pg_has_role(g.oid, 'MEMBER'))"""  # noqa: S608
    may_write_name = f"""
        SELECT NOT EXISTS (SELECT 1 FROM {s}.index_writers)
            OR EXISTS (SELECT 1 FROM {s}.index_writers w
                       JOIN pg_catalog.pg_roles g ON g.rolname = w.role
                       WHERE w.repository = repo AND pg_catalog.pg_has_role(g.oid, 'MEMBER'))"""  # noqa: S608
    for name, argument, body in (
        ("provenance_may_write", "repo integer", may_write),
        ("provenance_may_write_name", "repo text", may_write_name),
    ):
        op.execute(
            f"CREATE FUNCTION {s}.{name}({argument}) RETURNS boolean LANGUAGE sql STABLE"
            f" SET search_path = pg_catalog, pg_temp AS $fn${body}$fn$"
        )
    for table in _REPOSITORY_TABLES:
        check = f"{s}.provenance_may_write_name(name)" if table == "repositories" else (
            f"{s}.provenance_may_write(repo_id)"
        )  # fmt: skip
        op.execute(f"ALTER TABLE {s}.{table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY provenance_read ON {s}.{table} FOR SELECT USING (true)")
        op.execute(
            f"CREATE POLICY provenance_insert ON {s}.{table} FOR INSERT WITH CHECK ({check})"
        )
        op.execute(
            f"CREATE POLICY provenance_update ON {s}.{table} FOR UPDATE"
            f" USING ({check}) WITH CHECK ({check})"
        )
        op.execute(f"CREATE POLICY provenance_delete ON {s}.{table} FOR DELETE USING ({check})")


def upgrade() -> None:
    """Create every table and index; on PostgreSQL, row-level security too."""
    _tables()
    if op.get_bind().dialect.name == "postgresql":
        _row_security()


def downgrade() -> None:
    """Drop everything this revision made."""
    for table in ("commits", "skills", "att_rules", "att_paths", "path_names", "attestations"):
        op.drop_table(table)
    for table in ("lines", "notes", "index_writers", "repositories"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS provenance_may_write(integer)")
        op.execute("DROP FUNCTION IF EXISTS provenance_may_write_name(text)")
