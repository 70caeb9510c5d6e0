"""count, repeat, generate and chain."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from tests.conftest import wait_for_no_genpipe_threads
from tests.doubles import TrackedSource, recording_stage
from tests.strategies import counts, int_lists, ints


@given(start=ints, step=ints, n=counts)
def test_count_is_itertools_count(start: int, step: int, n: int) -> None:
    counted = gp.count(start, step) | gp.take(n) | gp.to_list()
    assert counted == list(itertools.islice(itertools.count(start, step), n))


def test_count_starts_afresh_on_every_iteration() -> None:
    numbers = gp.count(5) | gp.take(2)
    assert list(numbers) == list(numbers) == [5, 6]


@given(value=ints, times=counts)
def test_repeat_yields_the_value_times_times(value: int, times: int) -> None:
    repeated = gp.repeat(value, times)
    assert list(repeated) == repeated.eager() == [value] * times


@given(value=ints, n=counts)
def test_repeat_without_times_repeats_forever(value: int, n: int) -> None:
    assert gp.repeat(value) | gp.take(n) | gp.to_list() == [value] * n


def test_repeat_yields_the_same_object_every_time() -> None:
    shared: list[int] = []
    first, second = gp.repeat(shared, 2)
    assert first is second is shared


@given(items=int_lists)
def test_generate_calls_fn_until_it_raises_stop_iteration(items: list[int]) -> None:
    remaining = iter(items)
    generated = gp.generate(remaining.__next__)
    assert list(generated) == items


def test_generate_calls_fn_once_per_pulled_item_on_every_iteration() -> None:
    calls = itertools.count()
    generated = gp.generate(calls.__next__)
    assert generated | gp.take(2) | gp.to_list() == [0, 1]
    assert generated | gp.take(2) | gp.to_list() == [2, 3]


def test_generate_passes_any_other_exception_through_unchanged() -> None:
    failure = KeyError("gone")

    def fail() -> int:
        raise failure

    with pytest.raises(KeyError) as raised:
        gp.generate(fail) | gp.to_list()
    assert raised.value is failure


@given(parts=st.lists(int_lists, max_size=4))
def test_chain_yields_each_iterable_in_turn(parts: list[list[int]]) -> None:
    chained = gp.chain(*parts)
    expected = list(itertools.chain(*parts))
    assert list(chained) == list(chained) == chained.eager() == expected


def test_chain_opens_a_part_only_once_the_one_before_has_ended() -> None:
    first, second = TrackedSource([1, 2]), TrackedSource([3])
    it = iter(gp.chain(first, second))
    assert next(it) == 1
    assert (first.pulls, second.pulls) == (1, 0)
    assert list(it) == [2, 3]
    assert (first.closed, second.closed) == (1, 1)


def test_chain_closes_each_part_before_the_next_starts() -> None:
    closed: list[str] = []
    chained = gp.chain(
        gp.source([1]) | recording_stage("first", closed),
        gp.source([2]) | recording_stage("second", closed),
    )
    seen = []
    for item in chained:
        seen.append((item, list(closed)))
    assert seen == [(1, []), (2, ["first"])]
    assert closed == ["first", "second"]


def test_closing_a_chain_early_closes_the_part_it_is_in_and_joins_its_threads() -> None:
    closed: list[str] = []
    upstream = TrackedSource(itertools.count())
    chained = gp.chain(
        [0], gp.source(upstream) | gp.buffer(maxsize=2) | recording_stage("buf", closed)
    )
    with chained.open() as it:
        assert [next(it), next(it)] == [0, 0]
    assert closed == ["buf"]
    assert wait_for_no_genpipe_threads(1.0) == []
    assert upstream.closed == 1


def test_a_chain_of_a_one_shot_iterable_cannot_be_iterated_twice() -> None:
    chained = gp.chain([1], iter([2]))
    assert list(chained) == [1, 2]
    with pytest.raises(RuntimeError, match="one-shot"):
        list(chained)


def test_a_chain_with_a_merge_is_compared_as_a_multiset() -> None:
    assert gp.chain([1], [2]).comparison == "exact"
    assert gp.chain([1], gp.merge([2], [3])).comparison == "multiset"


def test_a_chain_with_an_endless_part_refuses_eager_evaluation() -> None:
    chained = gp.chain([1], gp.count())
    assert chained | gp.take(3) | gp.to_list() == [1, 0, 1]
    with pytest.raises(ValueError, match="never ends"):
        chained.eager()


def test_a_chain_of_nothing_is_empty() -> None:
    assert list(gp.chain()) == gp.chain().eager() == []
