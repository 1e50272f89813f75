"""What a commit changed, per path, from git's object database (``-z`` raw + ``--text`` patch).

Lines come from git diffing the blobs with ``--text --no-textconv --no-ext-diff`` so that
``.gitattributes`` (``-diff``, ``binary``, textconv drivers) cannot hide content (THREATS.md E28).
"""

from __future__ import annotations

from provenance.gitio.runner import Git
from provenance.models import FileChange

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#: Per-file bounds on what the classifier sees (THREATS.md A6).
MAX_LINES_PER_FILE = 20_000
MAX_LINE_CHARS = 4_000


def diff_against(git: Git, commit: str, parent: str | None) -> list[FileChange]:
    """Every path ``commit`` changed relative to ``parent`` (the empty tree for a root)."""
    from provenance.gitio.stream import changes_between

    return changes_between(git, parent or EMPTY_TREE, commit)
