"""Pieces every workload shares: the per-item work, a consumer, a counting source."""

from __future__ import annotations

import collections
import itertools
from collections.abc import Iterable, Iterator


def add_one(x: int) -> int:
    return x + 1


def not_multiple_of_3(x: int) -> int:
    return x % 3


def double(x: int) -> int:
    return x * 2


def drain(items: Iterable[object]) -> None:
    """Consume ``items`` at C speed, keeping nothing (what ``gp.drain()`` does)."""
    collections.deque(items, maxlen=0)


class CountingSource:
    """The ints 0, 1, 2, ... (``limit`` of them, or forever), counting those read.

    It is iterated by one thread at a time (the producer), so ``read`` needs no
    lock; other threads only look at it.
    """

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.read = 0

    def __iter__(self) -> Iterator[int]:
        numbers = itertools.count() if self.limit is None else range(self.limit)
        for number in numbers:
            self.read += 1
            yield number
