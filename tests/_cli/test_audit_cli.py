"""The auditor's CLI as people and pipelines run it: real ``python -m provenance`` processes.

The processes are few and mostly independent (index, then query, log, blame; export, then an
offline verify in a process without network and one on a tampered pack; verify-bundle; sync),
so they start at once, four at a time, and one test checks every result: with several tests,
xdist would start the whole set again on each worker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from base64 import b64decode
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from provenance.app.gate import verify_range
from provenance.devinstance import DevInstance
from tests.audit.conftest import World, build_world
from tests.helpers import INTEROP, GitRepo, Result


def _netns() -> bool:
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0
    except FileNotFoundError:
        return False


def run(args: list[str], cwd: Path, *, no_network: bool = False) -> Result:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROVENANCE_")}
    argv = [sys.executable, "-m", "provenance", *args]
    if no_network and _netns():
        argv = ["unshare", "-rn", *argv]  # a process that has no network at all
    proc = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@dataclass
class Runs:
    """The module's world and every process result, by name."""

    world: World
    root: Path
    results: dict[str, Result]


def _first(w: World, root: Path) -> dict[str, list[str]]:
    """Processes that need nothing but the world: index and export (the others wait on them)."""
    return {
        "index": ["index", "--offline", "--trusted-root", str(w.inst.trusted_root_path)],
        "export": [
            "export",
            w.spec,
            "--out",
            str(root / "pack"),
            "--trusted-root",
            str(w.inst.trusted_root_path),
        ],
    }


def _second(w: World, root: Path) -> dict[str, list[str]]:
    """Processes reading the index or the pack."""
    pack, tampered = root / "pack", root / "tampered"
    shutil.copytree(pack, tampered)
    (tampered / "policy.toml").write_text("version = 1\n")
    pin = ["--trusted-root", str(w.inst.trusted_root_path)]
    evidence = ["verify", "--offline", *pin, "--format", "json", "--evidence"]
    return {
        "query": ["query", "--approver", "bob", "--format", "json"],
        "log": ["log", w.spec, "--format", "csv"],
        "blame": ["blame", "app/auth/sso.py"],
        "evidence": [*evidence, str(pack), w.spec],
        "tampered": [*evidence, str(tampered), w.spec],
    }


def _bundle_chain(w: World, root: Path) -> dict[str, Result]:
    if not INTEROP.exists():
        return {}
    cases = json.loads((INTEROP / "manifest.json").read_text())["cases"]
    good = next(c for c in cases if c["expect"] == "ok" and c["tlog"] == "dsse/0.0.1")
    bad = next(c for c in cases if c["expect"] == "fail")
    out = {}
    for name, case in (("bundle-ok", good), ("bundle-fail", bad)):
        bundle = INTEROP / "bundles" / case["file"]
        envelope = json.loads(bundle.read_text())["dsseEnvelope"]
        subject = json.loads(b64decode(envelope["payload"]))["subject"][0]["digest"]["sha256"]
        args = [
            "verify-bundle",
            "--bundle",
            str(bundle),
            "--certificate-identity",
            case["identity"],
            "--certificate-oidc-issuer",
            case["issuer"],
            "--trusted-root",
            str(INTEROP / f"trusted_root.{case['instance']}.json"),
            "--offline",
            "--format",
            "json",
            f"sha256:{subject}",
        ]
        out[name] = run(args, root, no_network=True)
    return out


def _sync_chain(w: World, root: Path) -> dict[str, Result]:
    remote = GitRepo.init(root / "remote.git", bare=True)
    w.repo.git("push", "-q", str(remote.path), "main")
    clone = root / "clone"
    GitRepo(root).git("clone", "-q", str(remote.path), str(clone))
    ref = "refs/notes/provenance"
    GitRepo(clone).git("fetch", "-q", str(w.repo.path), f"{ref}:{ref}")  # the stamped notes
    return {"sync": run(["sync", "origin"], clone), "remote": Result(0, remote.path.name, "")}


@pytest.fixture
def runs(tmp_path: Path, dev: DevInstance) -> Runs:
    root = tmp_path
    w = build_world(root, dev)
    results: dict[str, Result] = {}
    offline = {"evidence", "bundle-ok", "bundle-fail"}  # run where there is no network at all

    def one(item: tuple[str, list[str]]) -> tuple[str, Result]:
        name, args = item
        return name, run(args, w.repo.path, no_network=name in offline)

    with ThreadPoolExecutor(max_workers=4) as pool:
        side = [pool.submit(_bundle_chain, w, root), pool.submit(_sync_chain, w, root)]
        results.update(pool.map(one, _first(w, root).items()))
        results.update(pool.map(one, _second(w, root).items()))
        for future in side:
            results.update(future.result())
    return Runs(w, root, results)


def _index_then_query_log_blame(runs: Runs) -> None:
    r, w = runs.results, runs.world
    assert r["index"].returncode == 0, r["index"].stderr
    assert "3 indexed, 2 refused" in r["index"].stderr
    assert r["query"].returncode == 0, r["query"].stderr
    (hit,) = r["query"].json()
    assert (hit["commit"], hit["model"], hit["approvers"]) == (w.sso, "claude-opus-4", ["bob"])
    lines = r["log"].stdout.splitlines()
    assert r["log"].returncode == 0 and lines[0].startswith("commit,author,date,subject,agent")
    assert any(line.startswith(w.scim) and "approval_missing" in line for line in lines)
    assert r["blame"].returncode == 0 and "claude-code@2.1.0" in r["blame"].stdout


def _offline_evidence_gives_the_online_verdict_without_network(runs: Runs) -> None:
    r, w = runs.results, runs.world
    assert r["export"].returncode == 0, r["export"].stderr
    assert r["export"].json()["range"]["head"] == w.docs
    offline = r["evidence"]
    assert offline.returncode == 1, offline.stderr  # scim waits for an approval: refused
    data = offline.json()
    online = verify_range(w.repo.path, w.spec, w.options())
    assert [(c["commit"], c["status"], c["reasons"]) for c in data["commits"]] == [
        (c.commit, c.status, list(c.reasons)) for c in online.commits
    ]
    assert data["result"] == online.result
    assert data["evidence"]["trusted_root"]["age_days"] is not None
    assert "trusted root sha256:" in offline.stderr and "days ago" in offline.stderr


def _a_tampered_pack_is_refused_with_its_reason(runs: Runs) -> None:
    tampered = runs.results["tampered"]
    assert tampered.returncode == 1
    assert tampered.json()["reasons"] == ["evidence_digest_mismatch"]
    assert "evidence_digest_mismatch" in tampered.stderr


def _verify_bundle_exit_codes_follow_the_conformance_protocol(runs: Runs) -> None:
    if not INTEROP.exists():
        return  # the interop bundles live outside a plain clone
    ok, fail = runs.results["bundle-ok"], runs.results["bundle-fail"]
    assert ok.returncode == 0, ok.stderr
    assert ok.json()["result"] == "passed"
    assert fail.returncode == 1
    assert fail.json()["reasons"][0] in {"tlog_mismatch", "signature_invalid"}


def _sync_pushes_the_notes_to_the_remote(runs: Runs) -> None:
    r, w = runs.results, runs.world
    assert r["sync"].returncode == 0, r["sync"].stderr
    assert "pushed" in r["sync"].stderr
    remote = GitRepo(runs.root / r["remote"].stdout)
    ref = "refs/notes/provenance"
    assert remote.git("rev-parse", ref) == w.repo.git("rev-parse", ref)


CHECKS: list[Callable[[Runs], None]] = [
    _index_then_query_log_blame,
    _offline_evidence_gives_the_online_verdict_without_network,
    _a_tampered_pack_is_refused_with_its_reason,
    _verify_bundle_exit_codes_follow_the_conformance_protocol,
    _sync_pushes_the_notes_to_the_remote,
]


def test_the_auditors_commands(runs: Runs) -> None:
    """Every check runs, and every failure is reported."""
    failures = []
    for check in CHECKS:
        try:
            check(runs)
        except AssertionError as e:
            failures.append(f"{check.__name__}: {e}")
    assert not failures, "\n".join(failures)
