"""The named functions that drawn stages apply, grouped by the role they play.

Every function is a module-level ``def`` (or a builtin), so a drawn stage
prints as code: ``filter(is_even)``, never ``filter(<lambda>)``. All of them
are pure and total on the elements they are meant for, so a difference
between the lazy and the eager run is never theirs.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Toolkit(Generic[T]):
    """The functions a drawn stage may call on elements of type ``T``, by role."""

    #: ``map`` and ``thread_map``: an element to an element.
    maps: Sequence[Callable[[T], T]]
    #: ``filter``, ``take_while``, ``drop_while``.
    predicates: Sequence[Callable[[T], object]]
    #: ``distinct`` and ``group_by``: few distinct, hashable values.
    keys: Sequence[Callable[[T], Hashable]]
    #: ``sort``: values that can be ordered (``None`` sorts by the item itself).
    sort_keys: Sequence[Callable[[T], Any] | None]
    #: ``scan``: a running total and an element to a new total.
    combiners: Sequence[Callable[[T, T], T]]
    #: ``flat_map``: an element to zero or more elements.
    expansions: Sequence[Callable[[T], Iterable[T]]]
    #: ``starmap`` over a non-empty row of elements, back to one element.
    reducers: Sequence[Callable[..., T]]
    #: Whether the elements are hashable, so ``distinct()`` needs no key.
    hashable: bool = False


def double(n: int) -> int:
    return 2 * n


def negate(n: int) -> int:
    return -n


def increment(n: int) -> int:
    return n + 1


def halve(n: int) -> int:
    return n // 2


def is_even(n: int) -> bool:
    return n % 2 == 0


def is_positive(n: int) -> bool:
    return n > 0


def is_small(n: int) -> bool:
    return abs(n) < 5


def always(item: object) -> bool:
    return True


def never(item: object) -> bool:
    return False


def mod3(n: int) -> int:
    return n % 3


def sign(n: int) -> int:
    return (n > 0) - (n < 0)


def neighbours(n: int) -> list[int]:
    return [n - 1, n, n + 1]


def copies_by_mod3(n: int) -> list[int]:
    return [n] * (n % 3)


def twice(item: T) -> list[T]:
    return [item, item]


def nothing(item: T) -> list[T]:
    return []


def keep_first(total: T, item: T) -> T:
    return total


def keep_last(total: T, item: T) -> T:
    return item


def last_of(*items: T) -> T:
    return items[-1]


def largest(*items: int) -> int:
    return max(items)


def smallest(*items: int) -> int:
    return min(items)


#: The built-in toolkit for int elements. It keeps numbers small (no
#: squaring, no products), so long pipelines stay fast.
INTS: Toolkit[int] = Toolkit(
    maps=[double, negate, increment, halve],
    predicates=[is_even, is_positive, is_small, always, never],
    keys=[mod3, sign, abs],
    sort_keys=[None, mod3, sign, negate],
    combiners=[operator.add, operator.sub, max, min],
    expansions=[neighbours, copies_by_mod3, nothing],
    reducers=[largest, smallest, last_of],
    hashable=True,
)


def around(maps: Sequence[Callable[[T], T]]) -> Toolkit[T]:
    """A toolkit for any element type, built around the user's own ``maps``.

    Only ``maps`` know the elements; every other role uses a function that
    works on any object (truthiness, keeping one of two items).
    """
    return Toolkit(
        maps=maps,
        predicates=[bool, always, never],
        keys=[bool],
        sort_keys=[bool],
        combiners=[keep_first, keep_last],
        expansions=[twice, nothing],
        reducers=[last_of],
    )
