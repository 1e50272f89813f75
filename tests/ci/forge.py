"""A small stand-in for a forge's job runner, enough to run our CI recipes as written.

The recipes (``action.yml``, ``ci/github/*.yml``, ``ci/gitlab/provenance.gitlab-ci.yml``) are
parsed with PyYAML and their ``run:``/``script:`` lines executed in order by bash, in a clone
of a bare "origin" repository. What the forge itself provides is stood in for, and nothing
else: ``actions/checkout`` is a full clone (with the token in the repository's config unless
``persist-credentials: false``, as the real action does), ``actions/setup-python`` and
GitLab's ``python`` image are a venv holding only the built wheel, the SARIF upload checks
what code scanning checks, and the forge's OIDC is the devinstance (GitHub: a token endpoint
serving ``ACTIONS_ID_TOKEN_REQUEST_URL``; GitLab: ``id_tokens`` as ``SIGSTORE_ID_TOKEN``).

Every ``${{ ... }}`` expression must be in the context the test gives; an unknown one fails,
so a recipe that starts to use something the test does not model cannot pass unnoticed.
"""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
#: Where the gate workflow takes the composite action from (action.yml of this repository).
ACTION_REF = "identity-provenance/provenance@"


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


@dataclass
class StepResult:
    name: str
    returncode: int
    output: str


@dataclass
class Job:
    """One job's run: each step's result, and what the forge received."""

    steps: list[StepResult] = field(default_factory=list)
    sarif: list[dict[str, Any]] = field(default_factory=list)

    @property
    def returncode(self) -> int:
        failed = [s.returncode for s in self.steps if s.returncode]
        return failed[0] if failed else 0

    def step(self, name: str) -> StepResult:
        (found,) = [s for s in self.steps if s.name == name]
        return found

    def log(self) -> str:
        return "\n".join(f"--- {s.name}: {s.returncode}\n{s.output}" for s in self.steps)


def scalar(value: object) -> str:
    """A YAML scalar as the runner passes it on (``false``, not Python's ``False``)."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def evaluate(text: str, ctx: dict[str, str]) -> str:
    """Replace each ``${{ expr }}``; an expression outside ``ctx`` is a test failure."""

    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr not in ctx:
            raise AssertionError(f"the recipe uses ${{{{ {expr} }}}}, unknown to the test")
        return ctx[expr]

    return EXPR.sub(one, text)


def condition(text: str | None, ctx: dict[str, str], failed: bool) -> bool:
    """GitHub's ``if:`` for the forms the recipes use: ``always()``, ``a == 'b'``, ``&&``."""
    if text is None:
        return not failed
    inner = EXPR.fullmatch(text.strip())
    terms = (inner.group(1) if inner else text).split("&&")
    result, saw_always = True, False
    for term in (t.strip() for t in terms):
        if term == "always()":
            saw_always = True
        elif m := re.fullmatch(r"([\w.-]+) == '([^']*)'", term):
            if m.group(1) not in ctx:
                raise AssertionError(f"the recipe's condition uses {m.group(1)}, unknown")
            result = result and ctx[m.group(1)] == m.group(2)
        else:
            raise AssertionError(f"the recipe's condition {term!r} is unknown to the test")
    return result and (saw_always or not failed)


def bash(script: str, cwd: Path, env: dict[str, str], terminal: str | None = None) -> StepResult:
    """Run ``script`` as a job step does; ``terminal``: typed at a terminal (a pty on stdin),
    as a person at their own machine answers a confirmation."""
    argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script]
    if terminal is None:
        proc = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, check=False)  # fmt: skip
        return StepResult(script.splitlines()[0][:60], proc.returncode, proc.stdout + proc.stderr)
    master, slave = pty.openpty()
    try:
        os.write(master, terminal.encode())
        proc = subprocess.run(argv, cwd=cwd, env=env, stdin=slave, capture_output=True,
                              text=True, check=False)  # fmt: skip
    finally:
        os.close(slave)
        os.close(master)
    return StepResult(script.splitlines()[0][:60], proc.returncode, proc.stdout + proc.stderr)


@contextmanager
def github_oidc(token: str) -> Iterator[dict[str, str]]:
    """GitHub's token endpoint: ``GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore``."""
    request_token = "request-token-for-this-job"

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            ok = self.headers.get("Authorization") == f"bearer {request_token}"
            status = 200 if ok and query.get("audience") == ["sigstore"] else 403
            body = json.dumps({"value": token}).encode() if status == 200 else b"{}"
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/token?api-version=2.0"
        yield {"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token}
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Forge:
    """A bare origin, a venv with the built wheel, a home directory and a scratch area."""

    origin: Path
    venv_bin: Path
    tools: Path  # stand-ins for programs a runner image has (the agent CLI)
    home: Path
    scratch: Path
    base_env: dict[str, str]

    def env(self, extra: dict[str, str]) -> dict[str, str]:
        path = f"{self.venv_bin}:{self.tools}:{os.environ['PATH']}"
        keep = {k: v for k, v in os.environ.items() if k in ("LANG", "LC_ALL", "TMPDIR")}
        return {**keep, **self.base_env, "PATH": path, "HOME": str(self.home), **extra}

    def checkout(self, name: str, ref: str, persist_credentials: bool) -> Path:
        """``actions/checkout`` with ``fetch-depth: 0`` (GitLab: ``GIT_DEPTH: 0``)."""
        work = self.scratch / name
        git = ["git", "-c", "init.defaultBranch=main"]
        subprocess.run([*git, "clone", "-q", "--no-tags", str(self.origin), str(work)], check=True)
        subprocess.run(["git", "-C", str(work), "checkout", "-q", "--detach", ref], check=True)
        if persist_credentials:  # what actions/checkout writes into .git/config
            header = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2Zha2U="
            config = ["config", "--local", "http.https://github.com/.extraheader", header]
            subprocess.run(["git", "-C", str(work), *config], check=True)
        return work

    # ------------------------------------------------------------------ GitHub Actions

    def github_job(self, workflow: Path, job: str, ctx: dict[str, str], env: dict[str, str],
                   name: str) -> Job:  # fmt: skip
        """Run one job of a workflow: its steps in order, composite actions expanded."""
        spec = load(workflow)["jobs"][job]
        run = Job()
        runner_temp = self.scratch / f"{name}-runner-temp"
        runner_temp.mkdir()
        job_env = {
            "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp),
            "GITHUB_STEP_SUMMARY": str(runner_temp / "summary.md"), **env,
        }  # fmt: skip
        state: dict[str, Any] = {"work": None}
        for step in spec["steps"]:
            self._github_step(step, ctx, job_env, run, state, name)
        return run

    def _github_step(self, step: dict[str, Any], ctx: dict[str, str], env: dict[str, str],
                     run: Job, state: dict[str, Any], name: str) -> None:  # fmt: skip
        failed = run.returncode != 0
        if not condition(step.get("if"), ctx, failed):
            return
        uses: str | None = step.get("uses")
        with_ = {k: evaluate(scalar(v), ctx) for k, v in (step.get("with") or {}).items()}
        if uses == "actions/checkout@v4":
            assert with_.get("fetch-depth") == "0", "the gate needs full history"
            persist = with_.get("persist-credentials", "true") != "false"
            state["work"] = self.checkout(name, ctx["github.sha"], persist)
        elif uses == "actions/setup-python@v5":
            assert tuple(map(int, with_["python-version"].split("."))) >= (3, 11)
        elif uses == "github/codeql-action/upload-sarif@v3":
            run.sarif.append(upload_sarif(state["work"] / with_["sarif_file"]))
        elif uses is not None and uses.startswith(ACTION_REF):
            self._composite(with_, ctx, env, run, state)
        elif uses is not None:
            raise AssertionError(f"the recipe uses {uses}, unknown to the test")
        else:
            out = state["work"] / f".github-output-{len(run.steps)}"
            step_env = {k: evaluate(scalar(v), ctx) for k, v in (step.get("env") or {}).items()}
            full = self.env({**env, **step_env, "GITHUB_OUTPUT": str(out)})
            result = bash(evaluate(step["run"], ctx), state["work"], full)
            result.name = step.get("name", result.name)
            run.steps.append(result)

    def _composite(self, with_: dict[str, str], ctx: dict[str, str], env: dict[str, str],
                   run: Job, state: dict[str, Any]) -> None:  # fmt: skip
        """The steps of ``action.yml`` with its inputs (given, else the defaults)."""
        action = load(ROOT / "action.yml")
        assert action["runs"]["using"] == "composite"
        inputs = action["inputs"]
        unknown = set(with_) - set(inputs)
        assert not unknown, f"inputs the action does not declare: {unknown}"
        missing = [k for k, v in inputs.items() if v.get("required") and k not in with_]
        assert not missing, f"required inputs not given: {missing}"
        values = {k: with_.get(k, evaluate(str(v.get("default", "")), ctx)) for k, v in
                  inputs.items()}  # fmt: skip
        inner = {**ctx, **{f"inputs.{k}": v for k, v in values.items()}}
        for step in action["runs"]["steps"]:
            if "run" in step:
                assert step.get("shell") == "bash", "composite run steps must name their shell"
            self._github_step(step, inner, env, run, state, "composite")

    # ------------------------------------------------------------------ GitLab CI

    def gitlab_job(self, pipeline: Path, job: str, env: dict[str, str], sha: str,
                   name: str) -> Job:  # fmt: skip
        """A GitLab job: global and job ``variables``, then ``script`` in one shell."""
        spec = load(pipeline)
        job_spec = spec[job]
        assert spec["default"]["image"].startswith("python:3.")
        assert spec["variables"]["GIT_DEPTH"] == "0"
        work = self.checkout(name, sha, persist_credentials=False)
        variables = {**spec.get("variables", {}), **job_spec.get("variables", {})}
        full = self.env({"GITLAB_CI": "true", "CI_COMMIT_SHA": sha, **variables, **env})
        run = Job()
        run.steps.append(bash("\n".join(job_spec["script"]), work, full))
        for path in (job_spec.get("artifacts") or {}).get("paths", []):
            if (work / path).exists():
                run.sarif.append({"artifact": path, "text": (work / path).read_text()})
        return run


def upload_sarif(path: Path) -> dict[str, Any]:
    """What code scanning checks before it accepts a SARIF file (the parts we can check)."""
    sarif = json.loads(path.read_text())
    assert sarif["version"] == "2.1.0"
    for run in sarif["runs"]:
        for result in run.get("results", []):
            assert result.get("locations"), "code scanning rejects results without locations"
            assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return dict(sarif)
