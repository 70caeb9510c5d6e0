"""Stages that group neighbouring items: batch, window, pairwise, group_by."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from genpipe._concurrent._producers import timed_batches
from genpipe._core import Stage, call_repr
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
K = TypeVar("K")


def fixed_batches(size: int) -> Stage[T, list[T]]:
    """`batch` without ``max_wait``: lists of ``size`` items, the last maybe short."""

    def batches(items: Iterable[T]) -> Iterator[list[T]]:
        it = iter(items)
        return iter(lambda: list(itertools.islice(it, size)), [])

    return Stage(
        batches,
        lambda xs: [xs[i : i + size] for i in range(0, len(xs), size)],
        call_repr("batch", size),
    )


def window(size: int, step: int = 1) -> Stage[T, tuple[T, ...]]:
    """Yield tuples of ``size`` consecutive items, starting every ``step`` items.

    A short tail is dropped; with ``step > size`` the items between windows
    are skipped. It holds at most ``size`` items.

    >>> import genpipe as gp
    >>> range(5) | gp.window(3) | gp.to_list()
    [(0, 1, 2), (1, 2, 3), (2, 3, 4)]
    >>> range(7) | gp.window(2, step=3) | gp.to_list()
    [(0, 1), (3, 4)]
    """
    check_int("window", "size", size, minimum=1)
    check_int("window", "step", step, minimum=1)

    def windows(items: Iterable[T]) -> Iterator[tuple[T, ...]]:
        it = iter(items)
        current = deque(itertools.islice(it, size), maxlen=size)
        while len(current) == size:
            yield tuple(current)
            if step >= size:
                # Skip the gap, then read a whole fresh window.
                next(itertools.islice(it, step - size, step - size), None)
                current = deque(itertools.islice(it, size), maxlen=size)
            else:
                fresh = list(itertools.islice(it, step))
                if len(fresh) < step:
                    return
                current.extend(fresh)

    def reference(items: list[T]) -> list[tuple[T, ...]]:
        starts = range(0, len(items) - size + 1, step)
        return [tuple(items[i : i + size]) for i in starts]

    label = (
        call_repr("window", size) if step == 1 else call_repr("window", size, step=step)
    )
    return Stage(windows, reference, label)


def pairwise() -> Stage[T, tuple[T, T]]:
    """Yield each item with the next one, like `itertools.pairwise`.

    >>> import genpipe as gp
    >>> "abc" | gp.pairwise() | gp.to_list()
    [('a', 'b'), ('b', 'c')]
    """
    return Stage(
        itertools.pairwise,
        lambda xs: [(xs[i], xs[i + 1]) for i in range(len(xs) - 1)],
        "pairwise()",
    )


def group_by(key: Callable[[T], K]) -> Stage[T, tuple[K, list[T]]]:
    """Group runs of consecutive items with equal ``key`` into ``(key, items)``.

    Like `itertools.groupby`, equal keys that are not adjacent form separate
    groups (sort first for one group per key). It holds one group in memory.

    >>> import genpipe as gp
    >>> "aabca" | gp.group_by(str.upper) | gp.to_list()
    [('A', ['a', 'a']), ('B', ['b']), ('C', ['c']), ('A', ['a'])]
    """
    check_callable("group_by", "key", key)

    def groups(items: Iterable[T]) -> Iterator[tuple[K, list[T]]]:
        return ((k, list(run)) for k, run in itertools.groupby(items, key))

    def reference(items: list[T]) -> list[tuple[K, list[T]]]:
        result: list[tuple[K, list[Any]]] = []
        for item in items:
            k = key(item)
            if result and result[-1][0] == k:
                result[-1][1].append(item)
            else:
                result.append((k, [item]))
        return result

    return Stage(groups, reference, call_repr("group_by", key))


def batch(
    size: int,
    *,
    max_wait: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] | None = None,
) -> Stage[T, list[T]]:
    """Group items into lists of ``size``; the last list may be shorter.

    With ``max_wait`` (seconds), a partial batch is also yielded once its
    first item has waited that long, even while upstream is blocked — the
    "flush every N items or T seconds" of loaders. That variant reads
    upstream in a producer thread (at most ``size`` items ahead) and groups
    by timing, so only the flattened output is deterministic. ``clock`` and
    ``sleep`` are injectable for tests: with ``sleep``, a batch waiting for
    its deadline calls ``sleep(seconds)`` instead of waiting in real time,
    so a fake clock that ``sleep`` advances never waits; passing ``clock``
    without ``sleep`` is refused, since the wait would be in real seconds.

    >>> import genpipe as gp
    >>> range(5) | gp.batch(2) | gp.to_list()
    [[0, 1], [2, 3], [4]]
    >>> range(5) | gp.batch(2, max_wait=0.5) | gp.flatten() | gp.to_list()
    [0, 1, 2, 3, 4]
    """
    check_int("batch", "size", size, minimum=1)
    fixed: Stage[T, list[T]] = fixed_batches(size)
    if max_wait is None:
        return fixed
    return timed_batches(fixed, size, max_wait, clock, sleep)
