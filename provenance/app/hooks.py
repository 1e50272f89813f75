"""``provenance hooks``: git hooks for people and agents working in a clone.

- ``prepare-commit-msg`` adds ``Assisted-by:`` during a session. The trailer is a courtesy to
  people reading ``git log``; it proves nothing. The gate can compare it with the signed
  change attestations (policy ``[agents] trailer``), which are the evidence.
- ``post-rewrite`` links amended and rebased commits (squash and fixup included) to the
  commits they replace, and ``post-commit`` links a ``cherry-pick -x`` to the commit it
  names (``provenance link``; the gate recomputes every link). These three are one set.
- ``pre-push`` (``--pre-push``) refuses to push commits the gate would refuse, decided by
  ``provenance verify`` exactly as the gate decides named commits: a local early warning
  (``git push --no-verify`` skips it; the release gate is what enforces).

Our own git calls never run hooks (``core.hooksPath=/dev/null``); these run in the user's
or the agent's git. Each runs provenance with the interpreter that installed it, never a
``provenance`` found on ``PATH`` (red-team 02: a PATH entry the agent writes).
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

PRE_PUSH = "pre-push"
PRE_PUSH_MARKER = "# provenance-hook: pre-push v1"

PRE_PUSH_TEMPLATE = """#!/bin/sh
{marker}
# Installed by `provenance hooks install --pre-push`: refuse to push commits whose
# identity-related changes lack a valid attestation, decided as the release gate decides
# named commits (`provenance verify COMMIT...`). `git push --no-verify` skips this check;
# the release gate does not. Publish attestations with `provenance sync`.
input=$(cat)
{chain}remote="$1"
zero=0000000000000000000000000000000000000000
status=0
while read -r local_ref local_sha remote_ref remote_sha; do
    [ -n "$local_sha" ] && [ "$local_sha" != "$zero" ] || continue
    case "$remote_ref" in refs/notes/*) continue ;; esac
    if [ "$remote_sha" != "$zero" ] && git cat-file -e "$remote_sha^{{commit}}" 2>/dev/null; then
        commits=$(git rev-list "$local_sha" --not "$remote_sha" --remotes="$remote" --)
    else
        commits=$(git rev-list "$local_sha" --not --remotes="$remote" --)
    fi
    [ -n "$commits" ] || continue
    # commit ids only: split on purpose
    if ! {python} -m provenance verify $commits >&2; then
        echo "provenance: not pushing $local_ref: the gate would refuse the commits above" >&2
        echo "  hint: have them stamped (provenance stamp / run) and approved, then push" >&2
        status=1
    fi
done <<EOF
$input
EOF
exit $status
"""

CHAIN_TEMPLATE = """chained="$(dirname "$0")/{name}"
if [ -x "$chained" ]; then "$chained" "$@" || exit $?; fi
"""

PRE_PUSH_CHAIN_TEMPLATE = """chained="$(dirname "$0")/{name}"
if [ -x "$chained" ]; then printf '%s\\n' "$input" | "$chained" "$@" || exit $?; fi
"""


@dataclass(frozen=True)
class HookKind:
    """One hook provenance installs: its file name, marker line, and its text given the name
    of a chained hook (empty when none)."""

    name: str
    marker: str
    render: Callable[[str], str]


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


def _ours(path: Path, marker: str) -> bool:
    try:
        return marker in path.read_text(errors="replace")
    except OSError:
        return False


def _install_one(directory: Path, kind: HookKind, *, force: bool, chain: bool) -> HookInstall:
    """Write one hook; refuse to clobber a foreign hook unless ``force`` or ``chain``."""
    name, marker, render = kind.name, kind.marker, kind.render
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


def _pre_push_hook(chained: str) -> str:
    chain_text = PRE_PUSH_CHAIN_TEMPLATE.format(name=chained) if chained else ""
    python = shlex.quote(sys.executable)
    return PRE_PUSH_TEMPLATE.format(marker=PRE_PUSH_MARKER, chain=chain_text, python=python)


PREPARE_COMMIT_MSG_HOOK = HookKind(HOOK_NAME, MARKER, _commit_msg_hook)
REWRITE_HOOK_KIND = HookKind(REWRITE_HOOK, REWRITE_MARKER, _rewrite_hook)
PICK_HOOK_KIND = HookKind(PICK_HOOK, PICK_MARKER, _pick_hook)
PRE_PUSH_HOOK = HookKind(PRE_PUSH, PRE_PUSH_MARKER, _pre_push_hook)

#: What each install writes: the session set (trailer and rewrite links), or the pre-push check.
_SETS: dict[str, tuple[HookKind, ...]] = {
    HOOK_NAME: (PREPARE_COMMIT_MSG_HOOK, REWRITE_HOOK_KIND, PICK_HOOK_KIND),
    PRE_PUSH: (PRE_PUSH_HOOK,),
}


def install_hook(
    repo: Path,
    *,
    force: bool = False,
    chain: bool = False,
    kind: HookKind = PREPARE_COMMIT_MSG_HOOK,
) -> HookInstall:
    """Write ``kind``'s set of hooks; refuse to clobber a foreign hook unless ``force`` or
    ``chain``. Returns ``kind``'s own install (the others of its set sit beside it)."""
    if force and chain:
        raise UsageError("give --force or --chain, not both")
    directory = hooks_dir(Git.discover(repo))
    done = [_install_one(directory, k, force=force, chain=chain) for k in _SETS[kind.name]]
    return done[0]


def uninstall_hook(repo: Path, kind: HookKind = PREPARE_COMMIT_MSG_HOOK) -> Path | None:
    """Remove ``kind``'s set of hooks (restoring chained ones); a foreign hook is left alone.
    Returns ``kind``'s own path when it was ours."""
    directory = hooks_dir(Git.discover(repo))
    removed = None
    for k in reversed(_SETS[kind.name]):
        target = directory / k.name
        if not _ours(target, k.marker):
            continue
        chained = target.with_name(k.name + CHAINED_SUFFIX)
        if chained.exists():
            chained.replace(target)
        else:
            target.unlink()
        if k is kind:
            removed = target
    return removed


__all__ = [
    "PICK_HOOK_KIND",
    "PREPARE_COMMIT_MSG_HOOK",
    "PRE_PUSH_HOOK",
    "PRE_PUSH_MARKER",
    "REWRITE_HOOK_KIND",
    "HookInstall",
    "HookKind",
    "hooks_dir",
    "install_hook",
    "uninstall_hook",
]
