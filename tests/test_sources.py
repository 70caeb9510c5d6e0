"""count, repeat and generate."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given

import genpipe as gp
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
