"""``provenance revoke`` and ``provenance impact`` over a range, through the real CLI.

A skill digest is revoked after a release: ``impact`` lists the commit that used it (passed
before, refused now) and leaves the other alone; once the revocation is committed, the gate
refuses that commit with ``revoked`` and the entry's reason (decision 0018).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from provenance.app.stamp import stamp
from provenance.devinstance import DevInstance
from provenance.policy import render_template
from provenance.predicates import ResourceDescriptor
from provenance.sign.signing import SigningOptions
from tests.conftest import AGENT_ID, session
from tests.helpers import SSO_CALLBACK, GitRepo, Result

SKILL = "5" * 64


def run(args: list[str], cwd: Path) -> Result:
    env = {k: v for k, v in os.environ.items() if k != "PROVENANCE_IDENTITY_TOKEN"}
    proc = subprocess.run([sys.executable, "-m", "provenance", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def test_revoke_a_skill_after_a_release_then_impact_and_gate(
    tmp_path: Path, dev: DevInstance
) -> None:
    repo = GitRepo.init(tmp_path / "repo")
    policy = render_template(dev.default_issuer, AGENT_ID)
    base = repo.commit("policy", {".provenance/policy.toml": policy})
    signing = SigningOptions(
        identity_token=dev.issue_token(AGENT_ID), trust_config=dev.trust_config_path
    )
    skill = ResourceDescriptor(name="auth-helper", digest={"sha256": SKILL})
    poisoned = repo.commit("SSO callback", {"app/auth/sso.py": SSO_CALLBACK})
    stamp(repo.path, poisoned, replace(session(), skills=(skill,)), signing)
    clean = repo.commit("SSO fix", {"app/auth/sso.py": SSO_CALLBACK + "TTL = 60\n"})
    stamp(repo.path, clean, session(), signing)
    trust = ["--offline", "--trusted-root", str(dev.trusted_root_path)]
    assert run(["verify", *trust, f"{base}..{clean}"], repo.path).returncode == 0

    added = run(["revoke", "--skill", f"auth-*@sha256:{SKILL}", "--reason", "poisoned skill",
                 "--reference", "INC-7", "--id", "INC-7"], repo.path)  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "INC-7"
    for committed in (False, True):
        if committed:
            repo.commit("revoke auth-helper", {})
        out = run(["impact", "--revocation", "INC-7", "--format", "json", *trust,
                   f"{base}..{clean}"], repo.path)  # fmt: skip
        assert out.returncode == 0, out.stderr
        doc = out.json()
        assert doc["revocation"]["id"] == "INC-7" and doc["revocation"]["cause"] == "skill"
        assert doc["revocation"]["found_in"].endswith("revocations.toml")
        assert doc["summary"] == {
            "commits_hit": 1,
            "passed_before_refused_now": 1,
            "refused_now": 1,
        }
        (hit,) = doc["commits"]
        assert hit["commit"] == poisoned
        assert (hit["before"]["status"], hit["now"]["status"]) == ("ok", "refused")
        assert hit["now"]["reasons"] == ["revoked"] and hit["left"] == []
        assert [w["kind"] for w in hit["withdrawn"]] == ["change"]

    gate = run(["verify", *trust, "--format", "json", poisoned, clean], repo.path)
    assert gate.returncode == 1
    first, second = gate.json()["commits"]
    assert first["reasons"] == ["revoked"] and second["status"] == "ok"
    (line,) = first["attestations"]
    assert line["revoked"][0]["reason"] == "poisoned skill"
    text = run(["verify", *trust, poisoned], repo.path)
    assert "revoked by INC-7: poisoned skill (INC-7)" in text.stdout

    unknown = run(["impact", "--revocation", "nope", *trust, f"{base}..{clean}"], repo.path)
    assert unknown.returncode == 2 and "no revocation 'nope'" in unknown.stderr
