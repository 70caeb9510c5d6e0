"""Source factories: count, repeat, generate, chain."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, TypeVar, cast

from genpipe._core import Base, Source, call_repr, describe, loosest, source
from genpipe._validate import check_callable, check_int

T = TypeVar("T")


def count(start: int = 0, step: int = 1) -> Source[int]:
    """Count up from ``start`` by ``step``, forever (`itertools.count`).

    >>> import genpipe as gp
    >>> gp.count(10, step=5) | gp.take(3) | gp.to_list()
    [10, 15, 20]
    """
    check_int("count", "start", start, minimum=-(2**63))
    check_int("count", "step", step, minimum=-(2**63))
    options: dict[str, Any] = {"step": step} if step != 1 else {}
    label = call_repr("count", start, **options) if start or options else "count()"
    return Source(
        Base(lambda: itertools.count(start, step), label, one_shot=False, endless=True)
    )


def repeat(value: T, times: int | None = None) -> Source[T]:
    """Yield ``value`` ``times`` times, or forever when ``times`` is None.

    >>> import genpipe as gp
    >>> gp.repeat("x", 3) | gp.to_list()
    ['x', 'x', 'x']
    """
    if times is None:
        return Source(
            Base(
                lambda: itertools.repeat(value),
                call_repr("repeat", value),
                one_shot=False,
                endless=True,
            )
        )
    check_int("repeat", "times", times, minimum=0)
    return Source(
        Base(
            lambda: itertools.repeat(value, times),
            call_repr("repeat", value, times),
            one_shot=False,
        )
    )


def generate(fn: Callable[[], T]) -> Source[T]:
    """Call ``fn()`` again and again and yield each result; StopIteration ends it.

    Any other exception from ``fn`` propagates. Sharp edge: a function that
    never raises StopIteration makes an endless source; bound it downstream
    with `take` or `take_while`.

    >>> import genpipe as gp
    >>> pending = [3, 2, 1]
    >>> gp.generate(pending.pop) | gp.take(2) | gp.to_list()
    [1, 2]
    """
    check_callable("generate", "fn", fn)

    def calls() -> Iterator[T]:
        while True:
            try:
                value = fn()
            except StopIteration:
                return
            yield value

    return Source(Base(calls, call_repr("generate", fn), one_shot=False))


class _Chained(itertools.chain[T]):
    """`itertools.chain` (its C loop, no frame per item) that closes its parts."""

    __slots__ = ("opened",)
    opened: Generator[Iterator[T]]

    def close(self) -> None:
        self.opened.close()


def _opened_in_turn(parts: list[Source[T]]) -> Generator[Iterator[T]]:
    """Each part's iterator in turn, closed when the next is asked for or on close."""
    for part in parts:
        with part.open() as items:
            yield items


def chain(*iterables: Iterable[T]) -> Source[T]:
    """The items of each iterable in turn, like `itertools.chain`.

    Each iterable becomes a `source`, so the chain is re-iterable when they
    all are. A part is opened only when the one before it has ended, and
    its whole pipeline is closed as soon as it ends or the chain is closed
    early, so a part with thread stages joins its threads before the next
    part starts.

    >>> import genpipe as gp
    >>> gp.chain([1, 2], range(3), gp.repeat("x", 2)) | gp.to_list()
    [1, 2, 0, 1, 2, 'x', 'x']
    >>> gp.chain(gp.source([1]) | gp.map(str), gp.count()) | gp.take(3) | gp.to_list()
    ['1', 0, 1]
    """
    for each in iterables:
        if not isinstance(each, Iterable):
            raise TypeError(
                f"chain() needs iterables (lists, sources, generators, ...), "
                f"got {describe(each)}"
            )
    parts = [source(each) for each in iterables]

    def open_chained() -> Iterator[T]:
        opened = _opened_in_turn(parts)
        # from_iterable makes an instance of the class it is called on.
        chained = cast(_Chained[T], _Chained.from_iterable(opened))
        chained.opened = opened
        return chained

    def chained_eagerly() -> list[T]:
        return [item for part in parts for item in part.eager()]

    return Source(
        Base(
            open_chained,
            call_repr("chain", *parts),
            one_shot=False,
            materialise=chained_eagerly,
            comparison=loosest(part.comparison for part in parts),
        )
    )
