"""Keyed buckets for ``group_by(size=, max_wait=)``: the grouping rules, no I/O.

Both the sequential and the time-bounded ``group_by`` feed items to a
`Buckets` and yield what it hands back, so the rules live in one place and
are tested without threads or clocks.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from genpipe._core import describe

K = TypeVar("K")
T = TypeVar("T")


class Buckets(Generic[K, T]):
    """One open bucket per key, oldest first.

    A bucket is handed back by `add` once it holds ``size`` items, by
    `expired` once its first item is ``max_wait`` old, and by `rest` at the
    end; the next item of that key opens a fresh bucket. Keys must be
    hashable. Times are whatever clock the caller reads.
    """

    __slots__ = ("_max_wait", "_open", "_opened", "_size")

    def __init__(self, size: int | None, max_wait: float | None) -> None:
        self._size = size
        self._max_wait = max_wait
        # Insertion order is opening order, since a handed-back bucket is
        # deleted and its key's next bucket is inserted anew at the end.
        self._open: dict[K, list[T]] = {}
        #: When each open bucket was opened; kept only with a max_wait.
        self._opened: dict[K, float] = {}

    def add(self, key: K, item: T, now: float = 0.0) -> list[T] | None:
        """Put ``item`` in its key's bucket; return the bucket if that filled it."""
        try:
            bucket = self._open.get(key)
        except TypeError as exc:
            raise TypeError(
                "group_by() with size= or max_wait= keeps one bucket per key, "
                f"so keys must be hashable, got {describe(key)} for item "
                f"{describe(item)}: pass a key that returns a hashable value"
            ) from exc
        if bucket is None:
            bucket = self._open[key] = []
            if self._max_wait is not None:
                self._opened[key] = now
        bucket.append(item)
        if len(bucket) == self._size:
            del self._open[key]
            if self._max_wait is not None:
                del self._opened[key]
            return bucket
        return None

    def deadline(self) -> float | None:
        """When the oldest bucket expires; None if none is open or none expires."""
        if self._max_wait is None or not self._opened:
            return None
        return next(iter(self._opened.values())) + self._max_wait

    def expired(self, now: float) -> list[tuple[K, list[T]]]:
        """Hand back, oldest first, each bucket whose deadline is ``now`` or earlier."""
        due = []
        while (deadline := self.deadline()) is not None and deadline <= now:
            key = next(iter(self._opened))
            del self._opened[key]
            due.append((key, self._open.pop(key)))
        return due

    def rest(self) -> list[tuple[K, list[T]]]:
        """Hand back every open bucket, oldest first, and forget them."""
        rest = list(self._open.items())
        self._open.clear()
        self._opened.clear()
        return rest

    def __bool__(self) -> bool:
        return bool(self._open)
