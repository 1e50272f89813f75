"""The documents written for programs match their generated schemas (issue 17, item 8).

Real outputs of the CLI, validated against ``schemas/*.v1.json`` with a JSON Schema
validator: ``show --format json`` (with decoded predicates, including an approval),
``verify --evidence --format json`` and the pack's manifest. The gate's range reports,
refusals and errors, ``run --report`` (complete, pending, error) and trailer warnings are
validated where the tests that produce them run (test_gate_cli, test_streams, test_run,
test_prompter, test_evidence).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from provenance.app.approve import approve, preview
from provenance.app.options import VerifyOptions
from provenance.policy import render_template
from tests.conftest import AGENT_ID, Golden
from tests.helpers import check_document

BOB = "bob@example.com"


def cli(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_IDENTITY_TOKEN"}
    return subprocess.run([sys.executable, "-m", "provenance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip


def test_show_and_evidence_reports_and_the_manifest_match_their_schemas(
    golden: Golden, tmp_path: Path
) -> None:
    g = golden
    policy = tmp_path / "policy.toml"
    policy.write_text(
        render_template(g.inst.default_issuer, AGENT_ID).replace("required = 0", "required = 1")
        + f'\n[[approvers]]\nissuer = "{g.inst.default_issuer}"\nidentity = "{BOB}"\n'
        'person = "bob"\n'
    )
    options = VerifyOptions(policy=policy, trusted_root=g.inst.trusted_root_path, offline=True)
    approve(g.repo.path, preview(g.repo.path, g.commit, options), "approve", "ok", g.keyless(BOB))
    pin = ["--offline", "--trusted-root", str(g.inst.trusted_root_path)]
    shown = cli(["show", *pin, "--policy", str(policy), "--format", "json", "HEAD"], g.repo.path)
    assert shown.returncode == 0, shown.stderr
    document = check_document("gate-report", json.loads(shown.stdout))
    kinds = [a["kind"] for a in document["commits"][0]["attestations"]]
    assert kinds == ["change", "approval"]
    assert all(a["predicate"] for a in document["commits"][0]["attestations"])

    first = g.repo.git("rev-list", "--max-parents=0", "HEAD")
    pack = tmp_path / "pack"
    exported = cli(["export", *pin, "--out", str(pack), f"{first}..HEAD"], g.repo.path)
    assert exported.returncode == 0, exported.stderr
    manifest = check_document("evidence-manifest", json.loads((pack / "manifest.json").read_text()))
    assert manifest == json.loads(exported.stdout)
    verified = cli(["verify", "--evidence", str(pack), *pin, "--format", "json", f"{first}..HEAD"],
                   g.repo.path)  # fmt: skip
    assert verified.returncode == 0, verified.stderr
    report = check_document("gate-report", json.loads(verified.stdout))
    assert report["result"] == "passed" and len(report["commits"]) == 1
    assert report["evidence"]["policy_digest"] == manifest["policy"]["digest"]
