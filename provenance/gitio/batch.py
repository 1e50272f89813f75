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


def _skip(stream: IO[bytes], size: int) -> None:
    while size > 0:
        chunk = stream.read(min(size, 1 << 20))
        if not chunk:
            raise GitError("git cat-file ended early")
        size -= len(chunk)


def stream_lines(git: Git, oid: str, max_line: int) -> Generator[bytes | None, None, None]:
    """Lines of one blob, read as a stream; ``None`` for a line longer than ``max_line``.

    Memory stays at one line however large the blob is (a note of gigabytes of junk).
    """
    proc = git.popen("cat-file", "blob", oid)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    try:
        while True:
            line = proc.stdout.readline(max_line + 2)
            if not line:
                break
            if line.endswith(b"\n") or len(line) <= max_line:
                yield line.rstrip(b"\n")
                continue
            while line and not line.endswith(b"\n"):  # drain the rest of a long line
                line = proc.stdout.readline(1 << 20)
            yield None
    finally:
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        proc.wait()


def write_blob_lines(git: Git, lines: Iterable[bytes]) -> str:
    """Store ``lines`` (each followed by LF) as one blob, streamed; returns its id."""
    proc = git.popen("hash-object", "-w", "--stdin")
    assert proc.stdin is not None and proc.stdout is not None
    try:
        with proc.stdin:
            for line in lines:
                proc.stdin.write(line + b"\n")
        oid = proc.stdout.read().decode().strip()
    finally:
        proc.stdout.close()
        if proc.stderr is not None:
            proc.stderr.close()
        code = proc.wait()
    if code != 0 or not oid:
        raise GitError("git hash-object failed while writing a note")
    return oid


def read_objects(
    git: Git,
    oids: Iterable[str],
    *,
    max_bytes: int = MAX_OBJECT_BYTES,
    heads: dict[str, bytes] | None = None,
    head_bytes: int = 8192,
) -> Generator[tuple[str, str, bytes | None], None, None]:
    """Yield ``(oid, type, content)`` per oid in order; content ``None`` if missing or too large.

    A thread writes every request while answers are read, so there is no round trip per
    object, and neither side can block the other on a full pipe. With ``heads``, the first
    ``head_bytes`` of each object too large to read are kept there (a declared encoding, a
    format's magic bytes).
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
            if size > max_bytes:
                kept = min(head_bytes, size) if heads is not None else 0
                if heads is not None:
                    heads[oid] = _read_exact(stdout, kept)
                _skip(stdout, size + 1 - kept)  # never held in memory (THREATS.md A6, G52)
                yield oid, otype, None
                continue
            data = _read_exact(stdout, size)
            _read_exact(stdout, 1)  # trailing LF
            yield oid, otype, data
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
