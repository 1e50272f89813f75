"""Symbolic links of trees, and the other paths through which a changed file can be reached.

A directory symlink that already exists (``app/auth -> ../lib/core``) makes an edit of
``lib/core/verify.py`` an edit of ``app/auth/verify.py`` too (THREATS.md E26, G48). The gate
therefore judges each change also at its *aliases*: the paths that name the same file through
the symlinks of BASE, HEAD and the commit's own trees.

Reading every tree of a range would cost one ``ls-tree -r`` per commit, so a tree is listed
once (cached per tree id) and commits inside a range inherit their first parent's links,
updated by the symlink entries of their first-parent diff (``RangeLinks``).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from provenance.gitio.batch import read_objects
from provenance.gitio.runner import Git
from provenance.models import FileChange

SYMLINK_MODE = "120000"
#: Bounds on alias resolution: chains of links, aliases kept per path, aliases explored per
#: path. A search that reaches a bound is reported incomplete, and the classifier then fails
#: closed (red-team 04: 32 neutral links filled the list and hid the identity alias).
MAX_DEPTH = 8
MAX_ALIASES = 32
MAX_EXPLORED = 4096
#: Link targets longer than this are not paths anyone resolves.
_MAX_TARGET = 4096

#: path of a symlink -> its target as stored in the blob
Links = Mapping[str, str]
EMPTY_LINKS: Links = MappingProxyType({})


@lru_cache(maxsize=16)
def _listing(git: Git, tree: str) -> tuple[tuple[str, str, str], ...]:
    """``(mode, oid, path)`` of every entry of ``tree``, recursively (one ``ls-tree``)."""
    out = git.run("ls-tree", "-r", "-z", "--full-tree", tree).stdout
    entries = []
    for record in out.split(b"\x00"):
        meta, tab, path = record.partition(b"\t")
        if tab:
            mode, _kind, oid = meta.decode().split()
            entries.append((mode, oid, path.decode("utf-8", "surrogateescape")))
    return tuple(entries)


def tree_blobs(git: Git, tree: str) -> dict[str, str]:
    """``{path: object id}`` of every entry of ``tree`` (listed once per process and tree)."""
    return {path: oid for _mode, oid, path in _listing(git, tree)}


def tree_links(git: Git, tree: str) -> dict[str, str]:
    """Every symlink of ``tree`` (recursively) with its target: one ``ls-tree``, one batch read."""
    pairs = [(path, oid) for mode, oid, path in _listing(git, tree) if mode == SYMLINK_MODE]
    return _read_targets(git, pairs) if pairs else {}


def _read_targets(git: Git, pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{path: target}`` for ``(path, link blob id)`` pairs, in one ``cat-file`` batch."""
    paths_by_oid: dict[str, list[str]] = {}
    for path, oid in pairs:
        paths_by_oid.setdefault(oid, []).append(path)
    links: dict[str, str] = {}
    for oid, _kind, data in read_objects(git, list(paths_by_oid), max_bytes=_MAX_TARGET):
        target = "" if data is None else data.decode("utf-8", "surrogateescape")
        for path in paths_by_oid[oid]:
            links[path] = target  # an unreadable target resolves to nothing
    return links


def link_updates(git: Git, changes: Iterable[FileChange]) -> tuple[dict[str, str], set[str]]:
    """Symlinks a diff adds or changes (with targets) and the paths where one disappears."""
    changes = list(changes)
    pairs = [(c.path, c.new_oid) for c in changes if c.new_mode == SYMLINK_MODE and c.new_oid]
    removed = {c.old_path for c in changes if c.old_mode == SYMLINK_MODE}
    added = _read_targets(git, pairs) if pairs else {}
    return added, removed - set(added)


def _resolve(link: str, target: str) -> str | None:
    """Where ``link -> target`` lands as a repository path; ``None`` if outside or absolute."""
    if not target or target.startswith(("/", "\\")) or len(target) > _MAX_TARGET:
        return None
    landed = posixpath.normpath(posixpath.join(posixpath.dirname(link), target.replace("\\", "/")))
    if landed == ".." or landed.startswith("../") or landed.startswith("/"):
        return None
    return "" if landed == "." else landed


@dataclass(frozen=True)
class AliasIndex:
    """Resolved links of some trees, indexed by the path they land on."""

    #: landing path ("" for the root) -> link paths that land there
    by_target: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def of(cls, *link_sets: Links) -> AliasIndex:
        """Index the union of several trees' links."""
        by_target: dict[str, list[str]] = {}
        for links in link_sets:
            for link, target in links.items():
                landed = _resolve(link, target)
                if landed is not None and link not in by_target.setdefault(landed, []):
                    by_target[landed].append(link)
        return cls({k: tuple(v) for k, v in by_target.items()})

    def aliases(self, path: str) -> tuple[str, ...]:
        """Other paths naming ``path`` through the links (see :meth:`search`)."""
        return self.search(path)[0]

    def search(self, path: str) -> tuple[tuple[str, ...], bool]:
        """Other paths naming ``path`` through the links, and whether the search was complete.

        Chains are followed, each link at most once per chain (a link into its own ancestor,
        ``lib/loop -> .``, names the same file again and again); the search stops after
        ``MAX_DEPTH`` links or ``MAX_EXPLORED`` aliases, and then says it is incomplete.
        """
        if not self.by_target:
            return (), True
        found: dict[str, None] = {}
        frontier: list[tuple[str, frozenset[str]]] = [(path, frozenset())]
        for _ in range(MAX_DEPTH):
            nxt = []
            for p, used in frontier:
                for alias, link in self._one_step(p):
                    if link in used or alias == path:
                        continue
                    if alias not in found:
                        if len(found) >= MAX_EXPLORED:
                            return tuple(found), False
                        found[alias] = None
                    nxt.append((alias, used | {link}))
            if not nxt:
                return tuple(found), True
            frontier = nxt
        return tuple(found), False

    def _one_step(self, path: str) -> list[tuple[str, str]]:
        """(alias, link) naming ``path`` through one link: the link itself or a directory link."""
        out = []
        head = path
        while True:
            rest = path[len(head) :]  # "" or "/name..." below ``head``
            for link in self.by_target.get(head, ()):
                out.append((link + rest if head else f"{link}/{path}", link))
            if not head:
                return out
            head = head.rpartition("/")[0]
