"""map, starmap, flat_map, flatten, tap, enumerate, scan and sort."""

from __future__ import annotations

import builtins
import itertools
import re
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from tests.doubles import TrackedSource
from tests.strategies import (
    binary_functions,
    double,
    expansions,
    int_functions,
    int_lists,
    int_pairs,
    ints,
    keys,
    mod3,
    neighbours,
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


def test_repr_of_transforms_reads_like_the_code_that_built_them() -> None:
    built: list[object] = [
        gp.map(double),
        gp.starmap(pow),
        gp.flat_map(neighbours),
        gp.flatten(),
        gp.tap(print),
        gp.enumerate(),
        gp.enumerate(1),
        gp.scan(max),
        gp.scan(max, 0),
        gp.sort(),
        gp.sort(key=mod3, reverse=True),
    ]
    assert [repr(stage) for stage in built] == [
        "map(double)",
        "starmap(pow)",
        "flat_map(neighbours)",
        "flatten()",
        "tap(print)",
        "enumerate()",
        "enumerate(1)",
        "scan(max)",
        "scan(max, 0)",
        "sort()",
        "sort(key=mod3, reverse=True)",
    ]


#: genpipe without its types, to make the calls a type checker would reject.
unchecked: Any = gp

BAD_ARGUMENTS: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    "map(42)": (
        lambda: unchecked.map(42),
        TypeError,
        "map() needs a callable for fn, got 42",
    ),
    "starmap(None)": (
        lambda: unchecked.starmap(None),
        TypeError,
        "starmap() needs a callable for fn, got None",
    ),
    "flat_map('ab')": (
        lambda: unchecked.flat_map("ab"),
        TypeError,
        "flat_map() needs a callable for fn, got 'ab'",
    ),
    "tap(1)": (
        lambda: unchecked.tap(1),
        TypeError,
        "tap() needs a callable for fn, got 1",
    ),
    "enumerate(True)": (
        lambda: unchecked.enumerate(True),
        TypeError,
        "enumerate() needs an int for start, got True of type bool",
    ),
    "enumerate('1')": (
        lambda: unchecked.enumerate("1"),
        TypeError,
        "enumerate() needs an int for start, got '1' of type str",
    ),
    "scan(0)": (
        lambda: unchecked.scan(0),
        TypeError,
        "scan() needs a callable for fn, got 0",
    ),
    "sort(key=1)": (
        lambda: unchecked.sort(key=1),
        TypeError,
        "sort() needs a callable for key, got 1",
    ),
    "sort(reverse=1)": (
        lambda: unchecked.sort(reverse=1),
        TypeError,
        "sort() needs True or False for reverse, got 1 of type int",
    ),
}


@pytest.mark.parametrize(
    ("build", "error", "message"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS
)
def test_bad_arguments_fail_when_the_stage_is_built(
    build: Callable[[], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        build()
