"""One-to-one and one-to-many transforms: map, starmap, flat_map, flatten, ..."""

from __future__ import annotations

import builtins
import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Literal, TypeVar, overload

from genpipe._core import Stage, call_repr
from genpipe._errors import SKIPPED, Policy, RetryOn
from genpipe._validate import check_bool, check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")
A = TypeVar("A")


def map(
    fn: Callable[[T], U],
    *,
    on_error: Literal["raise", "skip"] | Callable[[Exception, T], U] = "raise",
    retries: int = 0,
    backoff: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], object] = time.sleep,
) -> Stage[T, U]:
    """Apply ``fn`` to every item.

    Without error options it is the builtin `map`, with no per-item cost of
    its own. ``on_error`` decides what a failing call does: ``"raise"`` (the
    default), ``"skip"`` the item, or a handler ``(exc, item)`` whose return
    value replaces the result (it may raise `Skip` to drop the item, or
    re-raise). ``retries=n`` calls ``fn`` up to n + 1 times for exceptions
    matching ``retry_on``, sleeping ``backoff`` seconds, doubled after each
    failure, in between; the policy applies after the last attempt.

    Sharp edge: as with the builtin, a `StopIteration` escaping ``fn`` ends the
    stream quietly unless an error option is set (then it is an error).

    >>> import genpipe as gp
    >>> [1, 2, 3] | gp.map(str) | gp.to_list()
    ['1', '2', '3']
    >>> ["1", "x"] | gp.map(int, on_error=lambda exc, item: -1) | gp.to_list()
    [1, -1]
    """
    check_callable("map", "fn", fn)
    policy = Policy(
        "map",
        on_error=on_error,
        retries=retries,
        backoff=backoff,
        retry_on=retry_on,
        sleep=sleep,
    )
    label = call_repr("map", fn, **policy.options())
    if policy.is_plain:
        return Stage(partial(builtins.map, fn), lambda xs: [fn(x) for x in xs], label)
    guarded = policy.guard(fn)

    def guarded_map(items: Iterable[T]) -> Iterator[U]:
        for item in items:
            result = guarded(item)
            if result is not SKIPPED:
                yield result

    def reference(items: list[T]) -> list[U]:
        return [r for x in items if (r := guarded(x)) is not SKIPPED]

    return Stage(guarded_map, reference, label)


def starmap(fn: Callable[..., U]) -> Stage[Iterable[Any], U]:
    """Apply ``fn`` to every item unpacked as arguments, like `itertools.starmap`.

    >>> import genpipe as gp
    >>> [(2, 3), (10, 2)] | gp.starmap(pow) | gp.to_list()
    [8, 100]
    """
    check_callable("starmap", "fn", fn)
    return Stage(
        partial(itertools.starmap, fn),
        lambda xs: [fn(*args) for args in xs],
        call_repr("starmap", fn),
    )


def flat_map(
    fn: Callable[[T], Iterable[U]],
    *,
    on_error: Literal["raise", "skip"]
    | Callable[[Exception, T], Iterable[U]] = "raise",
    retries: int = 0,
    backoff: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], object] = time.sleep,
) -> Stage[T, U]:
    """Apply ``fn`` to every item and yield each item of the iterable it returns.

    Error options work as in `map`; a handler returns a replacement iterable.
    Sharp edge: with an error option set, each item's expansion is collected
    into a list before any of it is yielded, so a failure halfway never emits
    half an expansion (and a retry never emits one twice).

    >>> import genpipe as gp
    >>> ["ab", "c"] | gp.flat_map(list) | gp.to_list()
    ['a', 'b', 'c']
    """
    check_callable("flat_map", "fn", fn)
    policy = Policy(
        "flat_map",
        on_error=on_error,
        retries=retries,
        backoff=backoff,
        retry_on=retry_on,
        sleep=sleep,
    )
    label = call_repr("flat_map", fn, **policy.options())
    if policy.is_plain:
        return Stage(
            lambda items: itertools.chain.from_iterable(builtins.map(fn, items)),
            lambda xs: [y for x in xs for y in fn(x)],
            label,
        )
    guarded = policy.guard(lambda item: list(fn(item)))

    def guarded_flat_map(items: Iterable[T]) -> Iterator[U]:
        for item in items:
            expansion = guarded(item)
            if expansion is not SKIPPED:
                yield from expansion

    def reference(items: list[T]) -> list[U]:
        expansions = [guarded(x) for x in items]
        return [y for e in expansions if e is not SKIPPED for y in e]

    return Stage(guarded_flat_map, reference, label)


def flatten() -> Stage[Iterable[T], T]:
    """Remove one level of nesting.

    >>> import genpipe as gp
    >>> [[1, 2], [], [3]] | gp.flatten() | gp.to_list()
    [1, 2, 3]
    """
    return Stage(
        itertools.chain.from_iterable,
        lambda xs: [y for x in xs for y in x],
        "flatten()",
    )


def tap(fn: Callable[[T], object]) -> Stage[T, T]:
    """Call ``fn`` on every item for its side effect and pass the item on.

    >>> import genpipe as gp
    >>> seen = []
    >>> [1, 2] | gp.tap(seen.append) | gp.map(lambda n: -n) | gp.to_list()
    [-1, -2]
    >>> seen
    [1, 2]
    """
    check_callable("tap", "fn", fn)

    def tapped(items: Iterable[T]) -> Iterator[T]:
        for item in items:
            fn(item)
            yield item

    def reference(items: list[T]) -> list[T]:
        for item in items:
            fn(item)
        return list(items)

    return Stage(tapped, reference, call_repr("tap", fn))


def enumerate(start: int = 0) -> Stage[T, tuple[int, T]]:
    """Pair every item with its position, counting from ``start``.

    >>> import genpipe as gp
    >>> "ab" | gp.enumerate(1) | gp.to_list()
    [(1, 'a'), (2, 'b')]
    """
    check_int("enumerate", "start", start, minimum=-(2**63))
    return Stage(
        partial(builtins.enumerate, start=start),
        lambda xs: list(zip(range(start, start + len(xs)), xs, strict=True)),
        call_repr("enumerate", start) if start else "enumerate()",
    )


@overload
def scan(fn: Callable[[T, T], T]) -> Stage[T, T]: ...
@overload
def scan(fn: Callable[[A, T], A], initial: A) -> Stage[T, A]: ...
def scan(fn: Callable[[Any, Any], Any], initial: Any = None) -> Stage[Any, Any]:
    """Yield running results of ``fn``, like `itertools.accumulate`.

    With ``initial`` (``None`` means not given) it is yielded first.

    >>> import genpipe as gp
    >>> [1, 2, 3] | gp.scan(lambda total, n: total + n) | gp.to_list()
    [1, 3, 6]
    >>> [1, 2, 3] | gp.scan(lambda total, n: total + n, 10) | gp.to_list()
    [10, 11, 13, 16]
    """
    check_callable("scan", "fn", fn)

    def reference(items: list[Any]) -> list[Any]:
        results = [] if initial is None else [initial]
        for item in items:
            results.append(fn(results[-1], item) if results else item)
        return results

    label = call_repr("scan", fn) if initial is None else call_repr("scan", fn, initial)
    return Stage(
        lambda items: itertools.accumulate(items, fn, initial=initial),
        reference,
        label,
    )


def sort(key: Callable[[T], Any] | None = None, reverse: bool = False) -> Stage[T, T]:
    """Sort the stream, like `sorted` (stable).

    Sharp edge: it buffers the whole stream before yielding its first item,
    so it needs a finite input and memory for all of it.

    >>> import genpipe as gp
    >>> ["bb", "a", "ccc"] | gp.sort(key=len, reverse=True) | gp.to_list()
    ['ccc', 'bb', 'a']
    """
    if key is not None:
        check_callable("sort", "key", key)
    check_bool("sort", "reverse", reverse)
    options: dict[str, object] = {}
    if key is not None:
        options["key"] = key
    if reverse:
        options["reverse"] = True

    def sorting(items: Iterable[T]) -> Iterator[T]:
        yield from sorted(items, key=key, reverse=reverse)  # type: ignore[type-var, arg-type]

    def reference(items: list[T]) -> list[T]:
        return sorted(items, key=key, reverse=reverse)  # type: ignore[type-var, arg-type]

    return Stage(sorting, reference, call_repr("sort", **options))
