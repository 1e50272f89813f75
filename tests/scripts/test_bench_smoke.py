"""Every ``scripts/bench`` mode runs at a small size, so a benchmark cannot rot unseen.

The bench is a script, not a test: it reports ratios and is never judged by time here. What
this checks is that each mode still runs end to end against the current library (issue 14:
``--audit`` crashed for months after the evidence-pack fix changed what it calls). A new mode
gets a row in ``MODES``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench.py"

#: (mode name, arguments at a small size, a line every healthy run prints)
MODES = [
    ("gate", ["--commits", "20", "--cli-sample", "1"], "provenance verify (gate)"),
    ("links", ["--links", "0.5", "--commits", "30"], "linked / none ="),
    (
        "audit",
        ["--audit", "--audit-rows", "200", "--audit-commits", "10", "--audit-history-commits", "0"],
        "same verdict: True",
    ),
    (
        "audit-history",
        ["--audit", "--audit-rows", "200", "--audit-commits", "0", "--audit-history-commits", "40"],
        "real lobsters changes",
    ),
]


@pytest.mark.parametrize(("args", "expect"), [m[1:] for m in MODES], ids=[m[0] for m in MODES])
def test_bench_mode_runs(args: list[str], expect: str, tmp_path: Path) -> None:
    """The mode exits 0 and prints its summary line."""
    proc = subprocess.run(
        [sys.executable, str(BENCH), *args],
        cwd=tmp_path,
        env={**os.environ, "TMPDIR": str(tmp_path)},  # the bench's scratch goes with the test
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert expect in proc.stdout, proc.stdout[-3000:]


def test_bench_audit_runs_on_postgresql(postgres: str, tmp_path: Path) -> None:
    """``--audit --db postgresql://...`` (issue 19's figures) fills an empty database with
    several writers and times every query kind, at a small size."""
    from tests.postgres import create_database, drop_database

    url = create_database(postgres)
    try:
        proc = subprocess.run(
            [sys.executable, str(BENCH), "--audit", "--db", url, "--audit-rows", "400",
             "--audit-repos", "8", "--audit-writers", "4", "--audit-commits", "0",
             "--audit-history-commits", "0"],
            cwd=tmp_path, env={**os.environ, "TMPDIR": str(tmp_path)},
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
    finally:
        drop_database(url)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "index (postgresql): 400 change attestations" in proc.stdout, proc.stdout[-3000:]
    assert "8 repositories, 4 writers" in proc.stdout, proc.stdout[-3000:]
    assert "slowest query" in proc.stdout, proc.stdout[-3000:]
