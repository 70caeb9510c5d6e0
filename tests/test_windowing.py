"""batch (without max_wait), window, pairwise and group_by."""

from __future__ import annotations

import itertools
from collections.abc import Callable

from hypothesis import given

import genpipe as gp
from tests.doubles import TrackedSource
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
