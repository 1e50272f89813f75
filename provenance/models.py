"""Shared value types passed between stages."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileChange:
    """One path changed by a commit, relative to one parent (or to the empty tree for a root).

    ``path`` is the destination path and ``old_path`` the source path (they differ for renames
    and copies; both are given exactly as git stores them, decoded as UTF-8 with
    ``surrogateescape``). Modes are git's six-digit octal strings (``"000000"`` when absent,
    ``"120000"`` symlink, ``"160000"`` gitlink). ``added`` / ``removed`` hold the text lines
    added and removed (without the leading ``+``/``-``), computed from the blobs, never from
    patch text that ``.gitattributes`` could suppress. ``binary`` is true when either blob
    is not decodable as text; the lines are then empty. ``truncated`` is true when the diff
    exceeded the reader's bounds and lines were dropped: the gate then treats the path as
    identity-related (fail closed, rule ``diff.truncated``).
    """

    path: str
    old_path: str
    status: str
    old_mode: str
    new_mode: str
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    binary: bool = False
    symlink_targets: tuple[str, ...] = field(default=())
    truncated: bool = False
