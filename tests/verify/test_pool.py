"""The worker pool returns what running inline returns, in order, with progress (forked or not)."""

from __future__ import annotations

import os

import pytest

from provenance.verify import pool


def _square_plus(item: int, context: int) -> tuple[int, int]:
    return item * item + context, os.getpid()


@pytest.mark.parametrize("size", [3, pool.POOL_THRESHOLD * 2])
def test_pool_keeps_order_and_context(size: int) -> None:
    """Below the threshold everything runs here; above it, in forked workers that see context."""
    seen: list[tuple[int, int]] = []
    items = list(range(size))
    out = pool.run_all(_square_plus, items, 7, progress=lambda n, t: seen.append((n, t)))
    assert [value for value, _ in out] == [i * i + 7 for i in items]
    assert seen[-1] == (size, size)
    forked = {pid for _, pid in out} - {os.getpid()}
    if size >= pool.POOL_THRESHOLD and (os.cpu_count() or 1) > 1:
        assert forked, "enough work must go to worker processes"
    else:
        assert not forked
