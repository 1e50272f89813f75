"""Which pending statements provenance itself recorded: a private registry outside the repo.

``refs/notes/provenance-pending`` lives in the repository, where the agent can write. An agent
could file a statement of its choosing (another commit, another prompter) and wait for a human
to run ``stamp --pending``. So whenever provenance records a pending statement it also creates
``$XDG_STATE_HOME/provenance/pending/<repository key>/<sha256 of the statement>`` (directories
0700, files 0600), and ``stamp --pending`` signs only statements found there. The registry is
as private as the wrapper's user: an agent running as another user (as the README requires)
cannot add to it. Each file holds the notes ref the signed attestation must go to, decided when
the statement was recorded (the policy at the session's start), so completing it later cannot
be redirected by the policy of the agent's own commit (THREATS.md G62a).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
from collections.abc import Iterable
from pathlib import Path

from provenance.gitio import Git


def _root() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "provenance" / "pending"


def _directory(git: Git) -> Path:
    common = git.common_dir()
    key = hashlib.sha256(os.fsencode(os.path.realpath(common))).hexdigest()[:32]
    return _root() / key


def _name(statement: bytes) -> str:
    return hashlib.sha256(statement).hexdigest()


def register(git: Git, statements: Iterable[bytes], notes_ref: str) -> None:
    """Remember statements provenance put in the pending ref, and where they go (idempotent)."""
    directory = _directory(git)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for statement in statements:
        path = directory / _name(statement)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(notes_ref + "\n")


def registered_ref(git: Git, statement: bytes) -> str | None:
    """The notes ref recorded with this exact statement, if provenance recorded it here.

    ``""`` for an entry written by a version that did not record the ref.
    """
    directory = _directory(git)
    path = directory / _name(statement)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd) as f:
        info, parent = os.fstat(f.fileno()), directory.lstat()
        private = not (info.st_mode & 0o077) and not (parent.st_mode & 0o077)
        if not (stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and private):
            return None
        return f.read(4096).strip()


def forget(git: Git, statements: Iterable[bytes]) -> None:
    """The statements are signed and stored: they need no registration any more."""
    directory = _directory(git)
    for statement in statements:
        with contextlib.suppress(FileNotFoundError):
            (directory / _name(statement)).unlink()
