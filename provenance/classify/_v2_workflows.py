"""GitHub Actions workflows: what a run may do and who may start it, not how it builds.

IDENTITY-RUBRIC.md (ci-creds): CI/CD credentials and token permissions count: ``permissions:``
blocks, OIDC federation, secrets passed to steps, registry and cloud logins, signing keys.
``@2`` parses both sides of a workflow (``.github/workflows/*``) or composite action
(``action.yml``) and compares these facts; any difference fires ``ci.identity``:

- ``permissions`` of the workflow and of each job (``id-token: write`` is OIDC);
- triggers that run with the base repository's secrets for code or events outsiders control
  (``pull_request_target``, ``workflow_run``, ``issue_comment``, ``pull_request_review*``,
  ``discussion*``, ``repository_dispatch``, ``workflow_dispatch``) and their settings;
- who a job runs for: ``if:`` conditions on the actor, author association, sender, or the
  head repository, and ``environment:`` (whose protection rules release secrets);
- secrets and tokens reaching a step or a called workflow (``${{ secrets.* }}``,
  ``secrets: inherit``, ``GITHUB_TOKEN``, ``github.token``), by step;
- the inputs of credential steps (cloud and registry logins, Vault), ``persist-credentials``.

Actions are compared by name, not by the version they are pinned to, so re-pinning an action
to another SHA, a cache setting, a matrix, a build step or a runner label changes nothing here.
A new job of an existing workflow that holds what an existing job holds (no permissions,
secrets, token, credential step, checkout or environment: ``_holding_nothing_new``) adds no
``permissions default`` fact (decision 0027).
A workflow that cannot be read (unparsable, or not read) is judged by ``@1``'s line rules.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from provenance.classify._locate import Line
from provenance.classify._v2_yaml import load_yaml

RULE = "ci.identity"
DOC = "a workflow's permissions, OIDC, secrets, credential steps or who may run it changed"

_EXPOSING = frozenset(
    {
        "pull_request_target", "workflow_run", "issue_comment", "pull_request_review",
        "pull_request_review_comment", "discussion", "discussion_comment",
        "repository_dispatch", "workflow_dispatch", "workflow_call",
    }
)  # fmt: skip
_SECRET = re.compile(
    r"\$\{\{[^}]*\b(?:secrets\.[\w-]+|secrets\[[^\]]+\]|github\.token|env\.GITHUB_TOKEN)[^}]*\}\}"
    r"|\bGITHUB_TOKEN\b|\bACTIONS_ID_TOKEN_REQUEST_\w+",
)
_WHO = re.compile(
    r"\b(?:actor|triggering_actor|author_association|sender|head\.repo|head_repository"
    r"|user\.login|\.fork\b)",
)
_CREDENTIAL_ACTION = re.compile(
    r"(?:configure-aws-credentials|google-github-actions/auth|azure/login|docker/login-action"
    r"|hashicorp/vault-action|login-action|/auth@|oidc|sigstore|cosign|slsa-github-generator"
    r"|attest|gh-action-pypi-publish|setup-gcloud|create-github-app-token)",
    re.IGNORECASE,
)


def applies(path: str) -> bool:
    """True for a GitHub Actions workflow or composite action."""
    name = path.replace("\\", "/").casefold()
    return (
        "/.github/workflows/" in f"/{name}" and name.endswith((".yml", ".yaml"))
    ) or name.rsplit("/", 1)[-1] in ("action.yml", "action.yaml")


def facts(document: Any) -> set[str]:
    """The identity facts of a workflow or action (see the module docstring)."""
    if not isinstance(document, dict):
        raise ValueError("a workflow is a mapping")
    out: set[str] = set()
    out |= _permissions("workflow", document.get("permissions", _UNSET))
    triggers = document.get("on", document.get(True))  # YAML 1.1 reads a bare on: as True
    out |= _triggers(triggers)
    jobs = document.get("jobs") or {}
    if not isinstance(jobs, dict):
        raise ValueError("jobs is not a mapping")
    for name, job in jobs.items():
        if not isinstance(job, dict):
            continue
        out |= _permissions(f"job {name}", job.get("permissions", _UNSET))
        out |= _who(f"job {name}", job.get("if"))
        if job.get("environment") is not None:
            out.add(f"job {name} environment {_canonical(job['environment'])}")
        if job.get("uses"):  # a called workflow: what it is given
            out.add(f"job {name} calls {_action(job['uses'])}")
            out |= {f"job {name} passes {s}" for s in _secrets(job.get("secrets"))}
            out |= {f"job {name} passes {s}" for s in _secrets(job.get("with"))}
        out |= _steps(f"job {name}", job.get("steps"))
        out |= {f"job {name} env {s}" for s in _secrets(job.get("env"))}
    runs = document.get("runs")
    if isinstance(runs, dict):
        out |= _steps("action", runs.get("steps"))
    out |= {f"workflow env {s}" for s in _secrets(document.get("env"))}
    return out


_UNSET = object()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _permissions(where: str, value: Any) -> set[str]:
    if value is _UNSET:
        return {f"{where} permissions default"}
    return {f"{where} permissions {_canonical(value)}"}


def _triggers(value: Any) -> set[str]:
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        return {f"trigger {t}" for t in value if t in _EXPOSING}
    if isinstance(value, dict):
        return {f"trigger {t} {_canonical(c)}" for t, c in value.items() if t in _EXPOSING}
    return set()


def _who(where: str, condition: Any) -> set[str]:
    text = str(condition) if condition is not None else ""
    return {f"{where} runs if {' '.join(text.split())}"} if _WHO.search(text) else set()


def _secrets(value: Any) -> Iterator[str]:
    """Secret and token references inside a value (``inherit`` too), with their keys."""
    if value == "inherit":
        yield "secrets: inherit"
        return
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        key, node = stack.pop()
        if isinstance(node, dict):
            stack += [(f"{key}.{k}" if key else str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(key, v) for v in node]
        elif isinstance(node, str):
            for m in _SECRET.finditer(node):
                yield f"{key}={' '.join(m.group().split())}"


def _steps(where: str, steps: Any) -> set[str]:
    out: set[str] = set()
    if not isinstance(steps, list):
        return out
    for n, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        label = step.get("id") or step.get("name") or _action(step.get("uses", "")) or f"#{n}"
        here = f"{where} step {label}"
        out |= {
            f"{here} gets {s}" for s in _secrets({k: step.get(k) for k in ("env", "with", "run")})
        }
        out |= _who(here, step.get("if"))
        uses = str(step.get("uses") or "")
        if _CREDENTIAL_ACTION.search(uses):
            out.add(f"{here} credentials {_action(uses)} {_canonical(step.get('with'))}")
        given = step.get("with")
        inputs: dict[str, Any] = given if isinstance(given, dict) else {}
        if "persist-credentials" in inputs:
            out.add(f"{here} persist-credentials {inputs['persist-credentials']}")
    return out


def _action(uses: Any) -> str:
    """An action or called workflow without its version (``actions/checkout@v4`` -> name)."""
    return str(uses).split("@", 1)[0]


def workflow_rules(
    path: str, old: str | None, new: str | None, lines: list[Line]
) -> dict[str, list[tuple[str, int]]] | None:
    """``{ci.identity: lines}`` (or ``{}``); ``None`` when a side cannot be read.

    ``old``/``new`` are the sides' texts, ``""`` for a side that does not exist.
    """
    if old is None or new is None:
        return None
    try:
        old_doc, new_doc = (load_yaml(old) if old else None), (load_yaml(new) if new else None)
        before = facts(old_doc) if old else set()
        after = facts(new_doc) if new else set()
    except ValueError:
        return None
    after -= {f"job {name} permissions default" for name in _holding_nothing_new(old_doc, new_doc)}
    differing = before ^ after
    if not differing:
        return {}
    words = {w for f in differing for w in re.findall(r"[\w.-]{4,}", f)}
    where = [(s, n) for s, n, t in lines if any(w in t for w in words)]
    return {RULE: where or [(s, n) for s, n, _ in lines[:1]]}


def _holding_nothing_new(old: Any, new: Any) -> Iterator[str]:
    """New jobs of an existing workflow that hold exactly what an existing job holds.

    Such a job has no ``permissions:``, ``secrets:``, ``environment:`` or called workflow,
    no step that reads a secret or the token, uses a credential action or ``actions/checkout``
    (which persists the token); the workflow's own permissions did not change, and they are
    set, or an existing job also runs with the default (else the default is new here).
    """
    if not isinstance(old, dict) or not isinstance(new, dict):
        return  # a new workflow, or one that facts() refuses anyway
    unset = _UNSET
    if _canonical(old.get("permissions", unset)) != _canonical(new.get("permissions", unset)):
        return
    old_jobs, new_jobs = old.get("jobs"), new.get("jobs")
    if not isinstance(old_jobs, dict) or not isinstance(new_jobs, dict):
        return
    defaulted = "permissions" in old or any(
        isinstance(j, dict) and "permissions" not in j for j in old_jobs.values()
    )
    for name, job in new_jobs.items():
        if defaulted and name not in old_jobs and isinstance(job, dict) and _bare(job):
            yield str(name)


def _bare(job: dict[Any, Any]) -> bool:
    """True when a job asks for no rights, secret, token, credential or checkout."""
    if {"permissions", "secrets", "environment", "uses"} & set(job) or any(_secrets(job)):
        return False
    steps = job.get("steps")
    for step in steps if isinstance(steps, list) else []:
        uses = str(step.get("uses") or "") if isinstance(step, dict) else ""
        if _CREDENTIAL_ACTION.search(uses) or _action(uses).casefold() == "actions/checkout":
            return False
    return True


def workflows_document() -> dict[str, Any]:
    """The stage's tables, for the ruleset digest."""
    return {
        "exposing": sorted(_EXPOSING),
        "secret": _SECRET.pattern,
        "who": _WHO.pattern,
        "credential_action": _CREDENTIAL_ACTION.pattern,
        "new_job_bare_unless": ["permissions", "secrets", "environment", "uses", "checkout"],
    }
