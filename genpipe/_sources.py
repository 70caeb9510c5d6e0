"""Source factories: count, repeat, generate."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from genpipe._core import Base, Source, call_repr
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
