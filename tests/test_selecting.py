"""filter, take, skip, take_while, drop_while and distinct."""

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
from tests.strategies import counts, int_lists, ints, is_even, keys, predicates


@given(predicate=predicates, items=int_lists)
def test_filter_is_the_builtin_filter(
    predicate: Callable[[int], bool], items: list[int]
) -> None:
    stage = gp.filter(predicate)
    expected = list(builtins.filter(predicate, items))
    assert list(stage(items)) == stage.eager(items) == expected


@given(n=counts, items=int_lists)
def test_take_is_islice_and_pulls_only_what_it_yields(n: int, items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.take(n)
    tracked = TrackedSource(items)
    assert list(stage(tracked)) == stage.eager(items) == items[:n]
    assert tracked.pulls == min(n, len(items))


@given(n=counts, items=int_lists)
def test_skip_drops_the_first_n_items(n: int, items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.skip(n)
    expected = list(itertools.islice(items, n, None))
    assert list(stage(items)) == stage.eager(items) == expected == items[n:]


@given(predicate=predicates, items=int_lists)
def test_take_while_is_itertools_takewhile(
    predicate: Callable[[int], bool], items: list[int]
) -> None:
    stage = gp.take_while(predicate)
    expected = list(itertools.takewhile(predicate, items))
    assert list(stage(items)) == stage.eager(items) == expected


@given(predicate=predicates, items=int_lists)
def test_take_while_pulls_the_first_failing_item_and_no_more(
    predicate: Callable[[int], bool], items: list[int]
) -> None:
    tracked = TrackedSource(items)
    kept = gp.source(tracked) | gp.take_while(predicate) | gp.to_list()
    assert tracked.pulls == min(len(kept) + 1, len(items))


@given(predicate=predicates, items=int_lists)
def test_drop_while_is_itertools_dropwhile(
    predicate: Callable[[int], bool], items: list[int]
) -> None:
    stage = gp.drop_while(predicate)
    expected = list(itertools.dropwhile(predicate, items))
    assert list(stage(items)) == stage.eager(items) == expected


def test_drop_while_stops_testing_after_the_first_failure() -> None:
    tested: list[int] = []

    def is_even_noted(n: int) -> bool:
        tested.append(n)
        return is_even(n)

    assert [2, 3, 4, 5] | gp.drop_while(is_even_noted) | gp.to_list() == [3, 4, 5]
    assert tested == [2, 3]


def first_occurrences(items: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    """Keep each item whose key differs from the keys of every earlier item."""
    return [
        item
        for index, item in builtins.enumerate(items)
        if all(key(item) != key(earlier) for earlier in items[:index])
    ]


@given(key=keys, items=int_lists)
def test_distinct_keeps_the_first_item_of_each_key_in_order(
    key: Callable[[int], int], items: list[int]
) -> None:
    stage = gp.distinct(key)
    expected = first_occurrences(items, key)
    assert list(stage(items)) == stage.eager(items) == expected


@given(items=int_lists)
def test_distinct_without_key_drops_repeated_items(items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.distinct()
    expected = list(dict.fromkeys(items))
    assert list(stage(items)) == stage.eager(items) == expected


@given(items=st.lists(st.lists(ints, max_size=2) | ints, max_size=20))
def test_distinct_handles_unhashable_and_hashable_items_together(
    items: list[list[int] | int],
) -> None:
    stage: gp.Stage[list[int] | int, list[int] | int] = gp.distinct()
    expected = first_occurrences(items, lambda item: item)
    assert list(stage(items)) == stage.eager(items) == expected


def test_distinct_remembers_keys_across_the_whole_stream() -> None:
    by_size = gp.distinct(key=abs)
    assert [1, -2, 3, 2, -1, -3, 4] | by_size | gp.to_list() == [1, -2, 3, 4]


def test_repr_of_selecting_stages_reads_like_the_code_that_built_them() -> None:
    built: list[object] = [
        gp.filter(is_even),
        gp.take(3),
        gp.skip(0),
        gp.take_while(callable),
        gp.drop_while(is_even),
        gp.distinct(),
        gp.distinct(key=abs),
    ]
    assert [repr(stage) for stage in built] == [
        "filter(is_even)",
        "take(3)",
        "skip(0)",
        "take_while(callable)",
        "drop_while(is_even)",
        "distinct()",
        "distinct(key=abs)",
    ]


#: genpipe without its types, to make the calls a type checker would reject.
unchecked: Any = gp

BAD_ARGUMENTS: dict[str, tuple[Callable[[], object], type[Exception], str]] = {
    "filter(None)": (
        lambda: unchecked.filter(None),
        TypeError,
        "filter() needs a callable for predicate, got None",
    ),
    "take(-1)": (lambda: unchecked.take(-1), ValueError, "take() needs n >= 0, got -1"),
    "take(True)": (
        lambda: unchecked.take(True),
        TypeError,
        "take() needs an int for n, got True of type bool",
    ),
    "take(2.0)": (
        lambda: unchecked.take(2.0),
        TypeError,
        "take() needs an int for n, got 2.0 of type float",
    ),
    "skip(-3)": (lambda: unchecked.skip(-3), ValueError, "skip() needs n >= 0, got -3"),
    "skip(None)": (
        lambda: unchecked.skip(None),
        TypeError,
        "skip() needs an int for n, got None",
    ),
    "take_while(1)": (
        lambda: unchecked.take_while(1),
        TypeError,
        "take_while() needs a callable for predicate, got 1",
    ),
    "drop_while('x')": (
        lambda: unchecked.drop_while("x"),
        TypeError,
        "drop_while() needs a callable for predicate, got 'x'",
    ),
    "distinct(key=1)": (
        lambda: unchecked.distinct(key=1),
        TypeError,
        "distinct() needs a callable for key, got 1",
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
