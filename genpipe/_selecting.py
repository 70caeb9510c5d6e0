"""Stages that pass some items through unchanged: filter, take, skip, distinct, ..."""

from __future__ import annotations

import builtins
import itertools
import time
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial
from typing import Any, Literal, TypeVar

from genpipe._core import Stage, call_repr
from genpipe._errors import SKIPPED, Policy, RetryOn
from genpipe._validate import check_callable, check_int

T = TypeVar("T")


def filter(
    predicate: Callable[[T], object],
    *,
    on_error: Literal["raise", "skip"] | Callable[[Exception, T], object] = "raise",
    retries: int = 0,
    backoff: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], object] = time.sleep,
) -> Stage[T, T]:
    """Keep the items for which ``predicate`` is true.

    Without error options it is the builtin `filter`. Error options work as
    in `map`; a handler's return value stands in for the predicate's result.

    >>> import genpipe as gp
    >>> range(6) | gp.filter(lambda n: n % 3 == 0) | gp.to_list()
    [0, 3]
    """
    check_callable("filter", "predicate", predicate)
    policy = Policy(
        "filter",
        on_error=on_error,
        retries=retries,
        backoff=backoff,
        retry_on=retry_on,
        sleep=sleep,
    )
    label = call_repr("filter", predicate, **policy.options())
    if policy.is_plain:
        return Stage(
            partial(builtins.filter, predicate),
            lambda xs: [x for x in xs if predicate(x)],
            label,
        )
    guarded = policy.guard(predicate)

    def guarded_filter(items: Iterable[T]) -> Iterator[T]:
        for item in items:
            keep = guarded(item)
            if keep is not SKIPPED and keep:
                yield item

    def reference(items: list[T]) -> list[T]:
        return [x for x in items if (keep := guarded(x)) is not SKIPPED and keep]

    return Stage(guarded_filter, reference, label)


def take(n: int) -> Stage[T, T]:
    """Yield the first ``n`` items, then stop pulling (`itertools.islice`).

    ``take(0)`` pulls nothing at all from upstream.

    >>> import genpipe as gp
    >>> gp.count() | gp.take(3) | gp.to_list()
    [0, 1, 2]
    """
    check_int("take", "n", n, minimum=0)
    return Stage(
        lambda items: itertools.islice(items, n),
        lambda xs: xs[:n],
        call_repr("take", n),
    )


def skip(n: int) -> Stage[T, T]:
    """Drop the first ``n`` items and yield the rest.

    >>> import genpipe as gp
    >>> range(5) | gp.skip(3) | gp.to_list()
    [3, 4]
    """
    check_int("skip", "n", n, minimum=0)
    return Stage(
        lambda items: itertools.islice(items, n, None),
        lambda xs: xs[n:],
        call_repr("skip", n),
    )


def take_while(predicate: Callable[[T], object]) -> Stage[T, T]:
    """Yield items while ``predicate`` holds; stop at the first that fails.

    Sharp edge: the first failing item is pulled from upstream and dropped.

    >>> import genpipe as gp
    >>> [1, 2, 5, 1] | gp.take_while(lambda n: n < 3) | gp.to_list()
    [1, 2]
    """
    check_callable("take_while", "predicate", predicate)

    def reference(items: list[T]) -> list[T]:
        kept: list[T] = []
        for item in items:
            if not predicate(item):
                break
            kept.append(item)
        return kept

    return Stage(
        partial(itertools.takewhile, predicate),
        reference,
        call_repr("take_while", predicate),
    )


def drop_while(predicate: Callable[[T], object]) -> Stage[T, T]:
    """Drop items while ``predicate`` holds; yield everything from the first that fails.

    >>> import genpipe as gp
    >>> [1, 2, 5, 1] | gp.drop_while(lambda n: n < 3) | gp.to_list()
    [5, 1]
    """
    check_callable("drop_while", "predicate", predicate)

    def reference(items: list[T]) -> list[T]:
        for index, item in builtins.enumerate(items):
            if not predicate(item):
                return items[index:]
        return []

    return Stage(
        partial(itertools.dropwhile, predicate),
        reference,
        call_repr("drop_while", predicate),
    )


def distinct(key: Callable[[T], Any] | None = None) -> Stage[T, T]:
    """Keep the first item of each ``key`` (the item itself by default), in order.

    It remembers every key seen: memory grows with the number of distinct
    keys. Hashable keys are kept in a set; unhashable ones (lists, dicts) in
    a list, which is slower.

    >>> import genpipe as gp
    >>> ["a", "B", "b", "A", "c"] | gp.distinct(key=str.lower) | gp.to_list()
    ['a', 'B', 'c']
    """
    if key is not None:
        check_callable("distinct", "key", key)

    def first_seen(items: Iterable[T]) -> Iterator[T]:
        seen_hashable: set[Hashable] = set()
        # Unhashable keys (lists, sets) can equal hashable ones (a set equals
        # a frozenset), so each kind is also looked for among the other.
        seen_other: list[Any] = []
        for item in items:
            k = item if key is None else key(item)
            try:
                if k in seen_hashable or (seen_other and k in seen_other):
                    continue
                seen_hashable.add(k)
            except TypeError:
                if k in seen_other or any(k == h for h in seen_hashable):
                    continue
                seen_other.append(k)
            yield item

    def reference(items: list[T]) -> list[T]:
        keys: list[Any] = []
        kept: list[T] = []
        for item in items:
            k = item if key is None else key(item)
            if k not in keys:
                keys.append(k)
                kept.append(item)
        return kept

    label = "distinct()" if key is None else call_repr("distinct", key=key)
    return Stage(first_seen, reference, label)
