"""Bulk writes on PostgreSQL: rows travel by ``COPY`` into a temporary table, then one
statement moves them into the index.

Why: a run writes thousands of rows with ~40 columns each. As multi-row ``INSERT``
statements, psycopg spends most of the run parsing statements with tens of thousands of
placeholders, and the server most of its time planning them (issue 19 measured ~500 rows/s
with four writers). ``COPY`` is PostgreSQL's own bulk path and psycopg's ``Cursor.copy``
its client; the move from the staging table is ordinary SQLAlchemy Core (``INSERT …
SELECT … ON CONFLICT``, ``UPDATE … FROM``), so conflicts, ``RETURNING`` and row-level
security behave exactly as for the statements SQLite runs. Staging tables are the
session's own (``pg_temp``; PostgreSQL grants ``TEMPORARY`` to every role by default), are
emptied after each use and vanish at the end of the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Table, TableClause
    from sqlalchemy.engine import Connection

#: Columns of each staging table that are not columns of the target (name, SQL type).
Extra = Sequence[tuple[str, str]]


def stage(
    conn: Connection,
    target: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    extra: Extra = (),
    label: str | None = None,
) -> TableClause:
    """``rows`` (tuples in ``columns`` order, then ``extra``) in a temporary table of the
    transaction (``provenance_stage_LABEL``, default the target's name), emptied first; a
    SQLAlchemy table to select from."""
    from sqlalchemy import column, table, text

    name = f"pg_temp.provenance_stage_{label or target.name}"  # never another schema's table
    types = {c.name: c.type.compile(conn.dialect) for c in target.columns}
    wanted = [*(f'"{c}" {types[c]}' for c in columns), *(f'"{c}" {t}' for c, t in extra)]
    conn.execute(
        text(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({', '.join(wanted)}) ON COMMIT DROP")
    )
    conn.execute(text(f"TRUNCATE {name}"))
    names = [*columns, *(c for c, _ in extra)]
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur, cur.copy(f"COPY {name} ({', '.join(names)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return table(name.partition(".")[2], *(column(c) for c in names), schema="pg_temp")


__all__ = ["Extra", "stage"]
