"""``provenance hooks``: a prepare-commit-msg hook adding ``Assisted-by:`` during a session.

The trailer is a courtesy to people reading ``git log``; it proves nothing. The gate can
compare it with the signed change attestations (policy ``[agents] trailer``), which are the
evidence. Our own git calls never run hooks (``core.hooksPath=/dev/null``); this hook runs
in the agent's ``git commit``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from provenance.app.stamp import work_tree
from provenance.errors import GitError, UsageError
from provenance.gitio import Git

HOOK_NAME = "prepare-commit-msg"
MARKER = "# provenance-hook: prepare-commit-msg v1"
CHAINED_SUFFIX = ".provenance-chained"

HOOK_TEMPLATE = """#!/bin/sh
{marker}
# Installed by `provenance hooks install`. While `provenance run` wraps an agent session
# (PROVENANCE_SESSION is set), add "Assisted-by: TOOL:MODEL" to the commit message.
{chain}[ -n "${{PROVENANCE_SESSION:-}}" ] || exit 0
[ -n "${{PROVENANCE_ASSISTED_BY:-}}" ] || exit 0
exec git interpret-trailers --in-place --if-exists addIfDifferent \\
    --trailer "Assisted-by: $PROVENANCE_ASSISTED_BY" "$1"
"""

CHAIN_TEMPLATE = """chained="$(dirname "$0")/{name}"
if [ -x "$chained" ]; then "$chained" "$@" || exit $?; fi
"""


@dataclass(frozen=True)
class HookInstall:
    """Where the hook went and what happened to a hook that was there before."""

    path: Path
    chained: Path | None
    replaced: bool


def hooks_dir(git: Git) -> Path:
    """The directory git runs hooks from: ``core.hooksPath`` if configured, else ``hooks/``.

    Our runner pins ``core.hooksPath=/dev/null`` on the command line, so the configured value
    is read from the other scopes explicitly.
    """
    configured = [v for scope, v in git.config_by_scope("core.hooksPath") if scope != "command"]
    common = git.common_dir()
    if configured:
        path = Path(os.path.expanduser(configured[-1]))
        if not path.is_absolute():
            path = (work_tree(git) or common) / path
        return path
    return common / "hooks"


def _ours(path: Path) -> bool:
    try:
        return MARKER in path.read_text(errors="replace")
    except OSError:
        return False


def install_hook(repo: Path, *, force: bool = False, chain: bool = False) -> HookInstall:
    """Write the hook; refuse to clobber a foreign hook unless ``force`` or ``chain``."""
    if force and chain:
        raise UsageError("give --force or --chain, not both")
    git = Git.discover(repo)
    directory = hooks_dir(git)
    target = directory / HOOK_NAME
    chained: Path | None = None
    replaced = False
    if target.exists() and not _ours(target):
        if chain:
            chained = target.with_name(HOOK_NAME + CHAINED_SUFFIX)
            if chained.exists():
                raise UsageError(f"{chained} already exists; move it away first")
            target.rename(chained)
        elif force:
            replaced = True
        else:
            raise UsageError(
                f"{target} exists and was not written by provenance",
                hint="rerun with --chain to run it first, or --force to replace it",
            )
    elif target.exists() and (target.with_name(HOOK_NAME + CHAINED_SUFFIX)).exists():
        chained = target.with_name(HOOK_NAME + CHAINED_SUFFIX)
    chain_text = CHAIN_TEMPLATE.format(name=chained.name) if chained else ""
    text = HOOK_TEMPLATE.format(marker=MARKER, chain=chain_text)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{HOOK_NAME}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(target)
    except OSError as e:
        raise GitError(f"cannot write {target}: {e.strerror}") from e
    return HookInstall(path=target, chained=chained, replaced=replaced)


def uninstall_hook(repo: Path) -> Path | None:
    """Remove our hook (restoring a chained one); a foreign hook is left alone."""
    target = hooks_dir(Git.discover(repo)) / HOOK_NAME
    if not _ours(target):
        return None
    chained = target.with_name(HOOK_NAME + CHAINED_SUFFIX)
    if chained.exists():
        chained.replace(target)
    else:
        target.unlink()
    return target
