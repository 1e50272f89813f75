"""``sync``: exchange attestations with a remote by union, fast-forward pushes only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provenance.app.policy_source import load_policy_at
from provenance.gitio import Git
from provenance.store import DEFAULT_NOTES_REF
from provenance.store.sync import NotesSync, SyncResult


def notes_ref_of(git: Git) -> str:
    """The notes ref named by the policy committed at HEAD, else the default."""
    head = git.run("rev-parse", "--verify", "--quiet", "HEAD^{commit}", check=False)
    sha = head.stdout.decode().strip()
    loaded = load_policy_at(git, sha) if head.returncode == 0 and sha else None
    return loaded.policy.notes_ref if loaded else DEFAULT_NOTES_REF


def sync(
    repo: Path,
    remote: str = "origin",
    *,
    attempts: int = 12,
    before_push: Callable[[int], None] | None = None,
) -> SyncResult:
    """Fetch ``remote``'s notes, merge them by union into ours, push; retry if it moved."""
    git = Git.discover(repo)
    return NotesSync(git, remote, notes_ref_of(git)).run(attempts=attempts, before_push=before_push)
