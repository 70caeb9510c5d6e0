"""map, starmap, flat_map, flatten, tap, enumerate, scan and sort."""

from __future__ import annotations

import builtins
import itertools
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import mod3, neighbours
from tests.doubles import TrackedSource
from tests.strategies import (
    binary_functions,
    expansions,
    int_functions,
    int_lists,
    int_pairs,
    ints,
    keys,
    nested_int_lists,
)


@given(fn=int_functions, items=int_lists)
def test_map_is_the_builtin_map(fn: Callable[[int], int], items: list[int]) -> None:
    stage = gp.map(fn)
    assert list(stage(items)) == stage.eager(items) == list(builtins.map(fn, items))


@given(fn=binary_functions, pairs=int_pairs)
def test_starmap_is_itertools_starmap(
    fn: Callable[[int, int], int], pairs: list[tuple[int, int]]
) -> None:
    stage = gp.starmap(fn)
    assert (
        list(stage(pairs)) == stage.eager(pairs) == list(itertools.starmap(fn, pairs))
    )


@given(fn=expansions, items=int_lists)
def test_flat_map_chains_the_iterables_fn_returns(
    fn: Callable[[int], list[int]], items: list[int]
) -> None:
    stage = gp.flat_map(fn)
    expected = list(itertools.chain.from_iterable(builtins.map(fn, items)))
    assert list(stage(items)) == stage.eager(items) == expected


def test_flat_map_expands_an_endless_stream_lazily() -> None:
    tracked = TrackedSource(itertools.count())
    assert gp.source(tracked) | gp.flat_map(neighbours) | gp.take(4) | gp.to_list() == [
        -1,
        0,
        1,
        0,
    ]
    assert tracked.pulls == 2


@given(nested=nested_int_lists)
def test_flatten_is_itertools_chain_from_iterable(nested: list[list[int]]) -> None:
    stage: gp.Stage[list[int], int] = gp.flatten()
    expected = list(itertools.chain.from_iterable(nested))
    assert list(stage(nested)) == stage.eager(nested) == expected


def test_flatten_removes_exactly_one_level() -> None:
    nested: list[list[object]] = [[[1]], [2, [3]]]
    assert gp.source(nested) | gp.flatten() | gp.to_list() == [[1], 2, [3]]


def test_flatten_treats_strings_as_iterables_of_characters() -> None:
    assert gp.source(["ab", "c"]) | gp.flatten() | gp.to_list() == ["a", "b", "c"]


@given(items=int_lists)
def test_tap_passes_items_unchanged_and_sees_each_once_in_order(
    items: list[int],
) -> None:
    seen_lazily: list[int] = []
    seen_eagerly: list[int] = []
    assert list(gp.tap(seen_lazily.append)(items)) == items
    assert gp.tap(seen_eagerly.append).eager(items) == items
    assert seen_lazily == seen_eagerly == items


def test_tap_sees_each_item_as_it_is_pulled() -> None:
    seen: list[int] = []
    streamed = gp.tap(seen.append)(itertools.count())
    assert next(streamed) == 0
    assert seen == [0]
    assert next(streamed) == 1
    assert seen == [0, 1]


@given(start=st.integers(-5, 5), items=int_lists)
def test_enumerate_is_the_builtin_enumerate(start: int, items: list[int]) -> None:
    stage: gp.Stage[int, tuple[int, int]] = gp.enumerate(start)
    expected = list(builtins.enumerate(items, start))
    assert list(stage(items)) == stage.eager(items) == expected


@given(fn=binary_functions, items=int_lists)
def test_scan_without_initial_is_itertools_accumulate(
    fn: Callable[[int, int], int], items: list[int]
) -> None:
    stage = gp.scan(fn)
    expected = list(itertools.accumulate(items, fn))
    assert list(stage(items)) == stage.eager(items) == expected


@given(fn=binary_functions, initial=ints, items=int_lists)
def test_scan_with_initial_yields_it_first_like_accumulate(
    fn: Callable[[int, int], int], initial: int, items: list[int]
) -> None:
    stage = gp.scan(fn, initial)
    expected = list(itertools.accumulate(items, fn, initial=initial))
    assert list(stage(items)) == stage.eager(items) == expected


def test_scan_of_nothing_is_only_the_initial_value_even_a_falsy_one() -> None:
    add: Callable[[int, int], int] = lambda total, n: total + n
    assert [] | gp.scan(add, 0) | gp.to_list() == [0]
    assert gp.scan(add, 0).eager([]) == [0]
    assert [] | gp.scan(add) | gp.to_list() == []


def test_scan_can_change_the_element_type_through_initial() -> None:
    def add_length(total: int, text: str) -> int:
        return total + len(text)

    lengths = gp.scan(add_length, 0)
    assert ["ab", "c"] | lengths | gp.to_list() == [0, 2, 3]


@given(key=st.none() | keys, reverse=st.booleans(), items=int_lists)
def test_sort_is_the_builtin_sorted(
    key: Callable[[int], int] | None, reverse: bool, items: list[int]
) -> None:
    stage = gp.sort(key=key, reverse=reverse)
    expected = sorted(items, key=key, reverse=reverse)
    assert list(stage(items)) == stage.eager(items) == expected


def test_sort_is_stable_for_equal_keys() -> None:
    assert [5, 3, 4, 0, 1] | gp.sort(key=mod3) | gp.to_list() == [3, 0, 4, 1, 5]


def test_sort_pulls_the_whole_stream_before_yielding_its_first_item() -> None:
    tracked = TrackedSource([3, 1, 2])
    streamed = iter(gp.source(tracked) | gp.sort())
    assert next(streamed) == 1
    assert tracked.pulls == 3
