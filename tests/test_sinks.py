"""to_list, to_set, to_dict, reduce, for_each, first, last and drain."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import negate
from tests.doubles import TrackedSource
from tests.strategies import binary_functions, int_lists, ints, keys


@given(items=int_lists)
def test_to_list_and_to_set_collect_every_item(items: list[int]) -> None:
    assert gp.source(items) | gp.to_list() == items
    assert gp.source(items) | gp.to_set() == set(items)


@given(key=keys, items=int_lists)
def test_to_dict_keeps_the_last_item_for_a_repeated_key(
    key: Callable[[int], int], items: list[int]
) -> None:
    expected = {}
    for item in items:
        expected[key(item)] = item
    collected = items | gp.to_dict(key)
    assert collected == expected
    assert list(collected) == list(dict.fromkeys(key(item) for item in items))


@given(key=keys, items=int_lists)
def test_to_dict_with_value_maps_each_key_to_the_last_value(
    key: Callable[[int], int], items: list[int]
) -> None:
    assert items | gp.to_dict(key, negate) == {key(n): -n for n in items}


@given(fn=binary_functions, items=int_lists)
def test_reduce_without_initial_is_functools_reduce(
    fn: Callable[[int, int], int], items: list[int]
) -> None:
    reduced = gp.reduce(fn)
    if items:
        assert reduced(items) == functools.reduce(fn, items)
    else:
        with pytest.raises(TypeError, match="empty"):
            reduced(items)


@given(fn=binary_functions, initial=ints, items=int_lists)
def test_reduce_with_initial_is_functools_reduce(
    fn: Callable[[int, int], int], initial: int, items: list[int]
) -> None:
    assert gp.reduce(fn, initial)(items) == functools.reduce(fn, items, initial)


def test_reduce_treats_a_falsy_initial_as_given() -> None:
    assert gp.reduce(max, 0)([]) == 0


@given(items=int_lists)
def test_for_each_calls_fn_on_every_item_in_order_and_returns_none(
    items: list[int],
) -> None:
    seen: list[int] = []
    assert items | gp.for_each(seen.append) is None
    assert seen == items


@given(items=st.lists(ints, min_size=1))
def test_first_and_last_are_the_ends_of_a_nonempty_stream(items: list[int]) -> None:
    assert gp.source(items) | gp.first() == items[0]
    assert gp.source(items) | gp.last() == items[-1]


def test_first_stops_pulling_after_one_item_and_closes_upstream() -> None:
    tracked = TrackedSource(itertools.count(7))
    assert gp.source(tracked) | gp.first() == 7
    assert tracked.pulls == 1
    assert tracked.closed == 1


@pytest.mark.parametrize("sink", [gp.first, gp.last])
def test_first_and_last_of_an_empty_stream_say_to_pass_a_default(
    sink: Callable[[], gp.Sink[int, int]],
) -> None:
    name = sink.__name__
    with pytest.raises(
        ValueError, match=rf"{name}\(\) got an empty stream; pass default="
    ):
        [] | sink()


@pytest.mark.parametrize("sink", [gp.first, gp.last])
@pytest.mark.parametrize("default", [None, 0, "none"])
def test_first_and_last_of_an_empty_stream_give_an_explicit_default(
    sink: Callable[[object], gp.Sink[int, object]], default: object
) -> None:
    assert gp.source([]) | sink(default) is default


@given(items=int_lists)
def test_drain_pulls_everything_and_keeps_nothing(items: list[int]) -> None:
    tracked = TrackedSource(items)
    assert gp.source(tracked) | gp.drain() is None
    assert tracked.pulls == len(items)
    assert tracked.closed == 1
