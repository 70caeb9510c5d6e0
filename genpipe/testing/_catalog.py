"""Which built-in stages may follow which kind of item, with drawn parameters.

A drawn pipeline must be type-correct: ``flatten()`` needs rows, ``filter``
needs elements its predicates accept. The stream's items are described by a
`Shape`, the wrappers around an element from the outside in: ``()`` is an
element, ``("row",)`` a tuple or list of elements (from `window`, `batch`,
...), ``("keyed", "row")`` a pair whose second item is such a row (from
`group_by`). Every stage is a `Move` from one shape to the next, and the
moves of each shape are listed simplest first, which is the order hypothesis
shrinks towards.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import Toolkit

T = TypeVar("T")

Shape = tuple[Literal["row", "keyed"], ...]

#: A plain element of the stream, as drawn from the user's ``elements``.
ELEMENT: Shape = ()

_counts = st.integers(min_value=0, max_value=10)
# Sizes, steps, worker counts and queue bounds: small, so that windows span
# batches and queues fill up on short inputs.
_sizes = st.integers(min_value=1, max_value=4)
# True first: hypothesis shrinks towards the exact comparison.
_ordered = st.sampled_from([True, False])
_max_waits = st.sampled_from([0.001, 0.01])
_bucket_sizes = st.none() | _sizes


@dataclass(frozen=True)
class Move:
    """A stage drawn from ``stage``, and the shape of the items it yields."""

    stage: st.SearchStrategy[gp.Stage[Any, Any]]
    shape: Shape


class FakeTime:
    """A clock that jumps forward when slept on, so `throttle` never really waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def throttle_on_fake_time(rate: float, burst: int) -> gp.Stage[Any, Any]:
    time = FakeTime()
    return gp.throttle(rate, burst=burst, clock=time, sleep=time.sleep)


class Catalog(Generic[T]):
    """The moves available from each shape, for one toolkit and element strategy."""

    def __init__(
        self,
        toolkit: Toolkit[T],
        elements: st.SearchStrategy[T],
        extra_stages: Sequence[gp.Stage[T, T]],
    ) -> None:
        self._toolkit = toolkit
        self._elements = elements
        self._extra_stages = extra_stages
        self.moves_from = functools.cache(self._moves_from)

    def _moves_from(self, shape: Shape) -> list[Move]:
        if shape == ELEMENT:
            specific = self._element_moves()
        elif shape[0] == "row":
            specific = self._row_moves(shape)
        else:
            specific = [Move(st.just(gp.map(operator.itemgetter(1))), shape[1:])]
        moves = specific + self._any_item_moves(shape) + self._concurrent_moves(shape)
        if shape == ELEMENT and self._extra_stages:
            # The user's own stages come last: a counterexample keeps one only
            # when no catalog stage in its place fails too.
            moves.append(Move(st.sampled_from(self._extra_stages), ELEMENT))
        return moves

    def _element_moves(self) -> list[Move]:
        kit = self._toolkit
        keys = st.sampled_from(kit.keys)
        predicates = st.sampled_from(kit.predicates)
        return [
            Move(st.builds(gp.map, st.sampled_from(kit.maps)), ELEMENT),
            Move(st.builds(gp.filter, predicates), ELEMENT),
            Move(st.builds(gp.flat_map, st.sampled_from(kit.expansions)), ELEMENT),
            Move(st.builds(gp.take_while, predicates), ELEMENT),
            Move(st.builds(gp.drop_while, predicates), ELEMENT),
            Move(st.builds(gp.distinct, keys), ELEMENT),
            # An initial value of None means "not given", as in the stdlib.
            Move(
                st.builds(
                    gp.scan, st.sampled_from(kit.combiners), st.none() | self._elements
                ),
                ELEMENT,
            ),
            Move(
                st.builds(
                    gp.sort,
                    key=st.sampled_from(kit.sort_keys),
                    reverse=st.sampled_from([False, True]),
                ),
                ELEMENT,
            ),
            Move(st.builds(gp.group_by, keys, size=_bucket_sizes), ("keyed", "row")),
        ]

    def _row_moves(self, shape: Shape) -> list[Move]:
        inner = shape[1:]
        moves = [Move(st.just(gp.flatten()), inner)]
        if inner == ELEMENT:
            moves.append(
                Move(
                    st.builds(gp.starmap, st.sampled_from(self._toolkit.reducers)),
                    inner,
                )
            )
        return moves

    def _any_item_moves(self, shape: Shape) -> list[Move]:
        """Stages that work whatever the items are: they select, wrap or delay."""
        row: Shape = ("row", *shape)
        # Rows may be lists, and the user's elements anything: their repr is
        # a hashable key whatever they are.
        hashable = shape == ELEMENT and self._toolkit.hashable
        distinct = gp.distinct() if hashable else gp.distinct(key=repr)
        return [
            Move(st.builds(gp.take, _counts), shape),
            Move(st.builds(gp.skip, _counts), shape),
            Move(st.just(gp.tap(id)), shape),
            Move(st.just(distinct), shape),
            Move(st.builds(gp.enumerate, _counts), ("keyed", *shape)),
            Move(st.just(gp.pairwise()), row),
            Move(st.builds(gp.window, _sizes, step=_sizes), row),
            Move(st.builds(gp.batch, _sizes), row),
            Move(
                st.builds(
                    throttle_on_fake_time,
                    st.sampled_from([1.0, 10.0, 1000.0]),
                    burst=_sizes,
                ),
                shape,
            ),
        ]

    def _concurrent_moves(self, shape: Shape) -> list[Move]:
        """Thread-backed stages, last: the hardest to read in a counterexample."""
        moves = [
            Move(st.builds(gp.buffer, maxsize=_sizes), shape),
            Move(st.builds(gp.batch, _sizes, max_wait=_max_waits), ("row", *shape)),
        ]
        if shape == ELEMENT:
            timed_group_by = st.builds(
                gp.group_by,
                st.sampled_from(self._toolkit.keys),
                size=_bucket_sizes,
                max_wait=_max_waits,
            )
            moves.append(Move(timed_group_by, ("keyed", "row")))
            thread_map = st.builds(
                gp.thread_map,
                st.sampled_from(self._toolkit.maps),
                workers=_sizes,
                ordered=_ordered,
                maxsize=st.none() | _sizes,
            )
            moves.append(Move(thread_map, ELEMENT))
        return moves
