"""``provenance hooks``: git hooks for people and agents working in a clone.

- ``prepare-commit-msg`` adds ``Assisted-by:`` during a session. The trailer is a courtesy to
  people reading ``git log``; it proves nothing. The gate can compare it with the signed
  change attestations (policy ``[agents] trailer``), which are the evidence.
- ``pre-push`` (``--pre-push``) refuses to push commits the gate would refuse, decided by
  ``provenance verify`` exactly as the gate decides named commits: a local early warning
  (``git push --no-verify`` skips it; the release gate is what enforces).

Our own git calls never run hooks (``core.hooksPath=/dev/null``); these run in the user's
or the agent's git.
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
PRE_PUSH = "pre-push"
PRE_PUSH_MARKER = "# provenance-hook: pre-push v1"
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
    if ! provenance verify $commits >&2; then
        echo "provenance: not pushing $local_ref: the gate would refuse the commits above" >&2
        echo "  hint: have them stamped (provenance stamp / run) and approved, then push" >&2
        status=1
    fi
done <<EOF
$input
EOF
exit $status
"""

PRE_PUSH_CHAIN_TEMPLATE = """chained="$(dirname "$0")/{name}"
if [ -x "$chained" ]; then printf '%s\\n' "$input" | "$chained" "$@" || exit $?; fi
"""


@dataclass(frozen=True)
class HookKind:
    """One hook provenance installs: its file name, marker line and templates."""

    name: str
    marker: str
    template: str
    chain: str


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


PREPARE_COMMIT_MSG_HOOK = HookKind(HOOK_NAME, MARKER, HOOK_TEMPLATE, CHAIN_TEMPLATE)
PRE_PUSH_HOOK = HookKind(PRE_PUSH, PRE_PUSH_MARKER, PRE_PUSH_TEMPLATE, PRE_PUSH_CHAIN_TEMPLATE)


def _ours(path: Path, kind: HookKind = PREPARE_COMMIT_MSG_HOOK) -> bool:
    try:
        return kind.marker in path.read_text(errors="replace")
    except OSError:
        return False


def install_hook(
    repo: Path,
    *,
    force: bool = False,
    chain: bool = False,
    kind: HookKind = PREPARE_COMMIT_MSG_HOOK,
) -> HookInstall:
    """Write the hook; refuse to clobber a foreign hook unless ``force`` or ``chain``."""
    if force and chain:
        raise UsageError("give --force or --chain, not both")
    git = Git.discover(repo)
    directory = hooks_dir(git)
    target = directory / kind.name
    chained: Path | None = None
    replaced = False
    if target.exists() and not _ours(target, kind):
        if chain:
            chained = target.with_name(kind.name + CHAINED_SUFFIX)
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
    elif target.exists() and (target.with_name(kind.name + CHAINED_SUFFIX)).exists():
        chained = target.with_name(kind.name + CHAINED_SUFFIX)
    chain_text = kind.chain.format(name=chained.name) if chained else ""
    text = kind.template.format(marker=kind.marker, chain=chain_text)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{kind.name}.{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.chmod(tmp.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        tmp.replace(target)
    except OSError as e:
        raise GitError(f"cannot write {target}: {e.strerror}") from e
    return HookInstall(path=target, chained=chained, replaced=replaced)


def uninstall_hook(repo: Path, kind: HookKind = PREPARE_COMMIT_MSG_HOOK) -> Path | None:
    """Remove our hook (restoring a chained one); a foreign hook is left alone."""
    target = hooks_dir(Git.discover(repo)) / kind.name
    if not _ours(target, kind):
        return None
    chained = target.with_name(kind.name + CHAINED_SUFFIX)
    if chained.exists():
        chained.replace(target)
    else:
        target.unlink()
    return target
