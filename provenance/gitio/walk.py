"""Revision ranges: every commit of ``BASE..HEAD`` (merges included) and what each changed.

A merge's own changes are what it differs from git's automatic merge of its parents
(``git merge-tree --write-tree``, the idea behind ``--remerge-diff``): code added in neither
parent (evil merge), a conflict resolution, or a fix from one side silently dropped
(THREATS.md E24). Octopus merges fall back to the diff against every parent.

Diffs and merges run in a sandbox: an empty bare git dir over the repository's object database,
so the repository's config, ``.gitattributes`` (merge drivers), ``.gitmodules`` (``ignore``) and
work tree neither run commands nor change what is seen (THREATS.md E27, G38).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from provenance.errors import GitError
from provenance.gitio.batch import read_objects
from provenance.gitio.objects import parse_commit, resolve_commit
from provenance.gitio.revision import RangeError as RangeError  # re-exported
from provenance.gitio.runner import Git
from provenance.gitio.stream import changes_between, changes_of
from provenance.models import FileChange


@dataclass(frozen=True)
class RangeCommit:
    """One commit of a range with its parents, in topological order (oldest first)."""

    sha: str
    parents: tuple[str, ...]

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def parse_range(spec: str) -> tuple[str, str] | None:
    """``BASE..HEAD`` -> (base, head); ``None`` for a single revision. ``...`` is refused."""
    if "..." in spec:
        raise RangeError(
            "range_invalid", f"{spec!r}: symmetric ranges are not supported", hint="use BASE..HEAD"
        )
    if ".." not in spec:
        return None
    base, _, head = spec.partition("..")
    if not base or not head:
        raise RangeError("range_invalid", f"{spec!r}: give both ends, BASE..HEAD")
    return base, head


def walk_range(git: Git, base_rev: str, head_rev: str) -> tuple[str, str, list[RangeCommit]]:
    """Resolve and check a range; refuse unrelated histories, non-ancestors and empty ranges."""
    base, head = resolve_commit(git, base_rev), resolve_commit(git, head_rev)
    if git.run("merge-base", base, head, check=False).returncode != 0:
        raise RangeError("unrelated_histories", f"{base_rev} and {head_rev} share no history")
    if git.run("merge-base", "--is-ancestor", base, head, check=False).returncode != 0:
        raise RangeError(
            "base_not_ancestor",
            f"{base_rev} is not an ancestor of {head_rev}",
            hint="the release base must be in the candidate's history",
        )
    out = git.out("rev-list", "--topo-order", "--reverse", "--parents", f"{base}..{head}", "--")
    commits = []
    for line in out.decode().splitlines():
        sha, *parents = line.split()
        commits.append(RangeCommit(sha, tuple(parents)))
    if not commits:
        raise RangeError(
            "range_empty",
            f"{base_rev}..{head_rev} contains no commit",
            hint="an empty range proves nothing; check the base and head",
        )
    _check_commit_objects(git, commits)
    return base, head, commits


def _check_commit_objects(git: Git, commits: list[RangeCommit]) -> None:
    """Parse every commit object of the range (THREATS.md E29).

    Malformed objects are refused, and so is a walk whose parents differ from the ones the
    objects name: ``info/grafts`` or a forged commit-graph would otherwise hide commits.
    """
    walked = {c.sha: c.parents for c in commits}
    for sha, kind, raw in read_objects(git, list(walked)):
        if kind != "commit" or raw is None:
            raise GitError(f"commit {sha} of the range could not be read ({kind})")
        if parse_commit(sha, raw).parents != walked[sha]:
            raise GitError(
                f"history of {sha} disagrees with its commit object (grafts or commit-graph)",
                hint="remove .git/info/grafts and rebuild the commit-graph, or use a clean clone",
            )


@dataclass(frozen=True)
class Sandbox:
    """A config-free bare git dir reading (and writing) the repository's objects."""

    git: Git
    env: dict[str, str]


@contextmanager
def sandbox(git: Git) -> Iterator[Sandbox]:
    """An empty bare git dir over ``git``'s object database; nothing of the repository applies."""
    objects = Path(git.out("rev-parse", "--git-path", "objects").decode().strip()).resolve()
    fmt = git.out("rev-parse", "--show-object-format").decode().strip()
    with tempfile.TemporaryDirectory(prefix="provenance-git-") as tmp:
        root = Path(tmp)
        (root / "objects").mkdir()
        (root / "refs").mkdir()
        (root / "HEAD").write_text("ref: refs/heads/main\n")
        ext = f"[extensions]\n\tobjectformat = {fmt}\n" if fmt != "sha1" else ""
        (root / "config").write_text(
            f"[core]\n\trepositoryformatversion = {1 if ext else 0}\n\tbare = true\n"
            f"\tattributesFile = /dev/null\n{ext}"
        )
        env = {
            "GIT_OBJECT_DIRECTORY": str(objects),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": "/dev/null",
            "GIT_ATTR_NOSYSTEM": "1",
        }
        yield Sandbox(Git(root), env)


def _merge_changes(box: Sandbox, commit: RangeCommit) -> list[FileChange]:
    git, env = box.git, box.env
    if len(commit.parents) == 2:
        proc = git.run(
            "merge-tree", "--write-tree", "--no-messages", *commit.parents, check=False, env=env
        )
        auto_tree = proc.stdout.decode().split("\n", 1)[0].strip()
        if proc.returncode in (0, 1) and auto_tree:
            return changes_between(git, auto_tree, commit.sha, env=env)
    # Every parent's diff is kept, even for a path another parent's diff already covers:
    # the diff that drops a parent's fix may be the second one (an octopus merge).
    changes: list[FileChange] = []
    for parent in commit.parents:
        for change in changes_between(git, parent, commit.sha, env=env):
            if change not in changes:
                changes.append(change)
    return changes


def merge_changes(git: Git, commit: RangeCommit) -> list[FileChange]:
    """A merge's own changes (remerge diff), or the union against every parent for octopus."""
    with sandbox(git) as box:
        return _merge_changes(box, commit)


def range_changes(git: Git, commits: list[RangeCommit]) -> dict[str, list[FileChange]]:
    """Changes of every commit of a range: non-merges in bulk, merges one by one."""
    with sandbox(git) as box:
        result = changes_of(box.git, [c.sha for c in commits if not c.is_merge], env=box.env)
        for commit in commits:
            if commit.is_merge:
                result[commit.sha] = _merge_changes(box, commit)
    return result
