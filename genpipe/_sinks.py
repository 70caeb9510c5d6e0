"""Sinks: terminal consumers that turn a stream into one result."""

from __future__ import annotations

import collections
import functools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, Unpack, overload

from genpipe._concurrent._threads import thread_map
from genpipe._core import Sink, Stage, call_repr
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")
A = TypeVar("A")
D = TypeVar("D")


class _Missing:
    def __repr__(self) -> str:
        return "..."


_MISSING: Any = _Missing()


def to_list() -> Sink[T, list[T]]:
    """Collect the stream into a list.

    >>> import genpipe as gp
    >>> range(3) | gp.to_list()
    [0, 1, 2]
    """
    return Sink(list, "to_list()")


def to_set() -> Sink[T, set[T]]:
    """Collect the stream into a set.

    >>> import genpipe as gp
    >>> sorted("abca" | gp.to_set())
    ['a', 'b', 'c']
    """
    return Sink(set, "to_set()")


@overload
def to_dict(key: Callable[[T], K]) -> Sink[T, dict[K, T]]: ...
@overload
def to_dict(key: Callable[[T], K], value: Callable[[T], V]) -> Sink[T, dict[K, V]]: ...
def to_dict(
    key: Callable[[Any], Any], value: Callable[[Any], Any] | None = None
) -> Sink[Any, dict[Any, Any]]:
    """Collect into a dict of ``key(item)`` to ``value(item)`` (the item by default).

    A repeated key keeps its last value.

    >>> import genpipe as gp
    >>> ["apple", "avocado", "banana"] | gp.to_dict(lambda s: s[0])
    {'a': 'avocado', 'b': 'banana'}
    >>> ["apple", "fig"] | gp.to_dict(str.upper, len)
    {'APPLE': 5, 'FIG': 3}
    """
    check_callable("to_dict", "key", key)
    if value is None:
        return Sink(
            lambda items: {key(item): item for item in items},
            call_repr("to_dict", key),
        )
    check_callable("to_dict", "value", value)
    return Sink(
        lambda items: {key(item): value(item) for item in items},
        call_repr("to_dict", key, value),
    )


@overload
def reduce(
    fn: Callable[[T, T], T], **options: Unpack[ErrorOptions[T]]
) -> Sink[T, T]: ...
@overload
def reduce(
    fn: Callable[[A, T], A], initial: A, **options: Unpack[ErrorOptions[A]]
) -> Sink[T, A]: ...
def reduce(
    fn: Callable[[Any, Any], Any],
    initial: Any = None,
    **options: Unpack[ErrorOptions[Any]],
) -> Sink[Any, Any]:
    """Fold the stream with ``fn``, like `functools.reduce`.

    ``initial=None`` means not given: an empty stream then raises TypeError.
    With `ErrorOptions`, a skipped item leaves the running result as it was;
    a handler's value becomes the new running result.

    >>> import genpipe as gp
    >>> [1, 2, 3] | gp.reduce(lambda a, b: a * b)
    6
    >>> [] | gp.reduce(lambda total, s: total + len(s), 0)
    0
    """
    check_callable("reduce", "fn", fn)
    policy = Policy("reduce", **options)
    shown = () if initial is None else (initial,)
    label = call_repr("reduce", fn, *shown, **policy.options())
    if not policy.is_plain:

        def guarded_reduce(items: Iterator[Any]) -> Any:
            totals = collections.deque(policy.fold(fn, items, initial), maxlen=1)
            if not totals:
                raise TypeError("reduce() of empty iterable with no initial value")
            return totals[0]

        return Sink(guarded_reduce, label)
    if initial is None:
        return Sink(lambda items: functools.reduce(fn, items), label)
    return Sink(lambda items: functools.reduce(fn, items, initial), label)


def for_each(
    fn: Callable[[T], object],
    *,
    workers: int | None = None,
    **options: Unpack[ErrorOptions[object]],
) -> Sink[T, None]:
    """Call ``fn`` on every item for its side effect.

    With `ErrorOptions`, a failed call is retried, skipped or handed to the
    handler, and the stream goes on. With ``workers=n``, the calls are made
    in ``n`` threads at once, in no particular order (it is an unordered
    `thread_map` drained), for a side effect that waits: a write to a
    service, an upload.

    >>> import genpipe as gp
    >>> ["a", "b"] | gp.for_each(print)
    a
    b
    >>> seen = set()
    >>> range(5) | gp.for_each(seen.add, workers=3)
    >>> sorted(seen)
    [0, 1, 2, 3, 4]
    """
    check_callable("for_each", "fn", fn)
    if workers is not None:
        return _concurrently(fn, workers, options)
    policy = Policy("for_each", **options)

    def each(items: Iterator[T]) -> None:
        # A Python loop: its calls of a Python fn skip the C-level call that
        # builtin map makes for each item.
        for item in items:
            fn(item)

    def guarded_each(items: Iterator[T]) -> None:
        _drain(policy.pairs(fn, items))

    return Sink(
        each if policy.is_plain else guarded_each,
        call_repr("for_each", fn, **policy.options()),
    )


def _concurrently(
    fn: Callable[[T], object], workers: int, options: ErrorOptions[object]
) -> Sink[T, None]:
    check_int("for_each", "workers", workers, minimum=1)
    calls: Stage[T, object] = thread_map(fn, workers, ordered=False, **options)
    shown = Policy("for_each", **options).options()
    return Sink(
        lambda items: _drain(calls(items)),
        call_repr("for_each", fn, workers=workers, **shown),
    )


@overload
def first() -> Sink[T, T]: ...
@overload
def first(default: None) -> Sink[T, T | None]: ...
@overload
def first(default: D) -> Sink[T, T | D]: ...
def first(default: Any = _MISSING) -> Sink[Any, Any]:
    """The first item; it stops pulling right after it.

    An empty stream raises ValueError unless ``default`` is given (``None``
    included).

    >>> import genpipe as gp
    >>> gp.count(5) | gp.first()
    5
    >>> print([] | gp.first(default=None))
    None
    """

    def take_first(items: Iterator[Any]) -> Any:
        for item in items:
            return item
        if default is _MISSING:
            raise ValueError("first() got an empty stream; pass default= to allow it")
        return default

    return Sink(take_first, _default_repr("first", default))


@overload
def last() -> Sink[T, T]: ...
@overload
def last(default: None) -> Sink[T, T | None]: ...
@overload
def last(default: D) -> Sink[T, T | D]: ...
def last(default: Any = _MISSING) -> Sink[Any, Any]:
    """The last item; it consumes the whole stream, holding one item.

    An empty stream raises ValueError unless ``default`` is given.

    >>> import genpipe as gp
    >>> range(4) | gp.last()
    3
    >>> [] | gp.last(default=0)
    0
    """

    def take_last(items: Iterator[Any]) -> Any:
        tail = collections.deque(items, maxlen=1)
        if tail:
            return tail[0]
        if default is _MISSING:
            raise ValueError("last() got an empty stream; pass default= to allow it")
        return default

    return Sink(take_last, _default_repr("last", default))


def _default_repr(name: str, default: object) -> str:
    if default is _MISSING:
        return f"{name}()"
    return call_repr(name, default=default)


def drain() -> Sink[object, None]:
    """Consume the stream for its side effects, keeping nothing.

    >>> import genpipe as gp
    >>> range(3) | gp.tap(print) | gp.drain()
    0
    1
    2
    """
    return Sink(_drain, "drain()")


def _drain(items: Iterator[object]) -> None:
    collections.deque(items, maxlen=0)
