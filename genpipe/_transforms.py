"""One-to-one and one-to-many transforms: map, starmap, flat_map, flatten, ..."""

from __future__ import annotations

import builtins
import itertools
import operator
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, TypeVar, Unpack, overload

from genpipe._core import Stage, call_repr
from genpipe._errors import ErrorOptions, Policy, refuse_options
from genpipe._validate import check_bool, check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")
A = TypeVar("A")


def map(fn: Callable[[T], U], **options: Unpack[ErrorOptions[U]]) -> Stage[T, U]:
    """Apply ``fn`` to every item.

    Without error options it is the builtin `map`, with no per-item cost of
    its own. The `ErrorOptions` decide what a failing call does:
    ``on_error="raise"`` (the default), ``"skip"`` the item, or a handler
    ``(exc, item)`` whose return value replaces the result (it may raise
    `Skip` to drop the item, or re-raise). ``retries=n`` calls ``fn`` up to
    n + 1 times for exceptions matching ``retry_on``, sleeping ``backoff``
    seconds, doubled after each failure, in between; ``on_error`` applies
    after the last attempt.

    Sharp edge: as with the builtin, a `StopIteration` escaping ``fn`` ends the
    stream quietly unless an error option is set (then it is an error).

    >>> import genpipe as gp
    >>> [1, 2, 3] | gp.map(str) | gp.to_list()
    ['1', '2', '3']
    >>> ["1", "x"] | gp.map(int, on_error=lambda exc, item: -1) | gp.to_list()
    [1, -1]
    """
    check_callable("map", "fn", fn)
    policy = Policy("map", **options)
    label = call_repr("map", fn, **policy.options())
    if policy.is_plain:
        return Stage(
            partial(builtins.map, fn),
            lambda xs: [fn(x) for x in xs],
            label,
            policy=policy,
        )

    def guarded_map(items: Iterable[T]) -> Iterator[U]:
        return (result for _, result in policy.pairs(fn, items))

    return Stage(guarded_map, lambda xs: list(guarded_map(xs)), label, policy=policy)


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
    fn: Callable[[T], Iterable[U]], **options: Unpack[ErrorOptions[Iterable[U]]]
) -> Stage[T, U]:
    """Apply ``fn`` to every item and yield each item of the iterable it returns.

    `ErrorOptions` work as in `map`; a handler returns a replacement iterable.
    Sharp edge: with an error option set, each item's expansion is collected
    into a list before any of it is yielded, so a failure halfway never emits
    half an expansion (and a retry never emits one twice).

    >>> import genpipe as gp
    >>> ["ab", "c"] | gp.flat_map(list) | gp.to_list()
    ['a', 'b', 'c']
    """
    check_callable("flat_map", "fn", fn)
    policy = Policy("flat_map", **options)
    label = call_repr("flat_map", fn, **policy.options())
    if policy.is_plain:
        return Stage(
            lambda items: itertools.chain.from_iterable(builtins.map(fn, items)),
            lambda xs: [y for x in xs for y in fn(x)],
            label,
            policy=policy,
        )

    def guarded_flat_map(items: Iterable[T]) -> Iterator[U]:
        pairs = policy.pairs(fn, items, collect=True)
        return itertools.chain.from_iterable(e for _, e in pairs)

    return Stage(
        guarded_flat_map, lambda xs: list(guarded_flat_map(xs)), label, policy=policy
    )


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


def tap(
    fn: Callable[[T], object], **options: Unpack[ErrorOptions[object]]
) -> Stage[T, T]:
    """Call ``fn`` on every item for its side effect and pass the item on.

    With `ErrorOptions`, an item whose call failed is dropped if it is
    skipped, and passed on if a handler returns (its value is ignored, as
    ``fn``'s is).

    >>> import genpipe as gp
    >>> seen = []
    >>> [1, 2] | gp.tap(seen.append) | gp.map(lambda n: -n) | gp.to_list()
    [-1, -2]
    >>> seen
    [1, 2]
    """
    check_callable("tap", "fn", fn)
    policy = Policy("tap", **options)

    def tapped(items: Iterable[T]) -> Iterator[T]:
        for item in items:
            fn(item)
            yield item

    def guarded_tap(items: Iterable[T]) -> Iterator[T]:
        return (item for item, _ in policy.pairs(fn, items))

    return Stage(
        tapped if policy.is_plain else guarded_tap,
        lambda xs: list(guarded_tap(xs)),
        call_repr("tap", fn, **policy.options()),
        policy=policy,
    )


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
def scan(
    fn: Callable[[T, T], T], **options: Unpack[ErrorOptions[T]]
) -> Stage[T, T]: ...
@overload
def scan(
    fn: Callable[[A, T], A], initial: A, **options: Unpack[ErrorOptions[A]]
) -> Stage[T, A]: ...
def scan(
    fn: Callable[[Any, Any], Any],
    initial: Any = None,
    **options: Unpack[ErrorOptions[Any]],
) -> Stage[Any, Any]:
    """Yield running results of ``fn``, like `itertools.accumulate`.

    With ``initial`` (``None`` means not given) it is yielded first. With
    `ErrorOptions`, a skipped item leaves the running result as it was and
    yields nothing; a handler's value becomes the new running result.

    >>> import genpipe as gp
    >>> [1, 2, 3] | gp.scan(lambda total, n: total + n) | gp.to_list()
    [1, 3, 6]
    >>> [1, 2, 3] | gp.scan(lambda total, n: total + n, 10) | gp.to_list()
    [10, 11, 13, 16]
    """
    check_callable("scan", "fn", fn)
    policy = Policy("scan", **options)
    shown = () if initial is None else (initial,)
    label = call_repr("scan", fn, *shown, **policy.options())
    if not policy.is_plain:
        return Stage(
            lambda items: policy.fold(fn, items, initial),
            lambda xs: list(policy.fold(fn, xs, initial)),
            label,
            policy=policy,
        )

    def reference(items: list[Any]) -> list[Any]:
        results = [] if initial is None else [initial]
        for item in items:
            results.append(fn(results[-1], item) if results else item)
        return results

    return Stage(
        lambda items: itertools.accumulate(items, fn, initial=initial),
        reference,
        label,
        policy=policy,
    )


def sort(
    key: Callable[[T], Any] | None = None,
    reverse: bool = False,
    **options: Unpack[ErrorOptions[Any]],
) -> Stage[T, T]:
    """Sort the stream, like `sorted` (stable).

    `ErrorOptions` apply to ``key`` (so need one): a skipped item is left
    out, a handler's value is the item's key.

    Sharp edge: it buffers the whole stream before yielding its first item,
    so it needs a finite input and memory for all of it.

    >>> import genpipe as gp
    >>> ["bb", "a", "ccc"] | gp.sort(key=len, reverse=True) | gp.to_list()
    ['ccc', 'bb', 'a']
    """
    if key is not None:
        check_callable("sort", "key", key)
    check_bool("sort", "reverse", reverse)
    policy = Policy("sort", **options)
    shown: dict[str, object] = {}
    if key is None:
        refuse_options("sort", options, "with a key=")
    else:
        shown["key"] = key
    if reverse:
        shown["reverse"] = True
    label = call_repr("sort", **shown, **policy.options())
    if key is not None and not policy.is_plain:
        keyed = key

        def sorted_by_key(items: Iterable[T]) -> list[T]:
            pairs = policy.pairs(keyed, items)
            ordered = sorted(pairs, key=operator.itemgetter(1), reverse=reverse)
            return [item for item, _ in ordered]

        def guarded_sorting(items: Iterable[T]) -> Iterator[T]:
            yield from sorted_by_key(items)

        return Stage(guarded_sorting, sorted_by_key, label, policy=policy)

    def sorting(items: Iterable[T]) -> Iterator[T]:
        yield from sorted(items, key=key, reverse=reverse)  # type: ignore[type-var, arg-type]

    def reference(items: list[T]) -> list[T]:
        return sorted(items, key=key, reverse=reverse)  # type: ignore[type-var, arg-type]

    return Stage(sorting, reference, label, policy=policy)
