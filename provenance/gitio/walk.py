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
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from graphlib import TopologicalSorter
from pathlib import Path

from provenance.errors import GitError
from provenance.gitio.batch import read_objects
from provenance.gitio.enrich import LinkTracker, Want, attach_aliases, attach_sources
from provenance.gitio.objects import parse_commit, resolve_commit
from provenance.gitio.revision import RangeError as RangeError  # re-exported
from provenance.gitio.runner import Git
from provenance.gitio.stream import changes_between, changes_of, raw_changes_of
from provenance.gitio.symlinks import SYMLINK_MODE, AliasIndex, Links, tree_blobs
from provenance.models import FileChange
from provenance.reasons import Reason

_ABSENT = ""
#: Merges recomputed at once (each a ``merge-tree`` and a ``diff-tree``, mostly git's time).
_MERGE_THREADS = 2
_NONE = "000000"


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
            Reason.RANGE_INVALID,
            f"{spec!r}: symmetric ranges are not supported",
            hint="use BASE..HEAD",
        )
    if ".." not in spec:
        return None
    base, _, head = spec.partition("..")
    if not base or not head:
        raise RangeError(Reason.RANGE_INVALID, f"{spec!r}: give both ends, BASE..HEAD")
    return base, head


def walk_range(git: Git, base_rev: str, head_rev: str) -> tuple[str, str, list[RangeCommit]]:
    """Resolve and check a range; refuse unrelated histories, non-ancestors and empty ranges."""
    base, head = resolve_commit(git, base_rev), resolve_commit(git, head_rev)
    if git.run("merge-base", base, head, check=False).returncode != 0:
        raise RangeError(Reason.UNRELATED_HISTORIES, f"{base_rev} and {head_rev} share no history")
    if not git.is_ancestor(base, head):
        raise RangeError(
            Reason.BASE_NOT_ANCESTOR,
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
            Reason.RANGE_EMPTY,
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
    return read_range(git, commits).own


@dataclass(frozen=True)
class RangeChanges:
    """What every commit of a range changed, as the classifier needs it.

    ``own``: non-merges against their parent, merges their own (remerge) changes.
    ``brought``: for each merge, its diff against its first parent, i.e. what it brings into
    the mainline, at the paths where it lands (THREATS.md G43: a side branch's edit carried
    across a directory rename the side branch never saw).
    """

    own: dict[str, list[FileChange]]
    brought: dict[str, list[FileChange]]


def read_range(
    git: Git,
    commits: list[RangeCommit],
    *,
    ends: tuple[str, str] | None = None,
    want: Want | None = None,
    prefer: Callable[[str], bool] | None = None,
    own_sources: bool = True,
) -> RangeChanges:
    """Changes of every commit, what merges bring, symlink aliases and wanted sources.

    With ``own_sources`` false, only what merges bring has its sources read: the caller
    reads the commits' own (``attach_sources``) where it judges them.

    Non-merges come from one ``diff-tree --stdin`` stream, merges' own changes from one
    ``merge-tree`` each, and merges' first-parent diffs from one ``--raw`` stream. Only the
    landed changes whose file no side commit of the range produced (``_landed``) are read
    with their lines. Aliases resolve the symlinks of ``ends`` (BASE and HEAD) and of each
    commit's first parent and own tree.
    """
    merges = {c.sha: c.parents[0] for c in commits if c.is_merge}
    with sandbox(git) as box, ThreadPoolExecutor(_MERGE_THREADS) as pool:
        # git merges while this thread parses the stream of non-merges (decision 0021)
        remerged = {c.sha: pool.submit(_merge_changes, box, c) for c in commits if c.is_merge}
        own = changes_of(box.git, [c.sha for c in commits if not c.is_merge], env=box.env)
        for sha, pending in remerged.items():
            own[sha] = pending.result()
        brought = raw_changes_of(box.git, merges, env=box.env)
        base_blobs = tree_blobs(git, ends[0]) if ends and merges else {}
        own, brought = _with_aliases(git, commits, own, brought, ends, prefer)
        brought = _landed_lines(box, commits, own, brought, base_blobs)
    own = attach_sources(git, own, want) if own_sources else own
    return RangeChanges(own, attach_sources(git, brought, want))


def read_alone(
    git: Git,
    commits: list[RangeCommit],
    *,
    want: Want | None = None,
    prefer: Callable[[str], bool] | None = None,
) -> RangeChanges:
    """Changes of commits each judged alone: a range of one, whose BASE is its first parent.

    Non-merges share one stream (each is diffed against its own parent either way); each
    merge is read on its own, so no other commit passes for its merged side.
    """
    by_sha = {c.sha: c for c in commits if not c.is_merge}
    graph = {sha: [p for p in c.parents if p in by_sha] for sha, c in by_sha.items()}
    singles = [by_sha[sha] for sha in TopologicalSorter(graph).static_order()]  # parents first
    own: dict[str, list[FileChange]] = {}
    brought: dict[str, list[FileChange]] = {}
    parts = [read_range(git, singles, want=want, prefer=prefer)] if singles else []
    parts += [read_range(git, [c], ends=(c.parents[0], c.sha), want=want, prefer=prefer)
              for c in commits if c.is_merge]  # fmt: skip
    for part in parts:
        own |= part.own
        brought |= part.brought
    return RangeChanges(own, brought)


def _landed_lines(
    box: Sandbox,
    commits: list[RangeCommit],
    own: dict[str, list[FileChange]],
    brought: dict[str, list[FileChange]],
    base_blobs: dict[str, str],
) -> dict[str, list[FileChange]]:
    """Each merge's landed changes that need judging, read again with their lines."""
    parents = {c.sha: c.parents[0] for c in commits if c.is_merge}
    out: dict[str, list[FileChange]] = {}
    for sha, landed in _landed(commits, own, brought, base_blobs).items():
        aliases = {c.path: c.aliases for c in landed}
        limit = sorted({p for c in landed for p in (c.path, c.old_path)})
        full = changes_between(box.git, parents[sha], sha, env=box.env, paths=limit)
        out[sha] = [replace(c, aliases=aliases[c.path]) for c in full if c.path in aliases]
    return out


def _as_in_base(change: FileChange, base_blobs: dict[str, str]) -> bool:
    """True when the path ends up exactly as BASE had it (same blob, or absent from both)."""
    return base_blobs.get(change.path, _ABSENT) == _landed_oid(change)


def _landed(
    commits: list[RangeCommit],
    own: dict[str, list[FileChange]],
    brought: dict[str, list[FileChange]],
    base_blobs: dict[str, str],
) -> dict[str, list[FileChange]]:
    """Per merge, the first-parent changes whose landed file no side commit was judged in.

    A landed change is already judged when a commit of the merged side (in the range,
    reachable from another parent and not from the first) produced that very blob at that
    same path with at least the same symlink aliases: its rules then read the whole file as
    it lands. Or when the content there is exactly BASE's (the merge brings back what the
    trusted base had, as when a release branch is merged into a feature branch). What
    remains arrives somewhere no commit of the range was judged: a side edit carried across
    a directory rename, into a symlinked directory, or combined with the mainline's own
    edits of the file, where an early return neutral on its branch lands above the check
    the mainline added (G43 x G45). Those are judged in the merged file's context.
    """
    index = {c.sha: i for i, c in enumerate(commits)}
    reach: list[int] = []
    touched: dict[tuple[str, str], list[tuple[int, frozenset[str]]]] = {}
    result: dict[str, list[FileChange]] = {}
    for i, c in enumerate(commits):
        bits = 1 << i
        for parent in c.parents:
            if parent in index:
                bits |= reach[index[parent]]
        reach.append(bits)
        if c.is_merge:
            first = reach[index[c.parents[0]]] if c.parents[0] in index else 0
            side = (bits & ~first) & ~(1 << i)
            pending = [
                ch
                for ch in brought.get(c.sha, [])
                if not _as_in_base(ch, base_blobs)
                and not any(
                    b & side and set(ch.aliases) <= aliases
                    for b, aliases in touched.get((ch.path, _landed_oid(ch)), ())
                )
            ]
            if pending:
                result[c.sha] = pending
        # What each commit left at a path: its own changes, and for a merge the files its
        # first parent diff lands (judged here when no side commit had produced them).
        for ch in (*own[c.sha], *brought.get(c.sha, ())):
            for key in _left(ch):
                touched.setdefault(key, []).append((1 << i, frozenset(ch.aliases)))
    return result


def _left(change: FileChange) -> list[tuple[str, str]]:
    """(path, blob) pairs a change leaves: its destination, and a renamed source gone."""
    left = [(change.path, _landed_oid(change))]
    if change.status.startswith("R") and change.old_path != change.path:
        left.append((change.old_path, _ABSENT))
    return left


def _landed_oid(change: FileChange) -> str:
    """The blob a change leaves at its path (``_ABSENT`` when it deletes it)."""
    return change.new_oid if change.new_mode != _NONE else _ABSENT


def _with_aliases(
    git: Git,
    commits: list[RangeCommit],
    own: dict[str, list[FileChange]],
    brought: dict[str, list[FileChange]],
    ends: tuple[str, str] | None,
    prefer: Callable[[str], bool] | None = None,
) -> tuple[dict[str, list[FileChange]], dict[str, list[FileChange]]]:
    """Each change with the paths naming it through symlinks (THREATS.md E26, G48).

    ``prefer`` names the aliases to keep first when there are too many (identity paths).
    """
    tracker = LinkTracker(git, {})
    changed = (c for v in (*own.values(), *brought.values()) for c in v)
    if not any(SYMLINK_MODE in (c.old_mode, c.new_mode) for c in changed) and not any(
        tracker.listed(end) for end in ends or ()
    ):
        return own, brought  # no symbolic link anywhere: nothing has another name
    for c in commits:
        tracker.advance(c.sha, c.parents[0] if c.parents else None, brought.get(c.sha, own[c.sha]))
    fixed = [tracker.of(end) for end in ends or ()]
    cache: dict[tuple[int, ...], AliasIndex] = {}

    def links(c: RangeCommit) -> list[Links]:
        return [*fixed, *(tracker.of(p) for p in c.parents[:1]), tracker.of(c.sha)]

    own = {c.sha: attach_aliases(own[c.sha], links(c), cache, prefer) for c in commits}
    brought = {
        c.sha: attach_aliases(v, links(c), cache, prefer)
        for c in commits
        if (v := brought.get(c.sha)) is not None
    }
    return own, brought
