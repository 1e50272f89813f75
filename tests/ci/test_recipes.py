"""The CI recipes work as written (issue 17, item 3).

Each test runs a recipe's own steps (parsed from the YAML, never copied into the test) in a
throwaway pair of repositories: a bare origin and the job's clone, with the built wheel as
the only provenance installed and the devinstance standing in for the forge's OIDC. The
story is the pipeline's: the gate on a repository without attestations, the agent job
stamping and publishing, the approvals report, a reviewer's approval from their own
machine (the README's commands), and the gate passing with SARIF uploaded.
"""

from __future__ import annotations

import json
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from provenance.devinstance import DevInstance
from provenance.policy import render_template
from tests.ci.conftest import WheelVenv
from tests.ci.forge import ROOT, Forge, bash, github_oidc, load
from tests.conftest import AGENT_ID
from tests.helpers import GitRepo

BOB = "bob@example.com"
GITHUB = ROOT / "ci" / "github"
GITLAB = ROOT / "ci" / "gitlab" / "provenance.gitlab-ci.yml"
RECIPES = [ROOT / "action.yml", *sorted(GITHUB.glob("*.yml")), GITLAB]

FAKE_AGENT = """#!/bin/sh
# Stands in for the agent CLI (`claude -p TASK ...`): writes an SSO callback and commits it.
mkdir -p app/auth
printf 'def callback(request):\\n    token = oauth.authorize_access_token()\\n' > app/auth/sso.py
git add app/auth/sso.py
git commit -q -m "agent: $2"
"""


def reviewer_commands() -> str:
    """The README's block for a reviewer's own machine (the approver's step)."""
    blocks = re.findall(r"```sh\n(# reviewer, on their own machine.*?)```", readme(), re.S)
    assert len(blocks) == 1, "README: one ```sh block starting '# reviewer, on their own machine'"
    return str(blocks[0])


def readme() -> str:
    return (ROOT / "README.md").read_text()


@pytest.fixture
def forge(tmp_path: Path, dev: DevInstance, wheel_venv: WheelVenv) -> Iterator[Forge]:
    """origin: a policy on main and release (agent signer, one approval by bob); no notes."""
    seed = GitRepo.init(tmp_path / "seed")
    policy = render_template(dev.default_issuer, AGENT_ID).replace("required = 0", "required = 1")
    policy += f'\n[[approvers]]\nissuer = "{dev.default_issuer}"\nidentity = "{BOB}"\n'
    policy += 'person = "bob"\n'
    seed.commit("policy", {".provenance/policy.toml": policy, "README.md": "app\n"})
    seed.git("branch", "release")
    # main is one unattested identity change ahead of release
    login = "def login(user, password):\n    return check(password)\n"
    seed.commit("login", {"app/auth/login.py": login})
    origin = GitRepo.init(tmp_path / "forge" / "acme" / "app.git", bare=True)
    seed.git("push", "-q", str(origin.path), "main", "release")
    tools = tmp_path / "tools"
    tools.mkdir()
    (tools / "claude").write_text(FAKE_AGENT)
    (tools / "claude").chmod(stat.S_IRWXU)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PROVENANCE_TRUST_CONFIG": str(dev.trust_config_path),  # stands in for production
        "PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheel_venv.wheelhouse),
    }  # fmt: skip
    yield Forge(origin.path, wheel_venv.bin, tools, home, tmp_path, env)


def origin_sha(forge: Forge, ref: str) -> str:
    return GitRepo(forge.origin).git("rev-parse", "--verify", ref)


def test_readme_shows_the_recipes_as_they_are() -> None:
    """Every YAML block of README's CI section is one of the tested files, byte for byte."""
    section = readme().split("## CI recipes", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, re.S)
    files = {p.read_text() for p in RECIPES}
    assert blocks and all(b in files for b in blocks), "README and the recipe files differ"
    for path in RECIPES:
        assert path.relative_to(ROOT).as_posix() in section, f"README does not name {path}"


def test_github_recipes_gate_agent_approvals_and_release(forge: Forge, dev: DevInstance) -> None:
    """THREATS.md G1: the pipeline refuses until the agent's change is attested and approved."""
    base = origin_sha(forge, "refs/heads/release")
    pr = {"github.base_ref": "release", "github.token": "ghs_fake"}

    def gate(head: str, name: str, expected: int) -> dict[str, Any]:
        ctx = {**pr, "github.sha": head, "github.event.pull_request.head.sha": head}
        job = forge.github_job(GITHUB / "gate.yml", "gate", ctx, {}, name)
        assert job.returncode == expected, job.log()
        (sarif,) = job.sarif  # uploaded on failure too
        return sarif

    # 1. No attestations on the forge yet: the fetch tolerates it, the gate says why.
    sarif = gate(origin_sha(forge, "refs/heads/main"), "gate-empty", 1)
    results = sarif["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"attestations_unavailable"}, results

    # 2. The agent job: ambient GitHub OIDC (devinstance token), stamp, push, sync.
    ctx = {**pr, "github.sha": base, "inputs.task": "add SSO login",
           "github.triggering_actor": "alice@example.com"}  # fmt: skip
    with github_oidc(dev.issue_token(AGENT_ID)) as oidc:
        env = {"GITHUB_RUN_ID": "4242", **oidc}
        agent = forge.github_job(GITHUB / "agent.yml", "agent", ctx, env, "agent")
    assert agent.returncode == 0, agent.log()
    head = origin_sha(forge, "refs/heads/agent/4242")
    notes = GitRepo(forge.origin).git("notes", "--ref=refs/notes/provenance", "list", head)
    assert notes, "the agent job published no attestation"
    run_report = json.loads(next(forge.scratch.glob("agent-runner-temp/run.json")).read_text())
    assert run_report["result"] == "complete" and [s["commit"] for s in run_report["stamped"]] == [
        head
    ]

    # 3. The approvals report: stamped but not approved yet.
    ctx = {**pr, "github.sha": head, "github.event.pull_request.head.sha": head}
    pending = forge.github_job(GITHUB / "approve.yml", "pending", ctx, {}, "approvals-1")
    assert pending.returncode == 1, pending.log()
    assert "approval_missing" in pending.log()

    # The gate refuses the unapproved release.
    sarif = gate(head, "gate-unapproved", 1)
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} == {"approval_missing"}

    # 4. A reviewer approves on their own machine with their own identity, then publishes.
    clone = forge.checkout("reviewer", "refs/remotes/origin/main", persist_credentials=False)
    reviewer_env = forge.env({"COMMIT": head, "PROVENANCE_IDENTITY_TOKEN": dev.issue_token(BOB)})
    GitRepo(clone).git("fetch", "-q", "origin")
    review = bash(reviewer_commands(), clone, reviewer_env, terminal="y\n")
    assert review.returncode == 0, review.output

    again = forge.github_job(GITHUB / "approve.yml", "pending", ctx, {}, "approvals-2")
    assert again.returncode == 0, again.log()
    sarif = gate(head, "gate-approved", 0)
    assert sarif["runs"][0]["invocations"][0]["executionSuccessful"] is True
    vsa = json.loads((forge.scratch / "gate-approved" / "vsa.intoto.json").read_text())
    assert vsa["subject"][0]["annotations"]["gitCommit"] == head
    assert vsa["predicate"]["verificationResult"] == "PASSED"


def test_github_agent_job_without_persist_credentials_false_is_refused_by_sync(
    forge: Forge, dev: DevInstance, tmp_path: Path
) -> None:
    """THREATS.md G55: actions/checkout's token in .git/config makes `sync` refuse (exit 3),
    which is why the recipe checks out with ``persist-credentials: false``."""
    workflow = load(GITHUB / "agent.yml")
    checkout = workflow["jobs"]["agent"]["steps"][0]
    assert checkout["with"]["persist-credentials"] is False
    del checkout["with"]["persist-credentials"]
    changed = tmp_path / "agent-default-checkout.yml"
    changed.write_text(json.dumps(workflow))  # JSON is YAML
    ctx = {"github.sha": origin_sha(forge, "refs/heads/main"), "github.token": "ghs_fake",
           "inputs.task": "add SSO", "github.triggering_actor": "alice@example.com"}  # fmt: skip
    with github_oidc(dev.issue_token(AGENT_ID)) as oidc:
        job = forge.github_job(changed, "agent", ctx, {"GITHUB_RUN_ID": "7", **oidc}, "agent-b")
    assert job.returncode == 3, job.log()
    assert "extraheader" in job.steps[-1].output


def test_gitlab_recipes_agent_approvals_and_gate(forge: Forge, dev: DevInstance) -> None:
    """The same story in GitLab CI: ``id_tokens`` hands SIGSTORE_ID_TOKEN to the signer."""
    main = origin_sha(forge, "refs/heads/main")
    spec = load(GITLAB)
    assert spec["provenance-agent"]["id_tokens"]["SIGSTORE_ID_TOKEN"]["aud"] == "sigstore"
    ci = {"CI_SERVER_URL": str(forge.origin.parents[1]), "CI_SERVER_HOST": "gitlab.example",
          "CI_PROJECT_PATH": "acme/app", "CI_PIPELINE_ID": "99", "AGENT_TASK": "add SSO login",
          "GITLAB_USER_EMAIL": "alice@example.com", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME":
          "release", "PROVENANCE_PUSH_TOKEN": "glpat-fake"}  # fmt: skip

    gate = forge.gitlab_job(GITLAB, "provenance-gate", ci, main, "gl-gate-empty")
    assert gate.returncode == 1, gate.log()
    report = json.loads(str(gate.sarif[0]["text"]))
    assert report["result"] == "refused" and "attestations_unavailable" in json.dumps(report)

    agent_env = {**ci, "SIGSTORE_ID_TOKEN": dev.issue_token(AGENT_ID)}
    release = origin_sha(forge, "refs/heads/release")
    agent = forge.gitlab_job(GITLAB, "provenance-agent", agent_env, release, "gl-agent")
    assert agent.returncode == 0, agent.log()
    head = origin_sha(forge, "refs/heads/agent/99")

    pending = forge.gitlab_job(GITLAB, "provenance-approvals", ci, head, "gl-approvals")
    assert pending.returncode == 1 and "approval_missing" in pending.log(), pending.log()
    clone = forge.checkout("gl-reviewer", "refs/remotes/origin/main", persist_credentials=False)
    review_env = forge.env({"COMMIT": head, "PROVENANCE_IDENTITY_TOKEN": dev.issue_token(BOB)})
    review = bash(reviewer_commands(), clone, review_env, terminal="y\n")
    assert review.returncode == 0, review.output

    gate = forge.gitlab_job(GITLAB, "provenance-gate", ci, head, "gl-gate")
    assert gate.returncode == 0, gate.log()
    report = json.loads(str(gate.sarif[0]["text"]))
    assert report["result"] == "passed" and report["range"]["head"] == head
