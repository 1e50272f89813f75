"""Judge the items of a long range on every core, results in order (decision 0021).

Each commit's own changes are judged by a pure function of those changes, so a range can be
cut into contiguous chunks judged in forked workers (which inherit the classifier, its
caches and the changes already read) and put back together in order: the result is the
list the serial loop builds, item for item. Forking is Linux-only here (elsewhere, and for
short ranges, where a worker costs more than it saves, the loop runs in this process), and
``PROVENANCE_JOBS`` caps the workers (``1``: never fork). A worker that dies or raises
fails the whole call, as the serial loop would.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar, cast

T = TypeVar("T")

#: Ranges shorter than this are judged in this process, unless their weight (changed lines)
#: reaches ``MIN_WEIGHT``: 150 commits rewriting large files are worth a worker.
MIN_ITEMS = 200
MIN_WEIGHT = 20_000
#: Chunks per worker: enough to even out chunks of unequal cost, few enough that each
#: worker's caches see consecutive commits (the old side of one is the new side of another).
_CHUNKS_PER_WORKER = 6

#: The job the forked workers run, and what they do before a chunk (set only while
#: ``in_order`` forks).
_JOB: Callable[[int], object] | None = None
_PREPARE: Callable[[int, int], None] | None = None
_FORKING = threading.Lock()


def workers() -> int:
    """How many processes may judge at once: ``PROVENANCE_JOBS`` or the usable cores.

    A value that is not a positive integer counts as ``1`` (the knob only trades time).
    """
    setting = os.environ.get("PROVENANCE_JOBS", "").strip()
    if setting:
        return int(setting) if setting.isdigit() and int(setting) > 0 else 1
    if not hasattr(os, "sched_getaffinity"):
        return 1
    return len(os.sched_getaffinity(0))


def in_order(
    judge: Callable[[int], T],
    count: int,
    weight: int = 0,
    prepare: Callable[[int, int], None] | None = None,
) -> Iterator[T]:
    """``judge(0)`` .. ``judge(count - 1)`` in order, in forked workers when worth it (many
    items, or fewer of ``weight`` at least ``MIN_WEIGHT`` in all).

    ``prepare(lo, hi)`` runs before items ``lo`` .. ``hi - 1`` are judged, in the process
    that judges them (once for all items when nothing forks): what it reads for them is
    read on every core, not before the workers start.
    """
    jobs = min(workers(), 8, count)
    worth = count >= MIN_ITEMS or weight >= MIN_WEIGHT
    if jobs < 2 or not worth or sys.platform != "linux" or _FORKING.locked():
        if prepare is not None and count:
            prepare(0, count)
        yield from (judge(i) for i in range(count))
        return
    size = max(1, -(-count // (jobs * _CHUNKS_PER_WORKER)))
    bounds = [(lo, min(lo + size, count)) for lo in range(0, count, size)]
    global _JOB, _PREPARE
    with _FORKING:
        _JOB, _PREPARE = judge, prepare
        sys.stdout.flush()  # a worker flushes what it inherited when it exits
        sys.stderr.flush()
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(jobs, mp_context=context) as pool:
                futures = [pool.submit(_chunk, lo, hi) for lo, hi in bounds]
                for future in futures:
                    yield from (cast(T, item) for item in future.result())
        finally:
            _JOB = _PREPARE = None


def _chunk(lo: int, hi: int) -> list[object]:
    """In a worker: the job's items ``lo`` .. ``hi - 1``."""
    job = _JOB
    if job is None:
        raise RuntimeError("no job in this worker (it was not forked by in_order)")
    if _PREPARE is not None:
        _PREPARE(lo, hi)
    return [job(i) for i in range(lo, hi)]
