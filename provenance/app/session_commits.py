"""Which commits an agent session made: ref snapshots, remote snapshots, and the rules.

A commit is the session's only when the session could have made it: it is new (reachable now,
from any ref, worktree HEAD, remote-tracking ref or a remote's ref read after the session, and
from nothing before), it is not on any remote as read *before* the session, its committer
time lies within the session, and its committer is the identity git gives the session's
commits. Reflogs are consulted only to exclude more (the agent can delete them: THREATS.md
G61). Remotes are read with :mod:`provenance.gitio.transport` at URLs pinned before the agent
ran, so nothing the agent wrote into ``.git/config`` runs in the wrapper (G53); a commit the
agent pushed by URL under a ref of its own is found on the remote afterwards (G62d).
"""

from __future__ import annotations

from dataclasses import dataclass

from provenance.gitio import Git, read_commits
from provenance.gitio.snapshots import (
    RefSnapshot,
    RemoteSnapshot,
    fetched_during,
    present_commits,
    rev_list,
)

#: Git stores committer times in whole seconds; allow for that and a little clock jitter.
START_SLACK_SECONDS = 2


@dataclass(frozen=True)
class Window:
    """What the session could have made: its time span and its committer identity."""

    started: int
    ended: int
    identity: str | None


def new_commits(
    git: Git,
    before: tuple[RefSnapshot, RemoteSnapshot],
    after: tuple[RefSnapshot, RemoteSnapshot],
    window: Window,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Commits the session made (oldest first), and new ones it did not make, with why."""
    (local0, remote0), (local1, remote1) = before, after
    include = sorted({*local1.tips(), *local1.remotes, *present_commits(git, remote1.oids())})
    exclude = sorted({*local0.tips(), *local0.remotes, *present_commits(git, remote0.oids())})
    candidates = rev_list(git, include, exclude)
    if not candidates:
        return [], []
    fetched = set(fetched_during(git, window.started - START_SLACK_SECONDS))
    commits = read_commits(git, candidates)
    made: list[str] = []
    skipped: list[tuple[str, str]] = []
    for sha in candidates:
        why = _not_made_by_session(commits[sha].committer_time, commits[sha].committer_email,
                                   window, sha in fetched)  # fmt: skip
        if why:
            skipped.append((sha, why))
        else:
            made.append(sha)
    return made, skipped


def _not_made_by_session(when: int, email: str, window: Window, fetched: bool) -> str | None:
    if fetched:
        return "fetched from a remote during the session (not made by it)"
    if when < window.started - START_SLACK_SECONDS:
        return "committed before the session started (fetched or merged in)"
    if when > window.ended + START_SLACK_SECONDS:
        return "committed after the session ended (not made by it)"
    if window.identity is None:
        return "undecided: the session had no git identity to compare its committer with"
    if email != window.identity:
        return f"committed by {email or 'nobody'}, not by the session's {window.identity}"
    return None
