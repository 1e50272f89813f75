"""``provenance init``: write the commented policy template."""

from __future__ import annotations

from pathlib import Path

from provenance.errors import UsageError
from provenance.gitio import Git
from provenance.policy import POLICY_PATH, parse_policy, render_template


def init_policy(repo: Path, issuer: str, identity: str, *, force: bool = False) -> Path:
    """Write ``.provenance/policy.toml`` in the work tree; refuse to overwrite unless forced."""
    git = Git.discover(repo)
    top = git.work_tree()
    if top is None:
        raise UsageError("init needs a work tree (this repository is bare)")
    target = top / POLICY_PATH
    if target.exists() and not force:
        raise UsageError(f"{target} already exists", hint="pass --force to overwrite it")
    text = render_template(issuer, identity)
    parse_policy(text, source="template")  # the template itself must always be valid
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".toml.tmp")
    tmp.write_text(text)
    tmp.replace(target)
    return target
