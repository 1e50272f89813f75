"""Safe git access: hardened invocation, raw objects, range walking, diffs."""

from provenance.gitio.objects import (
    Commit,
    check_repository_safe,
    commit_digest,
    parse_commit,
    read_commit,
    read_commits,
    remote_url,
    resolve_commit,
)
from provenance.gitio.runner import Git

__all__ = [
    "Commit",
    "Git",
    "check_repository_safe",
    "commit_digest",
    "parse_commit",
    "read_commit",
    "read_commits",
    "remote_url",
    "resolve_commit",
]
