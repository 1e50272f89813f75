"""Compare-and-swap on refs: the one way the store moves a ref it shares with other writers.

Every writer builds its new commit on a private scratch ref, then moves the real ref with
``git update-ref --no-deref REF NEW OLD``, which fails if anyone moved it meanwhile; the
writer then decides again from the new tip, after a short jittered pause (THREATS.md
"Nothing lost"). Notes writes, pending removal, prune and sync's merge all go through here.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections.abc import Iterator

from provenance.errors import StoreError
from provenance.gitio.runner import Git

#: The object id ``update-ref`` reads as "the ref must not exist yet".
ZERO = "0" * 40
#: Where private scratch refs live (never pushed, never read as evidence).
SCRATCH_PREFIX = "refs/notes/provenance-tmp"


def scratch_ref(prefix: str = SCRATCH_PREFIX) -> str:
    """A fresh private ref name for this process."""
    return f"{prefix}/{os.getpid()}-{uuid.uuid4().hex}"


def swap(git: Git, ref: str, new: str, old: str | None, message: str) -> bool:
    """Move ``ref`` to ``new`` only if it is still at ``old`` (``None``: absent). Never derefs."""
    proc = git.run(
        "update-ref", "--no-deref", "-m", message, ref, new, old or ZERO, check=False
    )  # fmt: skip
    return proc.returncode == 0


def drop(git: Git, ref: str) -> None:
    """Delete a scratch ref (missing is fine)."""
    git.run("update-ref", "--no-deref", "-d", ref, check=False)


def rounds(ref: str, attempts: int, *, pause: float = 0.5) -> Iterator[int]:
    """Attempt numbers for a compare-and-swap loop; the caller returns on success.

    Between attempts it sleeps a jittered, growing pause (at most ``pause`` seconds); when
    every attempt lost the race it raises :class:`StoreError` (nothing written was lost).
    """
    for attempt in range(attempts):
        yield attempt
        time.sleep(min(pause, 0.005 * (attempt + 1)) * random.random())  # noqa: S311
    raise StoreError(
        f"could not update {ref}: too much concurrent writing",
        hint="retry the command; nothing was lost",
    )


__all__ = ["SCRATCH_PREFIX", "ZERO", "drop", "rounds", "scratch_ref", "swap"]
