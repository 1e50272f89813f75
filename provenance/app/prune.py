"""``prune``: remove stored lines that are refused for a reason that can never change.

The gate no longer needs this (junk neither costs much nor outvotes evidence, G52); pruning
keeps notes small. Each note is read and written as a stream, every line is decided by
:func:`provenance.verify.prune.permanent_refusal` (lines that verify, or could with another
root or policy, are always kept), and the notes ref moves by compare-and-swap: if anyone
wrote meanwhile, everything is decided again from the new tip.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from provenance.app.options import VerifyOptions
from provenance.app.policy_source import resolve_policy
from provenance.errors import StoreError
from provenance.gitio import Commit, Git, check_repository_safe, read_commit, resolve_commit
from provenance.gitio.walk import parse_range, walk_range
from provenance.store import NotesStore
from provenance.verify.prune import permanent_refusal
from provenance.verify.trust import TrustContext

_ATTEMPTS = 8


@dataclass(frozen=True)
class CommitPrune:
    """What pruning does (or would do) to one commit's note."""

    commit: str
    kept: int
    removed: dict[str, int]


@dataclass(frozen=True)
class PruneResult:
    """The whole plan, and whether it was written."""

    notes_ref: str
    commits: list[CommitPrune] = field(default_factory=list)
    written: bool = False

    @property
    def removed(self) -> int:
        """Lines removed (or to remove) in total."""
        return sum(sum(c.removed.values()) for c in self.commits)


def _targets(git: Git, spec: str) -> tuple[list[str], str]:
    """Commits of ``BASE..HEAD`` (policy from BASE) or one commit (policy from HEAD)."""
    parsed = parse_range(spec)
    if parsed is None:
        return [resolve_commit(git, spec)], resolve_commit(git, "HEAD")
    base, _head, commits = walk_range(git, *parsed)
    return [c.sha for c in commits], base


def _kept_lines(
    store: NotesStore, blob: str, commit: Commit, trust: TrustContext, removed: Counter[str]
) -> Iterator[bytes]:
    seen: set[bytes] = set()
    for raw in store.stream_note(blob):
        line = None if raw is None else raw.strip(b"\r")
        if line is not None and (not line or line in seen):
            continue
        reason = permanent_refusal(line, commit, trust)
        if reason is not None:
            removed[reason] += 1
        elif line is not None:
            seen.add(line)
            yield line


def _plan(
    git: Git, store: NotesStore, shas: list[str], trust: TrustContext
) -> tuple[list[CommitPrune], dict[str, str | None]]:
    blobs = store.note_blobs()
    plan: list[CommitPrune] = []
    writes: dict[str, str | None] = {}
    for sha in shas:
        if sha not in blobs:
            continue
        removed: Counter[str] = Counter()
        kept = list(_kept_lines(store, blobs[sha], read_commit(git, sha), trust, removed))
        plan.append(CommitPrune(sha, len(kept), dict(sorted(removed.items()))))
        if removed:
            writes[sha] = store.write_note(kept) if kept else None
    return plan, writes


def prune(repo: Path, spec: str, options: VerifyOptions, *, dry_run: bool = False) -> PruneResult:
    """Remove permanently refused lines from the notes of ``spec``'s commits."""
    git = Git.discover(repo)
    check_repository_safe(git)
    shas, policy_rev = _targets(git, spec)
    loaded = resolve_policy(git, options.policy, policy_rev)
    trust = options.trust(loaded)
    store = NotesStore.of_policy(git, loaded.policy)
    for _attempt in range(_ATTEMPTS):
        old = store.tip()
        if old is None:
            raise StoreError(
                f"{loaded.policy.notes_ref} does not exist: there is nothing to prune",
                hint=f"git fetch origin '{loaded.policy.notes_ref}:{loaded.policy.notes_ref}'",
            )
        plan, writes = _plan(git, store, shas, trust)
        result = PruneResult(loaded.policy.notes_ref, plan)
        if dry_run or not writes:
            return result
        if store.replace_notes(old, writes):
            return PruneResult(loaded.policy.notes_ref, plan, written=True)
    raise StoreError(
        f"{loaded.policy.notes_ref} kept moving while pruning; nothing was removed",
        hint="run provenance prune again when no stamp or sync is running",
    )
