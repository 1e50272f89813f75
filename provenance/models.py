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

    ``old_oid`` / ``new_oid`` are the blob ids (empty when unknown, zeros when a side is
    absent) and ``hunks`` the ``(old_start, old_count, new_start, new_count)`` of each hunk,
    as the ``@@`` headers give them. ``aliases`` are other paths that name this file through
    directory symlinks in the commit's trees: rules judge the change there too.
    ``old_source`` / ``new_source`` are the whole blobs as text (UTF-8, ``surrogateescape``),
    read only for the changes whose rules need more than the changed lines.
    ``aliases_truncated`` is true when not every alias could be listed (too many links, or
    chains too long): rules must then assume one of the missing ones is an identity path.
    ``source_heads`` is true when a wanted blob was too large (or missing) to be read whole:
    the sources then hold only blobs' first bytes (``truncated`` is set too).
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
    old_oid: str = ""
    new_oid: str = ""
    hunks: tuple[tuple[int, int, int, int], ...] = ()
    aliases: tuple[str, ...] = ()
    old_source: str | None = None
    new_source: str | None = None
    aliases_truncated: bool = False
    source_heads: bool = False
