"""batch (without max_wait), window, pairwise and group_by (without max_wait)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given

import genpipe as gp
from tests.doubles import FakeClock, TrackedSource
from tests.strategies import int_lists, keys, sizes


def chunks(items: list[int], size: int) -> list[list[int]]:
    """Cut ``items`` into lists of ``size``, one item at a time."""
    result: list[list[int]] = []
    for item in items:
        if not result or len(result[-1]) == size:
            result.append([])
        result[-1].append(item)
    return result


@given(size=sizes, items=int_lists)
def test_batch_cuts_the_stream_into_lists_of_size_the_last_maybe_short(
    size: int, items: list[int]
) -> None:
    stage: gp.Stage[int, list[int]] = gp.batch(size)
    assert list(stage(items)) == stage.eager(items) == chunks(items, size)


@given(size=sizes)
def test_batch_pulls_one_batch_at_a_time(size: int) -> None:
    tracked = TrackedSource(itertools.count())
    first = next(iter(gp.source(tracked) | gp.batch(size)))
    assert first == list(range(size))
    assert tracked.pulls == size


def sliding(items: list[int], size: int, step: int) -> list[tuple[int, ...]]:
    """Every full slice of ``size`` items starting at a multiple of ``step``."""
    starts = range(0, len(items), step)
    return [tuple(items[i : i + size]) for i in starts if i + size <= len(items)]


@given(size=sizes, step=sizes, items=int_lists)
def test_window_yields_every_full_slice_starting_each_step(
    size: int, step: int, items: list[int]
) -> None:
    stage: gp.Stage[int, tuple[int, ...]] = gp.window(size, step=step)
    assert list(stage(items)) == stage.eager(items) == sliding(items, size, step)


@given(size=sizes, step=sizes, items=int_lists)
def test_window_pulls_only_up_to_the_end_of_the_window_it_yields(
    size: int, step: int, items: list[int]
) -> None:
    tracked = TrackedSource(items)
    for number, _ in enumerate(gp.source(tracked) | gp.window(size, step=step)):
        assert tracked.pulls == number * step + size


@given(items=int_lists)
def test_window_of_two_is_itertools_pairwise(items: list[int]) -> None:
    windows: gp.Stage[int, tuple[int, ...]] = gp.window(2)
    assert windows.eager(items) == list(itertools.pairwise(items))


def test_window_skips_the_items_between_windows_when_step_exceeds_size() -> None:
    windows = gp.source(range(10)) | gp.window(2, step=4)
    assert list(windows) == [(0, 1), (4, 5), (8, 9)]


@given(items=int_lists)
def test_pairwise_is_itertools_pairwise(items: list[int]) -> None:
    stage: gp.Stage[int, tuple[int, int]] = gp.pairwise()
    expected = list(itertools.pairwise(items))
    assert list(stage(items)) == stage.eager(items) == expected


@given(key=keys, items=int_lists)
def test_group_by_is_itertools_groupby_with_lists(
    key: Callable[[int], int], items: list[int]
) -> None:
    stage = gp.group_by(key)
    expected = [(k, list(run)) for k, run in itertools.groupby(items, key)]
    assert list(stage(items)) == stage.eager(items) == expected


@given(key=keys, items=int_lists)
def test_group_by_puts_every_item_in_a_run_of_one_key(
    key: Callable[[int], int], items: list[int]
) -> None:
    groups = items | gp.group_by(key) | gp.to_list()
    assert [item for _, run in groups for item in run] == items
    assert all(key(item) == k for k, run in groups for item in run)
    assert all(a != b for (a, _), (b, _) in itertools.pairwise(groups))


def test_group_by_pulls_one_item_past_the_group_it_yields() -> None:
    tracked = TrackedSource(itertools.count())
    first = next(iter(gp.source(tracked) | gp.group_by(lambda n: n // 3)))
    assert first == (0, [0, 1, 2])
    assert tracked.pulls == 4


def fails_after(items: list[int], failure: Exception) -> Iterator[int]:
    yield from items
    raise failure


@given(size=sizes, items=int_lists)
def test_batch_yields_the_partial_batch_it_holds_before_an_upstream_error(
    size: int, items: list[int]
) -> None:
    failure = OSError("connection reset")
    received: list[list[int]] = []
    with pytest.raises(OSError) as raised:
        for batch in gp.source(fails_after(items, failure)) | gp.batch(size):
            received.append(batch)
    assert raised.value is failure
    assert received == chunks(items, size)


@given(key=keys, items=int_lists)
def test_group_by_yields_the_run_it_holds_before_an_upstream_error(
    key: Callable[[int], int], items: list[int]
) -> None:
    failure = OSError("connection reset")
    received: list[tuple[int, list[int]]] = []
    with pytest.raises(OSError) as raised:
        for group in gp.source(fails_after(items, failure)) | gp.group_by(key):
            received.append(group)
    assert raised.value is failure
    assert received == gp.group_by(key).eager(items)


def keyed_groups(
    key: Callable[[int], int], size: int, items: list[int]
) -> list[tuple[int, list[int]]]:
    """One bucket per key, yielded when full; the rest by their first item."""
    open_buckets: dict[int, list[int]] = {}
    done: list[tuple[int, list[int]]] = []
    for item in items:
        bucket = open_buckets.setdefault(key(item), [])
        bucket.append(item)
        if len(bucket) == size:
            done.append((key(item), open_buckets.pop(key(item))))
    return done + list(open_buckets.items())


@given(key=keys, size=sizes, items=int_lists)
def test_group_by_size_keeps_one_bucket_per_key_and_yields_it_when_full(
    key: Callable[[int], int], size: int, items: list[int]
) -> None:
    stage = gp.group_by(key, size=size)
    expected = keyed_groups(key, size, items)
    assert list(stage(items)) == stage.eager(items) == expected


@given(key=keys, items=int_lists)
def test_group_by_max_wait_on_a_stopped_clock_gives_one_group_per_key(
    key: Callable[[int], int], items: list[int]
) -> None:
    stage = gp.group_by(key, max_wait=1.0, clock=FakeClock())
    expected = list(gp.group_by(key, size=len(items) + 1)(items))
    assert list(stage(items)) == stage.eager(items) == expected
    assert stage.comparison == "regrouped"


def test_group_by_size_yields_a_full_bucket_as_soon_as_it_fills() -> None:
    tracked = TrackedSource(itertools.count())
    first = next(iter(gp.source(tracked) | gp.group_by(lambda n: n % 3, size=2)))
    assert first == (0, [0, 3])
    assert tracked.pulls == 4


@given(key=keys, size=sizes, items=int_lists)
def test_group_by_size_yields_the_buckets_it_holds_before_an_upstream_error(
    key: Callable[[int], int], size: int, items: list[int]
) -> None:
    failure = OSError("connection reset")
    received: list[tuple[int, list[int]]] = []
    flow = gp.source(fails_after(items, failure)) | gp.group_by(key, size=size)
    with pytest.raises(OSError) as raised:
        for group in flow:
            received.append(group)
    assert raised.value is failure
    assert received == keyed_groups(key, size, items)


def test_group_by_size_with_an_unhashable_key_says_keys_must_be_hashable() -> None:
    stage: gp.Stage[int, tuple[list[int], list[int]]]
    stage = gp.group_by(lambda n: [n], size=2)
    with pytest.raises(TypeError, match=r"keys must be hashable, got \[1\] for item 1"):
        [1, 2] | stage | gp.to_list()
