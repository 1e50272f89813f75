"""The bulk write path (``COPY`` through staging tables on PostgreSQL, multi-row statements
on SQLite) keeps the index's rules on both backends: a line given twice in one run is one
row, the last standing given for a commit wins, and only the counted approval lines are
marked counted (issue 19: PostgreSQL writes went through ``COPY`` for speed)."""

from __future__ import annotations

from sqlalchemy import text

from provenance.audit import Index, IndexUrl, Query, run_query
from tests.audit.conftest import World, real_rows


def _scalar(index: Index, sql: str) -> int:
    with index.reading() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_a_line_given_twice_in_one_run_is_one_row(world: World, index_db: IndexUrl) -> None:
    """THREATS.md G42-style duplicates: the same verified line twice, in one statement and
    in a second one, leaves one attestation and one path row per path."""
    rows = real_rows(world)
    with Index.open(index_db) as index:
        with index.writing("github.com/org/app") as w:
            assert w.add([*rows, *rows]) == len(rows)
            assert w.add(rows) == 0
        assert index.counts()["attestations"] == len(rows)
        paths = sum(len({p.path for p in r.paths}) for r in rows)
        assert _scalar(index, "SELECT count(*) FROM att_paths") == paths
        assert _scalar(index, "SELECT count(*) FROM lines") == len(rows)


def test_the_last_standing_wins_and_only_counted_lines_count(
    world: World, index_db: IndexUrl
) -> None:
    """A commit decided twice in one call keeps the last decision, on its row and in
    ``commits``; ``counted`` is set on exactly the named approval lines, reset otherwise."""
    rows = real_rows(world)
    approval = next(r for r in rows if r.kind == "approval")
    with Index.open(index_db) as index:
        with index.writing("github.com/org/app") as w:
            w.add(rows)
            w.set_standings([
                (world.sso, "refused", ("approval_missing",), (), []),
                (world.sso, "ok", (), ("bob",), [approval.line_digest]),
                (world.scim, "refused", ("approval_missing",), (), []),
            ])  # fmt: skip
        hits = {h.commit: h for h in run_query(index, Query())}
        assert (hits[world.sso].status, hits[world.sso].approvers) == ("ok", ("bob",))
        assert hits[world.scim].reasons == ("approval_missing",)
        assert [h.commit for h in run_query(index, Query(approver="bob"))] == [world.sso]
        with index.writing("github.com/org/app") as w:
            w.set_standings([(world.sso, "refused", ("approval_missing",), (), [])])
        assert run_query(index, Query(approver="bob")) == []
        assert _scalar(index, "SELECT count(*) FROM attestations WHERE counted") == 0
        assert _scalar(index, "SELECT count(*) FROM commits") == 2
