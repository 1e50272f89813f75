"""``provenance hooks``: a prepare-commit-msg hook adding ``Assisted-by:`` during a session,
a post-rewrite hook linking amended and rebased commits to the commits they replace, and a
post-commit hook linking a ``cherry-pick -x`` to the commit it names.

The trailer is a courtesy to people reading ``git log``; it proves nothing. The gate can
compare it with the signed change attestations (policy ``[agents] trailer``), which are the
evidence. Our own git calls never run hooks (``core.hooksPath=/dev/null``); this hook runs
in the agent's ``git commit``.
"""

from __future__ import annotations

import os
import shlex
import stat
import sys
from collections.abc import Callable
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

REWRITE_HOOK = "post-rewrite"
REWRITE_MARKER = "# provenance-hook: post-rewrite v1"
REWRITE_TEMPLATE = """#!/bin/sh
{marker}
# Installed by `provenance hooks install`. After `git commit --amend` and `git rebase`
# (squash and fixup included), link each new commit to the commits it replaces, so it may
# pass the gate on their attestations (the gate recomputes every link). Never fails the
# rewrite: a link that does not hold is reported and not recorded.
input="$(cat)"
{chain_stdin}printf '%s\n' "$input" | {python} -m provenance link --rewritten "$1" || true
"""

PICK_HOOK = "post-commit"
PICK_MARKER = "# provenance-hook: post-commit v1"
PICK_TEMPLATE = """#!/bin/sh
{marker}
# Installed by `provenance hooks install`. After `git cherry-pick -x`, link the new commit to
# the commit its "(cherry picked from commit ...)" line names, when that one carries
# attestations (the gate recomputes every link). Never fails the commit.
{chain}line='^(cherry picked from commit \\([0-9a-f]\\{{40,64\\}}\\))$'
sha="$(git log -1 --format=%B HEAD | sed -n "s/$line/\\1/p" | tail -n 1)"
[ -n "$sha" ] || exit 0
printf '%s %s\\n' "$sha" "$(git rev-parse HEAD)" \\
    | {python} -m provenance link --rewritten cherry-pick || true
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


def _ours(path: Path, marker: str = MARKER) -> bool:
    try:
        return marker in path.read_text(errors="replace")
    except OSError:
        return False


def _install_one(directory: Path, name: str, marker: str, render: Callable[[str], str],
                 *, force: bool, chain: bool) -> HookInstall:  # fmt: skip
    """Write one hook; refuse to clobber a foreign hook unless ``force`` or ``chain``."""
    target = directory / name
    chained: Path | None = None
    replaced = False
    if target.exists() and not _ours(target, marker):
        if chain:
            chained = target.with_name(name + CHAINED_SUFFIX)
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
    elif target.exists() and (target.with_name(name + CHAINED_SUFFIX)).exists():
        chained = target.with_name(name + CHAINED_SUFFIX)
    text = render(chained.name if chained else "")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(target)
    except OSError as e:
        raise GitError(f"cannot write {target}: {e.strerror}") from e
    return HookInstall(path=target, chained=chained, replaced=replaced)


def _commit_msg_hook(chained: str) -> str:
    chain_text = CHAIN_TEMPLATE.format(name=chained) if chained else ""
    return HOOK_TEMPLATE.format(marker=MARKER, chain=chain_text)


def _rewrite_hook(chained: str) -> str:
    chain_text = (
        f'chained="$(dirname "$0")/{chained}"\n'
        'if [ -x "$chained" ]; then printf \'%s\\n\' "$input" | "$chained" "$@"; fi\n'
        if chained else ""
    )  # fmt: skip
    python = shlex.quote(sys.executable)
    return REWRITE_TEMPLATE.format(marker=REWRITE_MARKER, chain_stdin=chain_text, python=python)


def _pick_hook(chained: str) -> str:
    chain_text = CHAIN_TEMPLATE.format(name=chained) if chained else ""
    python = shlex.quote(sys.executable)
    return PICK_TEMPLATE.format(marker=PICK_MARKER, chain=chain_text, python=python)


def install_hook(repo: Path, *, force: bool = False, chain: bool = False) -> HookInstall:
    """Write the hooks; refuse to clobber a foreign hook unless ``force`` or ``chain``.

    Returns the prepare-commit-msg hook's install (post-rewrite and post-commit sit beside it).
    """
    if force and chain:
        raise UsageError("give --force or --chain, not both")
    directory = hooks_dir(Git.discover(repo))
    done = _install_one(directory, HOOK_NAME, MARKER, _commit_msg_hook, force=force, chain=chain)
    _install_one(directory, REWRITE_HOOK, REWRITE_MARKER, _rewrite_hook, force=force, chain=chain)
    _install_one(directory, PICK_HOOK, PICK_MARKER, _pick_hook, force=force, chain=chain)
    return done


def uninstall_hook(repo: Path) -> Path | None:
    """Remove our hooks (restoring chained ones); a foreign hook is left alone."""
    directory = hooks_dir(Git.discover(repo))
    removed = None
    ours = ((PICK_HOOK, PICK_MARKER), (REWRITE_HOOK, REWRITE_MARKER), (HOOK_NAME, MARKER))
    for name, marker in ours:
        target = directory / name
        if not _ours(target, marker):
            continue
        chained = target.with_name(name + CHAINED_SUFFIX)
        if chained.exists():
            chained.replace(target)
        else:
            target.unlink()
        removed = target
    return removed
