"""``sync``: exchange attestations with a remote by union, fast-forward pushes only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provenance.app.policy_source import load_policy_at
from provenance.errors import GitError
from provenance.gitio import Git
from provenance.gitio.remotes import resolve_endpoint, transport_overrides
from provenance.gitio.transport import pin_programs, transport
from provenance.store import DEFAULT_NOTES_REF
from provenance.store.sync import NotesSync, SyncResult


def notes_ref_of(git: Git) -> str:
    """The notes ref named by the policy committed at HEAD, else the default."""
    head = git.head()
    loaded = load_policy_at(git, head) if head else None
    return loaded.policy.notes_ref if loaded else DEFAULT_NOTES_REF


def sync(
    repo: Path,
    remote: str = "origin",
    *,
    attempts: int = 12,
    before_push: Callable[[int], None] | None = None,
) -> SyncResult:
    """Fetch ``remote``'s notes, merge them by union into ours, push; retry if it moved.

    git and ssh are pinned first; a repository whose own config sets anything that changes how
    git reaches a remote is refused (an agent may have written it), and the transport never
    reads that config anyway (THREATS.md G53).
    """
    programs = pin_programs()
    git = Git.discover(repo)
    planted = transport_overrides(git)
    if planted:
        raise GitError(
            "the repository's own config sets transport options: " + ", ".join(planted),
            hint="provenance sync never uses them (an agent working in the clone can write "
            ".git/config); remove them (git config --local --unset KEY) or move them to your "
            "global config",
        )
    endpoint = resolve_endpoint(git, remote)
    with transport(git, programs) as moving:
        return NotesSync(git, endpoint, moving, notes_ref_of(git)).run(
            attempts=attempts, before_push=before_push
        )
