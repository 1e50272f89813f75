"""Caches keyed by text content, bounded by the size of what they hold (decision 0021).

A history's blobs come back: the old side of one commit is the new side of an earlier one,
and one version of a file shares nearly every line with the next. Facts that are pure
functions of a text (does a source hold an access check, does a line) are remembered by the
text itself, so each is computed once per process however many commits ask. Keys are the
texts, never ids or offsets, so a hit is the same answer by construction; the bounds only
decide what is forgotten, never what is answered.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SizedLRU(Generic[K, V]):
    """A least-recently-used map whose entries weigh what ``size(key)`` says, at most
    ``budget`` in all (an entry heavier than the budget is computed and not kept)."""

    def __init__(self, budget: int, size: Callable[[K], int]) -> None:
        self._budget = budget
        self._size = size
        self._used = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value remembered for ``key``, or ``compute()`` (remembered if it fits)."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
            return found[0]
        value = compute()
        weight = self._size(key)
        if weight <= self._budget:
            self._entries[key] = (value, weight)
            self._used += weight
            while self._used > self._budget:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._used -= dropped
        return value

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self._used = 0


class LineFlags:
    """``test(line)`` remembered per line for lines up to ``max_len`` characters; forgotten
    wholesale past ``max_entries`` (lines are many and small: an LRU would cost more)."""

    def __init__(self, test: Callable[[str], bool], max_len: int = 512) -> None:
        self._test = test
        self._max_len = max_len
        self._flags: dict[str, bool] = {}
        self.max_entries = 1 << 18

    def any(self, lines: list[str]) -> bool:
        """True when ``test`` holds for one of ``lines`` (in order, stopping at the first)."""
        flags, test, max_len = self._flags, self._test, self._max_len
        for line in lines:
            flag = flags.get(line)
            if flag is None:
                flag = test(line)
                if len(line) <= max_len:
                    if len(flags) >= self.max_entries:
                        flags.clear()
                    flags[line] = flag
            if flag:
                return True
        return False
