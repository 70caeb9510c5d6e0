"""Stages that group neighbouring items: batch, window, pairwise, group_by."""

from __future__ import annotations

import builtins
import itertools
import operator
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar, Unpack

from genpipe._buckets import Buckets
from genpipe._concurrent._producers import timed_batches, timed_groups
from genpipe._core import Stage, call_repr
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable, check_int, check_seconds

T = TypeVar("T")
K = TypeVar("K")


def fixed_batches(size: int) -> Stage[T, list[T]]:
    """`batch` without ``max_wait``: lists of ``size`` items, the last maybe short."""

    def batches(items: Iterable[T]) -> Iterator[list[T]]:
        it = iter(items)
        while True:
            batch: list[T] = []
            try:
                # extend() keeps what it appended before the iterator raised.
                batch.extend(itertools.islice(it, size))
            except Exception:
                if batch:
                    yield batch  # what was read is not lost; then the error
                raise
            if not batch:
                return
            yield batch

    return Stage(
        batches,
        lambda xs: [xs[i : i + size] for i in range(0, len(xs), size)],
        call_repr("batch", size),
    )


def window(size: int, step: int = 1) -> Stage[T, tuple[T, ...]]:
    """Yield tuples of ``size`` consecutive items, starting every ``step`` items.

    A short tail is dropped; with ``step > size`` the items between windows
    are skipped. It holds only the last ``size`` items.

    >>> import genpipe as gp
    >>> range(5) | gp.window(3) | gp.to_list()
    [(0, 1, 2), (1, 2, 3), (2, 3, 4)]
    >>> range(7) | gp.window(2, step=3) | gp.to_list()
    [(0, 1), (3, 4)]
    """
    check_int("window", "size", size, minimum=1)
    check_int("window", "step", step, minimum=1)

    def reference(items: list[T]) -> list[tuple[T, ...]]:
        starts = range(0, len(items) - size + 1, step)
        return [tuple(items[i : i + size]) for i in starts]

    label = (
        call_repr("window", size) if step == 1 else call_repr("window", size, step=step)
    )
    return Stage(partial(_windows, size, step), reference, label)


def _windows(size: int, step: int, items: Iterable[T]) -> Iterator[tuple[T, ...]]:
    """Every ``step``-th window of ``size`` items, made by zip in C.

    zip runs over copies of the stream, copy k started k items in; chain
    defers that start to the first ``next()``, so nothing is pulled before.
    """

    def started() -> Iterator[Iterator[tuple[T, ...]]]:
        copies = itertools.tee(items, size)
        for k, copy in builtins.enumerate(copies):
            next(itertools.islice(copy, k, k), None)
        every = zip(*copies, strict=False)
        yield every if step == 1 else itertools.islice(every, 0, None, step)

    return itertools.chain.from_iterable(started())


def pairwise() -> Stage[T, tuple[T, T]]:
    """Yield each item with the next one, like `itertools.pairwise`.

    >>> import genpipe as gp
    >>> "abc" | gp.pairwise() | gp.to_list()
    [('a', 'b'), ('b', 'c')]
    """
    return Stage(
        _pairs,
        lambda xs: [(xs[i], xs[i + 1]) for i in range(len(xs) - 1)],
        "pairwise()",
    )


# Before Python 3.13 itertools.pairwise makes a new tuple per item, where the
# zip of window(2) reuses its result tuple once the consumer has dropped it.
_pairs: Callable[[Iterable[Any]], Iterator[tuple[Any, Any]]] = (
    itertools.pairwise if sys.version_info >= (3, 13) else partial(_windows, 2, 1)
)


def group_by(
    key: Callable[[T], K],
    *,
    size: int | None = None,
    max_wait: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    **options: Unpack[ErrorOptions[K]],
) -> Stage[T, tuple[K, list[T]]]:
    """Group items by ``key`` into ``(key, items)`` pairs.

    Without ``size`` or ``max_wait`` it groups runs of consecutive items with
    equal keys, like `itertools.groupby`: equal keys that are not adjacent
    form separate groups (sort first for one group per key), and it holds one
    group in memory.

    With ``size`` and/or ``max_wait`` it keeps one open bucket per key
    (keys must then be hashable) and yields a bucket when it holds ``size``
    items, or once its first item has waited ``max_wait`` seconds — the
    "flush each customer's events every 100 or every 5 s" of loaders. When
    several buckets are due at once the oldest comes first; at the end of
    the stream the open buckets follow in the order they were opened.

    The ``max_wait`` variant reads upstream in a producer thread (at most
    ``size`` items ahead, or 64 without ``size``), so a bucket is yielded on
    time even while upstream is silent. It waits on ``clock`` with ``sleep``
    (one of the error options): the default wakes as soon as an item
    arrives, an injected one is called for the whole time left, so a fake
    pair of them makes tests instant. Its grouping depends on timing: its
    eager face groups by ``size`` alone, and each key's items come in the
    same order either way.

    `ErrorOptions` apply to ``key``: a skipped item is dropped, a handler's
    value is the item's key. Whatever the variant, the groups it holds are
    yielded before an exception from upstream (or from ``key``) is raised.

    Sharp edge: memory grows with the number of keys open at once, and
    without ``size`` a bucket holds every item of its key that arrives
    within ``max_wait``.

    >>> import genpipe as gp
    >>> "aabca" | gp.group_by(str.upper) | gp.to_list()
    [('A', ['a', 'a']), ('B', ['b']), ('C', ['c']), ('A', ['a'])]
    >>> [1, 2, 3, 4, 5, 7] | gp.group_by(lambda n: n % 2, size=2) | gp.to_list()
    [(1, [1, 3]), (0, [2, 4]), (1, [5, 7])]
    >>> events = [("ann", 1), ("bob", 2), ("ann", 3)]
    >>> by_user = gp.group_by(lambda event: event[0], max_wait=5.0)
    >>> [(user, len(group)) for user, group in events | by_user | gp.to_list()]
    [('ann', 2), ('bob', 1)]
    """
    check_callable("group_by", "key", key)
    policy = Policy("group_by", **options)
    options_shown: dict[str, object] = {}
    if size is not None:
        options_shown["size"] = check_int("group_by", "size", size, minimum=1)
    if max_wait is not None:
        check_seconds("group_by", "max_wait", max_wait, allow_zero=False)
        check_callable("group_by", "clock", clock)
        options_shown["max_wait"] = max_wait
    label = call_repr("group_by", key, **options_shown, **policy.options())

    def keyed(items: Iterable[T]) -> Iterator[tuple[T, K]]:
        return policy.pairs(key, items)

    if size is None and max_wait is None:

        def runs(items: Iterable[T]) -> Iterator[tuple[K, list[T]]]:
            if policy.is_plain:
                return _listed(itertools.groupby(items, key))
            by_key = itertools.groupby(keyed(items), operator.itemgetter(1))
            first = operator.itemgetter(0)
            return _listed((k, builtins.map(first, run)) for k, run in by_key)

        def reference(items: list[T]) -> list[tuple[K, list[T]]]:
            result: list[tuple[K, list[T]]] = []
            for item, k in keyed(items):
                if result and result[-1][0] == k:
                    result[-1][1].append(item)
                else:
                    result.append((k, [item]))
            return result

        return Stage(runs, reference, label, policy=policy)

    def buckets_reference(items: list[T]) -> list[tuple[K, list[T]]]:
        # Each key's n-th item goes to that key's group number n // size; a
        # group is yielded at its last item if full, else at the end.
        seen: dict[Any, int] = {}
        groups: dict[tuple[Any, int], tuple[int, list[T]]] = {}
        full: list[tuple[int, K, list[T]]] = []
        for position, (item, k) in builtins.enumerate(keyed(items)):
            number = seen.get(k, 0)
            seen[k] = number + 1
            _, group = groups.setdefault(
                (k, 0 if size is None else number // size), (position, [])
            )
            group.append(item)
            if len(group) == size:
                full.append((position, k, group))
        partial = [(f, k, g) for (k, _), (f, g) in groups.items() if len(g) != size]
        ordered = sorted(full, key=operator.itemgetter(0)) + sorted(
            partial, key=operator.itemgetter(0)
        )
        return [(k, group) for _, k, group in ordered]

    if max_wait is None:

        def bucketed(items: Iterable[T]) -> Iterator[tuple[K, list[T]]]:
            if policy.is_plain:
                return _bucketed(items, key, size)
            held = _bucketed(keyed(items), _second, size)
            return ((k, [item for item, _ in group]) for k, group in held)

        return Stage(bucketed, buckets_reference, label, policy=policy)
    return timed_groups(
        label, keyed, size, max_wait, clock, policy.sleep, buckets_reference, policy
    )


_second = operator.itemgetter(1)


def _bucketed(
    items: Iterable[T], key: Callable[[T], K], size: int | None
) -> Iterator[tuple[K, list[T]]]:
    """``Buckets`` without a clock: full buckets as they fill, then the rest."""
    buckets: Buckets[K, T] = Buckets(size, None)
    add = buckets.add
    try:
        for item in items:
            k = key(item)
            full = add(k, item)
            if full is not None:
                yield k, full
    except Exception:
        yield from buckets.rest()  # what was read is not lost
        raise
    yield from buckets.rest()


def _listed(
    runs: Iterable[tuple[K, Iterable[T]]],
) -> Iterator[tuple[K, list[T]]]:
    """Each run as a list; a run cut short by an exception is yielded before it."""
    for k, run in runs:
        group: list[T] = []
        try:
            # extend() keeps what it appended before the iterator raised.
            group.extend(run)
        except Exception:
            if group:
                yield k, group
            raise
        yield k, group


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
