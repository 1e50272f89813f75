"""Safe git access: every git process goes through the hardened runner (``Git``).

- :mod:`~provenance.gitio.runner`: hooks, fsmonitor, external diff, textconv and replace
  objects disabled, ``GIT_*`` redirections scrubbed; ``Git`` also knows its common dir, HEAD,
  ancestry and scoped config;
- :mod:`~provenance.gitio.objects`, :mod:`~provenance.gitio.batch`: raw commit objects (and
  the digest that binds them), blobs, ``cat-file --batch``;
- :mod:`~provenance.gitio.revision`: user revisions resolved to exactly one commit (G42);
- :mod:`~provenance.gitio.walk`, :mod:`~provenance.gitio.stream`,
  :mod:`~provenance.gitio.enrich`, :mod:`~provenance.gitio.symlinks`: what each commit of a
  range (or a commit alone) changed, merges by their own changes and where they land, with
  symlink aliases and the sources the classifier asks for;
- :mod:`~provenance.gitio.snapshots`, :mod:`~provenance.gitio.history`: ref and remote
  snapshots for the agent wrapper; ``log`` and ``blame`` records for the auditor;
- :mod:`~provenance.gitio.transport`, :mod:`~provenance.gitio.remotes`: fetch, push and
  ls-remote that never read the repository's own transport settings (G53).
"""

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
