"""Bulk object reads through one ``git cat-file --batch`` process."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO

from provenance.errors import GitError
from provenance.gitio.runner import Git

#: Objects larger than this are never read into memory (THREATS.md A6).
MAX_OBJECT_BYTES = 64 * 1024 * 1024


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    data = stream.read(size)
    if data is None or len(data) != size:
        raise GitError("git cat-file ended early")
    return data


def read_objects(
    git: Git, oids: Iterable[str], *, max_bytes: int = MAX_OBJECT_BYTES
) -> Iterator[tuple[str, str, bytes | None]]:
    """Yield ``(oid, type, content)`` per oid; content is ``None`` if missing or too large.

    Oids are written on a separate thread-free pipeline: we write all requests first only for
    small batches, so callers pass chunks; each answer is read before the next request.
    """
    proc = git.popen("cat-file", "--batch")
    assert proc.stdin is not None and proc.stdout is not None
    try:
        for oid in oids:
            proc.stdin.write(oid.encode() + b"\n")
            proc.stdin.flush()
            header = proc.stdout.readline()
            if not header:
                raise GitError("git cat-file --batch exited unexpectedly")
            parts = header.split()
            if len(parts) == 2 and parts[1] == b"missing":
                yield oid, "missing", None
                continue
            if len(parts) != 3:
                raise GitError(f"unexpected cat-file answer: {header!r}")
            otype, size = parts[1].decode(), int(parts[2])
            data = _read_exact(proc.stdout, size)
            _read_exact(proc.stdout, 1)  # trailing LF
            yield oid, otype, (data if size <= max_bytes else None)
    finally:
        proc.stdin.close()
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        proc.wait()
