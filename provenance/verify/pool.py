"""The one worker pool: verify many independent items in forked processes when it pays.

Verification is CPU-bound and holds the GIL, so parallelism needs processes. Workers are
forked (they inherit the trust context, already loaded, without pickling it); below
``POOL_THRESHOLD`` items, or on one core, or where ``fork`` does not exist, everything runs
inline. Results come back in the order of the items. The gate and the audit index use it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

#: Below this many items (attestation lines), forking workers costs more than it saves.
POOL_THRESHOLD = 48
#: At most this many worker processes.
MAX_WORKERS = 8

Progress = Callable[[int, int], None]
Item = TypeVar("Item")
Result = TypeVar("Result")
Context = TypeVar("Context")

_STATE: dict[str, object] = {}


def _call(item: object) -> object:
    work = _STATE["work"]
    assert callable(work)
    return work(item, _STATE["context"])


def run_all(
    work: Callable[[Item, Context], Result],
    items: Sequence[Item],
    context: Context,
    *,
    weight: int | None = None,
    progress: Progress | None = None,
) -> list[Result]:
    """``[work(item, context) for item in items]``, forked one process per core if it pays.

    ``context`` (the trust context) reaches workers by ``fork``, never through a pipe;
    ``weight`` is how much work the items hold (attestation lines; default: one per item).
    ``work`` must be a module-level function and items plain data (they cross a pipe).
    """
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    size = len(items) if weight is None else weight
    out: list[Result] = []

    def done(n: int) -> None:
        if progress is not None and (n % 50 == 0 or n == len(items)):
            progress(n, len(items))

    if size < POOL_THRESHOLD or workers < 2 or "fork" not in mp.get_all_start_methods():
        for n, item in enumerate(items, 1):
            out.append(work(item, context))
            done(n)
        return out
    _STATE.update(work=work, context=context)
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
        chunk = max(1, len(items) // (workers * 4))
        for n, result in enumerate(pool.map(_call, items, chunksize=chunk), 1):
            out.append(result)  # type: ignore[arg-type]
            done(n)
    return out


__all__ = ["MAX_WORKERS", "POOL_THRESHOLD", "run_all"]
