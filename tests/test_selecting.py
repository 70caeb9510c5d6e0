"""filter, take, skip, take_while, drop_while and distinct."""

from __future__ import annotations

import builtins
import itertools
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import is_even
from tests.doubles import TrackedSource
from tests.strategies import counts, int_lists, ints, keys, predicates


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


@given(items=st.lists(st.lists(ints, max_size=2), max_size=20))
def test_distinct_with_a_hashable_key_keeps_unhashable_items(
    items: list[list[int]],
) -> None:
    stage: gp.Stage[list[int], list[int]] = gp.distinct(key=tuple)
    expected = first_occurrences(items, tuple)
    assert list(stage(items)) == stage.eager(items) == expected


@pytest.mark.parametrize(
    ("key", "complaint"),
    [
        (None, "got [1] (a list): pass a key= that makes one, e.g. key=tuple"),
        (list, "got [1] for item (1,) (a list): pass a key= that makes one"),
    ],
)
def test_an_unhashable_key_is_a_type_error_that_suggests_a_key(
    key: Callable[[Any], Any] | None, complaint: str
) -> None:
    items: list[Any] = [1, [1]] if key is None else [(1,)]
    stage = gp.distinct(key)
    message = re.escape(
        f"distinct() keeps keys in a set, so they must be hashable, {complaint}"
    )
    with pytest.raises(TypeError, match=message):
        list(stage(items))
    with pytest.raises(TypeError, match=message):
        stage.eager(items)


def test_a_type_error_from_upstream_is_not_mistaken_for_an_unhashable_key() -> None:
    failure = TypeError("upstream broke")

    def fails() -> Iterator[int]:
        yield 1
        raise failure

    with pytest.raises(TypeError) as raised:
        gp.source(fails()) | gp.distinct() | gp.to_list()
    assert raised.value is failure


def test_distinct_remembers_keys_across_the_whole_stream() -> None:
    by_size = gp.distinct(key=abs)
    assert [1, -2, 3, 2, -1, -3, 4] | by_size | gp.to_list() == [1, -2, 3, 4]
