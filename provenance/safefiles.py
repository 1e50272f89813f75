"""Is an input file one that only the user could have written? (owner, modes, parents, work tree)

Inputs that decide where a signing token goes or whom a command talks to (a trust config, a
key, a salt, the config file that names a remote) must not be writable by the agent. An agent
running as another user can write the work tree and any group- or world-writable file or
directory; so such an input is refused when it lies inside the work tree, when it or a
directory above it is writable by others (a sticky directory such as ``/tmp`` protects the
entries of other owners), or when any of them is owned by someone other than the user or root
(THREATS.md G55).
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def _owner_ok(info: os.stat_result) -> bool:
    return info.st_uid in (os.getuid(), 0)


def _entry_problem(path: Path, info: os.stat_result, *, is_dir: bool) -> str | None:
    if not _owner_ok(info):
        return f"{path} is owned by uid {info.st_uid}, not by you or root"
    writable_by_others = info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    if is_dir and writable_by_others and not info.st_mode & stat.S_ISVTX:
        return f"the directory {path} is writable by other users"
    if not is_dir and writable_by_others:
        return f"{path} is writable by other users"
    return None


def _chain(path: Path) -> list[Path]:
    """``path`` (absolute, not resolved) and every directory above it."""
    return [path, *path.parents]


def unsafe_reason(path: Path, work_tree: Path | None = None) -> str | None:
    """Why ``path`` could have been written by someone else (``None``: only by you or root).

    Both the path as given and the file it resolves to are checked, with every directory above
    each: replacing a symbolic link is as good as replacing the file.
    """
    given = Path(os.path.abspath(path))
    try:
        real = given.resolve(strict=True)
    except (OSError, RuntimeError) as e:
        return f"{path} cannot be read: {getattr(e, 'strerror', None) or e}"
    if work_tree is not None:
        tree = Path(os.path.realpath(work_tree))
        if real == tree or tree in real.parents:
            return f"{path} lies inside the work tree {tree}, where the agent writes"
    seen: set[Path] = set()
    for entry in [*_chain(given), *_chain(real)]:
        if entry in seen:
            continue
        seen.add(entry)
        try:
            info = entry.lstat()
        except OSError as e:
            return f"{entry} cannot be inspected: {e.strerror}"
        if stat.S_ISLNK(info.st_mode):
            if not _owner_ok(info):
                return f"the link {entry} is owned by uid {info.st_uid}"
            continue  # a link's own mode means nothing; its directory is checked next
        problem = _entry_problem(entry, info, is_dir=stat.S_ISDIR(info.st_mode))
        if problem:
            return problem
    return None


def without_working_directory(path: list[str]) -> list[str]:
    """``sys.path`` without the current directory or any relative entry (THREATS.md G54).

    ``python -m`` puts the current directory first; the agent writes there, and a ``sigstore/``
    package it leaves would be imported by the wrapper, token in memory, at signing time.
    """
    try:
        here: str | None = os.path.realpath(os.getcwd())
    except OSError:
        here = None
    return [p for p in path if p and os.path.isabs(p) and os.path.realpath(p) != here]


def write_output(path: Path, data: bytes) -> None:
    """Write a report file atomically, never through a link or a second name.

    An agent can leave a symbolic link (or a FIFO, or a hard link to a file of the user's)
    where a report will be written; the write would then land in that other file
    (THREATS.md G62b). Such a name is refused. The bytes go to a new temporary file beside
    ``path`` and are renamed over it, so a reader sees the old report or the whole new one,
    never a half-written or empty file, and a link planted after the check is replaced, not
    followed (``rename`` never follows the name it replaces).
    """
    try:
        info: os.stat_result | None = os.lstat(path)
    except FileNotFoundError:
        info = None
    if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_nlink != 1):
        raise OSError(
            errno.EEXIST,
            f"{path} is not a plain file with a single name (a link or special file is "
            "refused); refusing to write it",
        )
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
            os.fchmod(handle.fileno(), 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process umask (read by setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: bytes, *, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` so readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
