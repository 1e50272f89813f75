"""The range CLI contract: ``classify`` and ``verify BASE..HEAD`` as a release pipeline runs them.

Exit codes 0 passed, 1 refused (range errors included, with their reason code), 2 usage error,
3 could not decide; JSON and SARIF on stdout; a VSA file, signed keylessly on request; no
progress noise when stderr is not a terminal.

Each invocation is a real ``python -m provenance`` process. They are independent, so the module
starts them all at once (one per core) and each test checks the ones it is about.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from provenance.devinstance import DevInstance
from provenance.gitio import Git, read_commit
from provenance.verify.formats import VSA_PREDICATE_TYPE
from provenance.verify.generic import verify_dsse_bundle
from tests.conftest import AGENT_ID, Golden, make_golden
from tests.helpers import Result, check_document

GATE_ID = "release-gate@example.com"
SSO_FIX = "\ndef verify(token):\n    return jwt.decode(token, key, algorithms=['RS256'])\n"
NEUTRAL = "".join(f"def add_{i}(a, b):\n    return a + b + {i}\n" for i in range(8))


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "PROVENANCE_IDENTITY_TOKEN"}


def run(args: list[str], cwd: Path) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "provenance", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def run_on_terminal(args: list[str], cwd: Path) -> Result:
    """As :func:`run`, with stderr on a pseudo-terminal (what a person at a shell has)."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "provenance", *args],
            cwd=cwd,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=follower,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        out = proc.communicate()[0]
    finally:
        os.close(leader)
    return Result(proc.returncode, out.decode(), seen.decode(errors="replace"))


@dataclass
class Site:
    """A golden repository with a passing range (base..good) and a refused one (base..bad)."""

    golden: Golden
    base: str
    docs: str
    auth: str
    good: str
    renamed: str
    bad: str
    orphan: str

    @property
    def path(self) -> Path:
        return self.golden.repo.path

    @property
    def inst(self) -> DevInstance:
        return self.golden.inst

    @property
    def offline(self) -> list[str]:
        return ["--offline", "--trusted-root", str(self.inst.trusted_root_path)]

    def digest(self, sha: str) -> str:
        return read_commit(Git.discover(self.path), sha).digest

    def tree(self, sha: str) -> str:
        return self.golden.repo.git("rev-parse", f"{sha}^{{tree}}")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, dev: DevInstance) -> Site:
    golden = make_golden(tmp_path_factory.mktemp("gate-cli"), dev)
    repo = golden.repo
    base = golden.commit
    docs = repo.commit("docs", {"docs/guide.md": "# Guide\n"})
    sso = (repo.path / "app/auth/sso.py").read_text()
    auth = repo.commit("harden sso", {"app/auth/sso.py": sso + SSO_FIX})
    golden.stamp(auth)
    good = repo.commit("readme", {"README.md": "app\nv2\n"})
    repo.commit("helpers", {"app/auth/mathutil.py": NEUTRAL})
    golden.stamp("HEAD")
    (repo.path / "lib").mkdir()
    repo.git("mv", "app/auth/mathutil.py", "lib/mathutil.py")
    renamed = repo.commit("move helpers", {"lib/mathutil.py": NEUTRAL + "X = 1\n"})
    bad = repo.commit("unattested", {"app/auth/sso.py": "# rewritten\n"})
    orphan = repo.git("commit-tree", repo.git("mktree", input=b""), "-m", "orphan")
    return Site(golden, base, docs, auth, good, renamed, bad, orphan)


@dataclass
class Calls:
    """Every CLI result of the module, by name, plus the files the runs wrote."""

    results: dict[str, Result]
    files: dict[str, Path]

    def __getitem__(self, name: str) -> Result:
        return self.results[name]


@pytest.fixture(scope="module")
def calls(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Calls:
    tmp = tmp_path_factory.mktemp("gate-cli-runs")
    files = {
        "vsa_passed": tmp / "passed.vsa.json",
        "vsa_failed": tmp / "failed.vsa.json",
        "vsa_signed": tmp / "vsa.sigstore.json",
        "token": tmp / "token.jwt",
        "shallow": tmp / "shallow",
        "no-checkout": tmp / "no-checkout",
        "bare": tmp / "bare.git",
    }
    files["token"].write_text(site.inst.issue_token(GATE_ID))
    for kind in ("no-checkout", "bare"):
        subprocess.run(
            ["git", "clone", "-q", f"--{kind}", str(site.path), str(files[kind])], check=True
        )
    subprocess.run(
        ["git", "clone", "-q", "--depth=2", f"file://{site.path}", str(files["shallow"])],
        check=True,
    )
    good, bad = f"{site.base}..{site.good}", f"{site.base}..{site.bad}"
    verify = ["verify", *site.offline]
    token = f"@{files['token']}"
    signing = [
        "verify",
        "--trust-config",
        str(site.inst.trust_config_path),
        "--identity-token",
        token,
    ]
    jobs: dict[str, Callable[[], Result]] = {
        "classify": lambda: run(["classify", "--format", "json", bad], site.path),
        "classify-no-checkout": lambda: run(
            ["classify", "--repo", str(files["no-checkout"]), "--format", "json", bad], tmp
        ),
        "classify-bare": lambda: run(
            ["classify", "--repo", str(files["bare"]), "--format", "json", bad], tmp
        ),
        "classify-symmetric": lambda: run(["classify", f"{site.base}...{site.good}"], site.path),
        "pass": lambda: run(
            [*verify, "--format", "json", "--vsa", str(files["vsa_passed"]), good], site.path
        ),
        "refused": lambda: run([*verify, "--format", "json", bad], site.path),
        "sarif": lambda: run(
            [*verify, "--format", "sarif", "--vsa", str(files["vsa_failed"]), bad], site.path
        ),
        "range_empty": lambda: run(
            [*verify, "--format", "json", f"{site.base}..{site.base}"], site.path
        ),
        "base_not_ancestor": lambda: run(
            [*verify, "--format", "json", f"{site.good}..{site.base}"], site.path
        ),
        "unrelated_histories": lambda: run(
            [*verify, "--format", "json", f"{site.base}..{site.orphan}"], site.path
        ),
        "usage-unknown-rev": lambda: run([*verify, f"no-such-rev..{site.good}"], site.path),
        "usage-override": lambda: run([*verify, "--allow-unattested", good], site.path),
        "shallow": lambda: run([*verify, "HEAD~1..HEAD"], files["shallow"]),
        "signed-vsa": lambda: run([*signing, "--vsa", str(files["vsa_signed"]), good], site.path),
        "terminal": lambda: run_on_terminal([*verify, bad], site.path),
    }
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        futures = {name: pool.submit(job) for name, job in jobs.items()}
        results = {name: future.result() for name, future in futures.items()}
    return Calls(results, files)


def _no_progress_and_no_traceback(result: Result) -> None:
    """stderr is a pipe here: progress lines would only be noise in CI logs."""
    assert "classified " not in result.stderr and "verified " not in result.stderr
    assert "Traceback" not in result.stderr


# --- classify ------------------------------------------------------------------------------------


def _check_classify_shape(data: dict[str, Any], site: Site) -> None:
    assert set(data) == {"range", "rules_source", "ruleset_digest", "commits"}
    assert data["range"] == {"base": site.base, "head": site.bad, "head_tree": site.tree(site.bad)}
    assert data["rules_source"].startswith(site.base[:12])
    assert data["ruleset_digest"].startswith("sha256:")
    commits = {c["commit"]: c for c in data["commits"]}
    assert next(iter(commits)) == site.docs and list(commits)[-1] == site.bad
    assert len(commits) == 6
    for entry in data["commits"]:
        assert set(entry) == {"commit", "identity_related", "paths"}
        assert entry["identity_related"] == bool(entry["paths"])
        for path in entry["paths"]:
            assert {"path", "rules", "findings"} <= set(path) <= {
                "path", "old_path", "rules", "findings",
            }  # fmt: skip
            assert path["rules"] and path["rules"] == sorted(path["rules"])
            # each rule that fired says where (issue 16): path and lines, or the path alone
            assert {f["rule"] for f in path["findings"]} == set(path["rules"])
    assert commits[site.docs] == {"commit": site.docs, "identity_related": False, "paths": []}
    assert commits[site.good]["identity_related"] is False
    (auth,) = commits[site.auth]["paths"]
    assert auth["path"] == "app/auth/sso.py" and "path.authn" in auth["rules"]
    (moved,) = commits[site.renamed]["paths"]
    assert moved == {"path": "lib/mathutil.py", "old_path": "app/auth/mathutil.py",
                     "rules": ["path.authn"],
                     "findings": [{"rule": "path.authn", "path": "lib/mathutil.py",
                                   "side": "new", "start_line": 17, "end_line": 17}]}  # fmt: skip


def test_classify_json_shape(site: Site, calls: Calls) -> None:
    result = calls["classify"]
    assert result.returncode == 0, result.stderr
    _check_classify_shape(result.json(), site)
    _no_progress_and_no_traceback(result)


@pytest.mark.parametrize("kind", ["no-checkout", "bare"])
def test_classify_reads_objects_only(site: Site, calls: Calls, kind: str) -> None:
    assert not (calls.files[kind] / "app").exists()
    result = calls[f"classify-{kind}"]
    assert result.returncode == 0, result.stderr
    _check_classify_shape(result.json(), site)
    assert result.json() == calls["classify"].json()


# --- verify BASE..HEAD: exit codes and JSON ------------------------------------------------------


def _check_vsa(site: Site, path: Path, head: str, result: str) -> None:
    statement = json.loads(path.read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == VSA_PREDICATE_TYPE
    (subject,) = statement["subject"]
    assert subject["annotations"] == {
        "gitCommit": head, "gitTree": site.tree(head), "base": site.base,
    }  # fmt: skip
    assert subject["digest"] == {"sha256": site.digest(head)}
    assert statement["predicate"]["verificationResult"] == result


def test_passing_range_exits_0_with_json_and_an_unsigned_vsa(site: Site, calls: Calls) -> None:
    result = calls["pass"]
    assert result.returncode == 0, result.stderr
    data = check_document("gate-report", result.json())
    assert data["result"] == "passed"
    head_tree = site.tree(site.good)
    assert data["range"] == {"base": site.base, "head": site.good, "head_tree": head_tree}
    statuses = {c["commit"]: (c["status"], c["identity_related"]) for c in data["commits"]}
    assert statuses == {
        site.docs: ("not-required", False),
        site.auth: ("ok", True),
        site.good: ("not-required", False),
    }
    assert f"wrote VSA {calls.files['vsa_passed']}" in result.stderr
    _check_vsa(site, calls.files["vsa_passed"], site.good, "PASSED")
    _no_progress_and_no_traceback(result)


def test_refused_range_exits_1_with_reason_codes(site: Site, calls: Calls) -> None:
    result = calls["refused"]
    assert result.returncode == 1, result.stderr
    data = check_document("gate-report", result.json())
    assert data["result"] == "refused" and data["range"]["head"] == site.bad
    entries = {c["commit"]: c for c in data["commits"]}
    assert [(e["status"], e["reasons"]) for e in entries.values()] == [
        ("not-required", []),
        ("ok", []),
        ("not-required", []),
        ("ok", []),
        ("refused", ["attestation_missing"]),
        ("refused", ["attestation_missing"]),
    ]
    assert list(entries)[-2:] == [site.renamed, site.bad]
    assert entries[site.renamed]["rules"] == ["path.authn"]
    _no_progress_and_no_traceback(result)


@pytest.mark.parametrize("reason", ["range_empty", "base_not_ancestor", "unrelated_histories"])
def test_range_errors_exit_1_and_name_the_reason(calls: Calls, reason: str) -> None:
    result = calls[reason]
    assert result.returncode == 1, result.stderr
    assert f"error: {reason}:" in result.stderr
    refusal = json.loads(result.stdout)  # machine-readable too: never an empty pass
    assert (refusal["result"], refusal["reasons"], refusal["commits"]) == ("refused", [reason], [])
    _no_progress_and_no_traceback(result)


def test_symmetric_range_is_refused(calls: Calls) -> None:
    result = calls["classify-symmetric"]
    assert result.returncode == 1
    assert "error: range_invalid:" in result.stderr
    _no_progress_and_no_traceback(result)


@pytest.mark.parametrize("name", ["usage-unknown-rev", "usage-override"])
def test_usage_errors_exit_2(calls: Calls, name: str) -> None:
    """An unknown revision; an insecure override that does not exist (THREATS.md G39)."""
    result = calls[name]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr


def test_shallow_clone_could_not_decide_exits_3(calls: Calls) -> None:
    result = calls["shallow"]
    assert result.returncode == 3, result.stderr
    assert "shallow clone" in result.stderr
    _no_progress_and_no_traceback(result)


# --- SARIF ---------------------------------------------------------------------------------------


def test_sarif_is_2_1_0_with_reason_codes_as_rule_ids(site: Site, calls: Calls) -> None:
    result = calls["sarif"]
    assert result.returncode == 1, result.stderr
    sarif = result.json()
    assert sarif["version"] == "2.1.0"
    assert sarif["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = sarif["runs"]
    driver = run_["tool"]["driver"]
    assert driver["name"] == "provenance" and driver["version"]
    results = run_["results"]
    assert {(r["ruleId"], r["partialFingerprints"]["commit"]) for r in results} == {
        ("attestation_missing", site.renamed),
        ("attestation_missing", site.bad),
    }
    for entry in results:
        assert entry["level"] == "error" and entry["message"]["text"]
        # GitHub code scanning rejects a result without a location: each is relative to the
        # checkout and has a region
        for where in entry["locations"]:
            assert where["physicalLocation"]["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
            assert where["physicalLocation"]["region"]["startLine"] >= 1
    uris = {
        r["partialFingerprints"]["commit"]: r["locations"][0]["physicalLocation"][
            "artifactLocation"
        ]["uri"]
        for r in results
    }
    assert uris == {site.renamed: "lib/mathutil.py", site.bad: "app/auth/sso.py"}
    assert run_["invocations"] == [{"executionSuccessful": True, "exitCode": 1}]
    # issue 16: each refused commit's result points at the hunks and rules that made it
    # identity-related, as SARIF locations with regions
    (bad,) = [r for r in results if r["partialFingerprints"]["commit"] == site.bad]
    (where,) = [loc for loc in bad["locations"] if loc["properties"]["side"] == "new"]
    assert where["physicalLocation"]["artifactLocation"]["uri"] == "app/auth/sso.py"
    assert where["physicalLocation"]["region"] == {"startLine": 1, "endLine": 1}
    assert "path.authn" in where["properties"]["rules"]
    assert [r["id"] for r in driver["rules"]] == ["attestation_missing"]
    assert run_["properties"]["result"] == "refused"
    assert run_["properties"]["range"]["head"] == site.bad
    assert "FAIL" in result.stderr  # people still get the text report on stderr
    _check_vsa(site, calls.files["vsa_failed"], site.bad, "FAILED")


# --- signed VSA ----------------------------------------------------------------------------------


def test_signed_vsa_verifies_as_a_sigstore_bundle(site: Site, calls: Calls) -> None:
    result = calls["signed-vsa"]
    assert result.returncode == 0, result.stderr
    raw = calls.files["vsa_signed"].read_bytes()
    root = site.inst.trusted_root_path
    issuer = site.inst.default_issuer
    verified = verify_dsse_bundle(
        raw, identity=GATE_ID, issuer=issuer, trusted_root=root,
        subject_sha256=site.digest(site.good),
    )  # fmt: skip
    assert verified.ok, verified.reasons
    assert (verified.predicate_type, verified.signer) == (VSA_PREDICATE_TYPE, GATE_ID)
    other = verify_dsse_bundle(raw, identity=AGENT_ID, issuer=issuer, trusted_root=root)
    assert other.reasons == ("signer_not_allowed",)
    wrong_head = verify_dsse_bundle(
        raw, identity=GATE_ID, issuer=issuer, trusted_root=root,
        subject_sha256=site.digest(site.bad),
    )  # fmt: skip
    assert wrong_head.reasons == ("subject_mismatch",)


# --- progress ------------------------------------------------------------------------------------


def test_progress_only_on_a_terminal(calls: Calls) -> None:
    """The piped runs above show none; the same run on a terminal does."""
    result = calls["terminal"]
    assert result.returncode == 1
    assert "classified 6/6" in result.stderr and "verified 4/4" in result.stderr, result.stderr
