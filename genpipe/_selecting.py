"""Stages that pass some items through unchanged: filter, take, skip, distinct, ..."""

from __future__ import annotations

import builtins
import itertools
import operator
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar, Unpack

from genpipe._core import Stage, call_repr, describe
from genpipe._errors import ErrorOptions, Policy, refuse_options
from genpipe._validate import check_callable, check_int

T = TypeVar("T")


def filter(
    predicate: Callable[[T], object], **options: Unpack[ErrorOptions[object]]
) -> Stage[T, T]:
    """Keep the items for which ``predicate`` is true.

    Without error options it is the builtin `filter`. `ErrorOptions` work as
    in `map`; a handler's return value stands in for the predicate's result.

    >>> import genpipe as gp
    >>> range(6) | gp.filter(lambda n: n % 3 == 0) | gp.to_list()
    [0, 3]
    """
    check_callable("filter", "predicate", predicate)
    policy = Policy("filter", **options)
    label = call_repr("filter", predicate, **policy.options())
    if policy.is_plain:
        return Stage(
            partial(builtins.filter, predicate),
            lambda xs: [x for x in xs if predicate(x)],
            label,
            policy=policy,
        )

    def guarded_filter(items: Iterable[T]) -> Iterator[T]:
        return (item for item, keep in policy.pairs(predicate, items) if keep)

    return Stage(
        guarded_filter, lambda xs: list(guarded_filter(xs)), label, policy=policy
    )


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


def distinct(
    key: Callable[[T], Hashable] | None = None,
    **options: Unpack[ErrorOptions[Hashable]],
) -> Stage[T, T]:
    """Keep the first item of each ``key`` (the item itself by default), in order.

    It remembers every key seen in a set: memory grows with the number of
    distinct keys, and keys must be hashable. For unhashable items pass a
    key that makes them hashable: ``key=tuple`` for lists, ``key=frozenset``
    for sets, ``key=lambda d: tuple(sorted(d.items()))`` for flat dicts.
    `ErrorOptions` apply to ``key`` (so need one): a skipped item is dropped,
    a handler's value is the item's key.

    >>> import genpipe as gp
    >>> ["a", "B", "b", "A", "c"] | gp.distinct(key=str.lower) | gp.to_list()
    ['a', 'B', 'c']
    >>> [[1, 2], [2, 1], [1, 2]] | gp.distinct(key=tuple) | gp.to_list()
    [[1, 2], [2, 1]]
    >>> [[1, 2]] | gp.distinct() | gp.to_list()
    Traceback (most recent call last):
    ...
    TypeError: distinct() keeps keys in a set, so they must be hashable, got [1, 2] ...
    """
    policy = Policy("distinct", **options)
    if key is None:
        refuse_options("distinct", options, "with a key=")
        label = "distinct()"
    else:
        check_callable("distinct", "key", key)
        label = call_repr("distinct", key=key, **policy.options())

    def first_items(items: Iterable[T]) -> Iterator[T]:
        seen: set[Hashable] = set()
        remember = seen.add
        for item in items:
            try:
                if item in seen:
                    continue
            except TypeError as exc:
                raise _unhashable(item, item) from exc
            remember(item)
            yield item

    def first_of_keys(items: Iterable[T]) -> Iterator[T]:
        if key is None:
            return first_items(items)
        if policy.is_plain:
            return _first_of_keys(items, key)
        pairs = policy.pairs(key, items)
        return builtins.map(_first, _first_of_keys(pairs, _second))

    def reference(items: list[T]) -> list[T]:
        keys: list[Any] = []
        kept: list[T] = []
        pairs = ((x, x) for x in items) if key is None else policy.pairs(key, items)
        for item, k in pairs:
            try:
                hash(k)
            except TypeError as exc:
                raise _unhashable(k, item) from exc
            if k not in keys:
                keys.append(k)
                kept.append(item)
        return kept

    return Stage(first_of_keys, reference, label, policy=policy)


_first = operator.itemgetter(0)
_second = operator.itemgetter(1)


def _first_of_keys(items: Iterable[T], key: Callable[[T], Hashable]) -> Iterator[T]:
    seen: set[Hashable] = set()
    remember = seen.add
    for item in items:
        k = key(item)
        try:
            if k in seen:
                continue
        except TypeError as exc:
            raise _unhashable(k, item) from exc
        remember(k)
        yield item


def _unhashable(key: object, item: object) -> TypeError:
    of_item = "" if key is item else f" for item {describe(item)}"
    return TypeError(
        f"distinct() keeps keys in a set, so they must be hashable, got "
        f"{describe(key)}{of_item} (a {type(key).__name__}): pass a key= that "
        "makes one, e.g. key=tuple for lists"
    )
