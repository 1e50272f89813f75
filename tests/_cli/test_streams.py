"""Streams (issue 17): reports on stdout or ``--output``, people on stderr, a document always.

``provenance verify A..B > report.txt`` and ``| less`` must show the report; every exit of a
command that was asked for JSON or SARIF leaves a machine-readable document (an error too:
``"result": "error"``, SARIF ``executionSuccessful: false``), so a pipeline never uploads an
empty or stale file; ``--output`` is written atomically and never through a link.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import AGENT_ID, Golden
from tests.helpers import GitRepo, Result, check_document


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    full = {k: v for k, v in os.environ.items() if k != "PROVENANCE_IDENTITY_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env={**full, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def _pin(g: Golden) -> list[str]:
    return ["--offline", "--trusted-root", str(g.inst.trusted_root_path)]


def _all(jobs: dict[str, Callable[[], Result]]) -> dict[str, Result]:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        return {name: future.result() for name, future in futures.items()}


def test_text_reports_go_to_stdout_and_output_writes_the_same_bytes(
    golden: Golden, tmp_path: Path
) -> None:
    """Every report command: the text report on stdout (pipeable), the same in --output."""
    g, here = golden, golden.repo.path
    first = g.repo.git("rev-list", "--max-parents=0", "HEAD")
    commands: dict[str, tuple[list[str], str]] = {
        "verify-range": (["verify", *_pin(g), f"{first}..HEAD"], "PASSED: 1 commit(s)"),
        "verify-commit": (["verify", *_pin(g), "HEAD"], f"OK   {g.commit[:12]}"),
        "show": (["show", *_pin(g), "HEAD"], f"commit {g.commit}: ok"),
        "classify": (["classify", f"{first}..HEAD"], f"ID  {g.commit[:12]}"),
        "pending": (["pending", *_pin(g), f"{first}..HEAD"], "0 commit(s) pending"),
        "prune": (["prune", "--dry-run", *_pin(g), "HEAD"], "would remove 0 line(s)"),
    }
    jobs: dict[str, Callable[[], Result]] = {}
    for name, (args, _) in commands.items():
        jobs[name] = lambda args=args: run(args, here)  # type: ignore[misc]
        out = tmp_path / f"{name}.txt"
        jobs[f"{name}-file"] = lambda args=args, out=out: run(  # type: ignore[misc]
            [*args, "--output", str(out)], here
        )
    r = _all(jobs)
    for name, (_, expected) in commands.items():
        assert r[name].returncode == 0, (name, r[name].stderr)
        assert expected in r[name].stdout, (name, r[name].stdout)
        assert expected not in r[name].stderr, name  # people's stream carries no report
        to_file = r[f"{name}-file"]
        assert to_file.returncode == 0 and to_file.stdout == "", (name, to_file.stderr)
        written = (tmp_path / f"{name}.txt").read_text()
        assert written == r[name].stdout, name


def test_an_index_report_goes_to_output_too(golden: Golden, tmp_path: Path) -> None:
    """log, query and blame write their table, JSON or CSV where --output says."""
    here = golden.repo.path
    assert run(["index", *_pin(golden)], here).returncode == 0
    out = tmp_path / "log.json"
    r = run(["log", "--format", "json", "--output", str(out)], here)
    assert r.returncode == 0 and r.stdout == "", r.stderr
    assert golden.commit in {row["commit"] for row in json.loads(out.read_text())}
    r = run(["blame", "app/auth/sso.py", "--output", str(tmp_path / "blame.txt")], here)
    assert r.returncode == 0 and golden.commit[:12] in (tmp_path / "blame.txt").read_text()


def test_every_exit_leaves_a_machine_readable_document(golden: Golden, tmp_path: Path) -> None:
    """Exit 3 (no policy), exit 2 (unknown revision) and a refusal before any verdict."""
    bare = GitRepo.init(tmp_path / "no-policy")
    bare.commit("x", {"a.py": "x = 1\n"})
    root = ["--trusted-root", str(golden.inst.trusted_root_path)]
    here = golden.repo.path
    sarif_file = tmp_path / "gate.sarif"
    sarif_file.write_text("stale report of an earlier run\n")
    r = _all(
        {
            "json3": lambda: run(["verify", *root, "--format", "json", "HEAD"], bare.path),
            "sarif3": lambda: run(
                ["verify", *root, "--format", "sarif", "--output", str(sarif_file), "HEAD~0..HEAD"],
                bare.path,
            ),
            "json2": lambda: run(["verify", *_pin(golden), "--format", "json", "nope"], here),
            "show2": lambda: run(["show", *_pin(golden), "--format", "json", "nope"], here),
            "classify2": lambda: run(["classify", "--format", "json", "HEAD"], here),
            "sarif1": lambda: run(
                ["verify", *_pin(golden), "--format", "sarif", "HEAD..HEAD"], here
            ),
        }
    )
    error = r["json3"]
    assert error.returncode == 3, error.stderr
    document = check_document("gate-report", error.json())
    assert document["result"] == "error" and document["exit_code"] == 3
    assert "no .provenance/policy.toml" in document["error"] and document["commits"] == []
    assert "error: " in error.stderr  # and the person reads it on stderr

    assert r["sarif3"].returncode == 3 and r["sarif3"].stdout == ""
    (run_,) = json.loads(sarif_file.read_text())["runs"]  # the stale file was replaced
    (invocation,) = run_["invocations"]
    assert invocation["executionSuccessful"] is False and invocation["exitCode"] == 3
    assert "policy" in invocation["toolExecutionNotifications"][0]["message"]["text"]
    assert run_["results"] == [] and run_["properties"]["result"] == "error"

    for name in ("json2", "show2", "classify2"):
        assert r[name].returncode == 2, (name, r[name].stderr)
        assert r[name].json()["result"] == "error" and r[name].json()["exit_code"] == 2, name
    check_document("gate-report", r["json2"].json())

    refused = r["sarif1"]
    assert refused.returncode == 1
    (run_,) = refused.json()["runs"]
    (result,) = run_["results"]
    assert result["ruleId"] == "range_empty"
    location = result["locations"][0]["physicalLocation"]["artifactLocation"]
    assert location["uri"] == ".provenance/policy.toml"  # every result has a location
    assert run_["invocations"][0]["executionSuccessful"] is True


@pytest.mark.parametrize("planted", ["symlink", "hardlink", "fifo"])
def test_output_is_never_written_through_a_link(
    golden: Golden, tmp_path: Path, planted: str
) -> None:
    """THREATS.md G62b for --output: a link or special file there is refused, exit 2."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    out = tmp_path / "report.json"
    {
        "symlink": lambda: out.symlink_to(victim),
        "hardlink": lambda: os.link(victim, out),
        "fifo": lambda: os.mkfifo(out),
    }[planted]()
    r = run(["verify", *_pin(golden), "--format", "json", "--output", str(out), "HEAD"],
            golden.repo.path)  # fmt: skip
    assert r.returncode == 2, r.stderr
    assert "--output" in r.stderr and victim.read_text() == "precious\n"
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


def test_output_replaces_a_plain_file_whole(golden: Golden, tmp_path: Path) -> None:
    out = tmp_path / "gate.json"
    out.write_text("x" * 100_000)
    r = run(["verify", *_pin(golden), "--format", "json", "--output", str(out), "HEAD"],
            golden.repo.path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    document: dict[str, Any] = json.loads(out.read_text())
    assert document["result"] == "passed"


def test_run_report_says_error_when_the_run_failed_before_the_agent(
    golden: Golden, tmp_path: Path
) -> None:
    """A stale --report from an earlier session must never pass for this one's."""
    report = tmp_path / "run.json"
    report.write_text(json.dumps({"stamped": [{"commit": "0" * 40}]}))
    r = run(
        ["run", "--agent", "a", "--model", "m", "--prompter", "p@example.com",
         "--prompt-digest", "sha256:" + "1" * 64, "--report", str(report),
         "--identity-token", golden.inst.issue_token(AGENT_ID), "--", "true"],
        golden.repo.path,
    )  # fmt: skip
    assert r.returncode == 2, r.stderr
    document = check_document("run-report", json.loads(report.read_text()))
    assert document["result"] == "error" and "command line" in document["error"]
