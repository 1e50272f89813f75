"""Bulk object reads through one ``git cat-file --batch`` process."""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Generator, Iterable
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
) -> Generator[tuple[str, str, bytes | None], None, None]:
    """Yield ``(oid, type, content)`` per oid in order; content ``None`` if missing or too large.

    A thread writes every request while answers are read, so there is no round trip per
    object, and neither side can block the other on a full pipe.
    """
    wanted = list(oids)
    if not wanted:
        return
    proc = git.popen("cat-file", "--batch")
    stdin, stdout = proc.stdin, proc.stdout
    assert stdin is not None and stdout is not None
    writer = threading.Thread(target=_write_requests, args=(stdin, wanted), daemon=True)
    writer.start()
    try:
        for oid in wanted:
            header = stdout.readline()
            if not header:
                raise GitError("git cat-file --batch exited unexpectedly")
            parts = header.split()
            if len(parts) == 2 and parts[1] == b"missing":
                yield oid, "missing", None
                continue
            if len(parts) != 3 or parts[0].decode(errors="replace") != oid:
                raise GitError(f"unexpected cat-file answer for {oid}: {header!r}")
            otype, size = parts[1].decode(), int(parts[2])
            data = _read_exact(stdout, size)
            _read_exact(stdout, 1)  # trailing LF
            yield oid, otype, (data if size <= max_bytes else None)
    finally:
        stdout.close()  # a reader that stops early makes git stop too (broken pipe)
        if proc.stderr is not None:
            proc.stderr.close()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        writer.join()


def _write_requests(stdin: IO[bytes], oids: list[str]) -> None:
    try:
        with stdin:
            for oid in oids:
                stdin.write(oid.encode() + b"\n")
    except (BrokenPipeError, ValueError, OSError):
        pass  # git stopped reading: the reader reports what is missing
