"""Many writers at once: no lost rows, no duplicates, no deadlock; a killed writer loses
nothing already committed and leaves no half run visible (issue 19). Both backends.

Writers are forked processes (real concurrency, separate connections), started together.
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from provenance.app.audit import build_index, query
from provenance.audit import AttestationRow, Index, IndexUrl, PathRow, Query
from tests.audit.conftest import World, clone_world, real_rows

REPOS = [f"github.com/org/r{n}" for n in range(4)]
WRITERS = 8


def _repos_of(writer: int) -> list[str]:
    """Two repositories per writer; each repository gets four writers."""
    return [REPOS[writer % 4], REPOS[(writer + 1) % 4]]


def _rows(templates: list[AttestationRow], repo: str, writer: int) -> list[AttestationRow]:
    """80 rows for ``repo``, half of them also written by the writer before (same lines)."""
    out = []
    for k in range(writer * 40, writer * 40 + 80):
        digest = hashlib.sha256(f"{repo}|{k}".encode()).hexdigest()
        paths = (PathRow(path=f"svc/{k % 13}/w{writer}.py", status="M", rules=("r1", "r2")),)
        out.append(templates[k % len(templates)].model_copy(
            update={"line_digest": digest, "commit": hashlib.sha1(digest.encode()).hexdigest(),
                    "paths": paths}))  # fmt: skip
    return out


def _run_all(target: Callable[..., None], args: list[tuple[Any, ...]]) -> list[int | None]:
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=target, args=a) for a in args]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    return [p.exitcode for p in procs]


def _writer(db: IndexUrl, templates: list[AttestationRow], writer: int) -> None:
    with Index.open(db) as index:
        for repo in _repos_of(writer):
            with index.writing(repo) as w:
                rows = _rows(templates, repo, writer)
                for i in range(0, len(rows), 20):  # several statements inside one run
                    w.add(rows[i : i + 20])
                w.set_standings([(r.commit, "ok", (), ("bob",), []) for r in rows])


def _count(db: IndexUrl, sql: str) -> int:
    with Index.open(db, create=False) as index, index.reading() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def test_eight_writers_two_repositories_each_keep_every_row(
    world: World, index_db: IndexUrl
) -> None:
    templates = real_rows(world)
    with Index.open(index_db):
        pass  # the SQLite cache exists before the writers race to create it
    codes = _run_all(_writer, [(index_db, templates, w) for w in range(WRITERS)])
    assert codes == [0] * WRITERS  # no deadlock, no error
    expected: dict[str, set[str]] = {r: set() for r in REPOS}
    for w in range(WRITERS):
        for repo in _repos_of(w):
            expected[repo] |= {r.line_digest for r in _rows(templates, repo, w)}
    with Index.open(index_db, create=False) as index:
        for repo in REPOS:
            counts = index.counts(repo)
            assert counts["attestations"] == counts["commits"] == len(expected[repo]) > 160
    total = sum(len(v) for v in expected.values())
    assert _count(index_db, "SELECT count(*) FROM attestations") == total
    assert _count(index_db, "SELECT count(*) FROM att_paths") == total
    assert _count(index_db, "SELECT count(*) FROM att_rules") == 2 * total
    assert _count(index_db, "SELECT count(*) FROM lines") == total
    assert _count(index_db, "SELECT count(DISTINCT path) FROM path_names") == _count(
        index_db, "SELECT count(*) FROM path_names"
    )


def _index_job(db: IndexUrl, clones: list[Path], options: Any, writer: int) -> None:
    for n in (writer % 2, (writer + 1) % 2):
        build_index(clones[n], options, db=db, repository=REPOS[n])


def test_index_jobs_of_two_repositories_at_once_agree_with_one_job(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    """Eight `provenance index` runs, four per repository, at once: as if run one by one."""
    clones = []
    for n in range(2):
        (tmp_path / str(n)).mkdir()
        clones.append(clone_world(world, tmp_path / str(n)).repo.path)
    with Index.open(index_db):
        pass
    codes = _run_all(_index_job, [(index_db, clones, world.options(), w) for w in range(8)])
    assert codes == [0] * 8
    with Index.open(index_db, create=False) as index:
        for repo in REPOS[:2]:
            assert index.counts(repo) == {"attestations": 3, "refused_lines": 2, "commits": 2}
    hits = query(None, Query(), db=index_db).items
    assert sorted((h.repository, h.commit, h.status) for h in hits) == sorted(
        (repo, c, s) for repo in REPOS[:2] for c, s in ((world.sso, "ok"), (world.scim, "refused"))
    )


def _half_run(db: IndexUrl, templates: list[AttestationRow], marker: Path) -> None:
    """Writes half a run of r0, says so, and waits to be killed."""
    with Index.open(db) as index, index.writing(REPOS[0]) as w:
        w.add(_rows(templates, REPOS[0], 5))
        w.set_settings({"notes_tip": "half"})
        marker.write_text("written")
        time.sleep(120)


def test_a_writer_killed_mid_run_loses_nothing_committed(
    world: World, tmp_path: Path, index_db: IndexUrl
) -> None:
    templates = real_rows(world)
    with Index.open(index_db) as index:
        for repo in REPOS[:2]:
            with index.writing(repo) as w:
                w.add(_rows(templates, repo, 0))
                w.set_settings({"notes_tip": "whole"})
    before = {r: _hits(index_db, r) for r in REPOS[:2]}
    marker = tmp_path / "marker"
    proc = mp.get_context("fork").Process(target=_half_run, args=(index_db, templates, marker))
    proc.start()
    try:
        _wait_for(marker, proc)
        assert _hits(index_db, REPOS[0]) == before[REPOS[0]]  # readers never see half a run
        os.kill(proc.pid or 0, signal.SIGKILL)
        proc.join(timeout=30)
    finally:
        if proc.is_alive():
            proc.kill()
    assert proc.exitcode == -signal.SIGKILL
    for repo in REPOS[:2]:
        assert _hits(index_db, repo) == before[repo]
    with Index.open(index_db) as index:
        assert index.settings(REPOS[0])["notes_tip"] == "whole"
        with index.writing(REPOS[0]) as w:  # the dead run's lock is gone
            assert w.add(_rows(templates, REPOS[0], 1)) == 40
        assert index.counts(REPOS[0])["attestations"] == 120


def _hits(db: IndexUrl, repo: str) -> list[tuple[str, str]]:
    return sorted(
        (h.commit, h.attestation) for h in query(None, Query(repository=repo), db=db).items
    )


def _wait_for(marker: Path, proc: Any) -> None:
    deadline = time.monotonic() + 60
    while not marker.exists():
        if not proc.is_alive() or time.monotonic() > deadline:
            pytest.fail(f"the writer did not reach the middle of its run (exit {proc.exitcode})")
        time.sleep(0.05)
