"""Bounds on what a diff shows the classifier, and the empty tree a root commit is diffed to.

Lines come from git diffing the blobs with ``--text --no-textconv --no-ext-diff`` so that
``.gitattributes`` (``-diff``, ``binary``, textconv drivers) cannot hide content (THREATS.md
E28); :func:`provenance.gitio.stream.diff_against` reads one commit's changes.
"""

from __future__ import annotations

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
#: Per-file bounds on what the classifier sees (THREATS.md A6).
MAX_LINES_PER_FILE = 20_000
MAX_LINE_CHARS = 4_000
