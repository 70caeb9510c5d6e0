"""buffer, merge, batch(max_wait=) and group_by(max_wait=): producer threads."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import assert_lazy_equals_eager
from genpipe.testing._functions import mod3
from tests.doubles import FakeClock
from tests.strategies import int_lists, sizes
from tests.threads_support import PROMPTLY, GuardedSource, PingPongSource, wait_until

# -- buffer ----------------------------------------------------------------


@given(int_lists, sizes)
def test_buffer_keeps_every_item_in_order(items: list[int], maxsize: int) -> None:
    stage: gp.Stage[int, int] = gp.buffer(maxsize=maxsize)
    assert list(stage(items)) == stage.eager(items) == items


@settings(max_examples=20)
@given(maxsize=st.integers(min_value=1, max_value=40))
def test_buffer_reads_at_most_maxsize_items_ahead(maxsize: int) -> None:
    upstream = GuardedSource(range(300))
    it = iter(gp.source(upstream) | gp.buffer(maxsize=maxsize))
    for _ in range(150):
        next(it)
        upstream.received()
    assert wait_until(lambda: upstream.pulls - upstream.consumed >= maxsize // 2)
    assert upstream.max_ahead <= maxsize + 1
    it.close()


def test_buffer_hands_over_an_item_from_a_slow_source_at_once() -> None:
    source = PingPongSource(30)
    for _ in gp.source(source) | gp.buffer():
        source.got()


def test_buffer_runs_the_upstream_in_a_named_producer_thread() -> None:
    seen: list[str] = []

    def where(n: int) -> int:
        seen.append(threading.current_thread().name)
        return n

    assert list(range(3) | gp.map(where) | gp.buffer()) == [0, 1, 2]
    assert len(set(seen)) == 1
    assert seen[0].startswith("genpipe-producer-")


def test_nested_thread_stages_compose_and_rerun() -> None:
    flow = (
        gp.source(range(500))
        | gp.buffer()
        | gp.thread_map(abs, workers=3)
        | gp.thread_map(str, workers=2, ordered=False)
        | gp.buffer(maxsize=8)
    )
    expected = Counter(str(n) for n in range(500))
    assert Counter(flow) == Counter(flow) == expected
    assert Counter(flow.eager()) == expected


# -- merge -----------------------------------------------------------------


@given(st.lists(int_lists, min_size=1, max_size=4), sizes)
def test_merge_yields_every_item_of_every_source_once(
    sources: list[list[int]], maxsize: int
) -> None:
    merged = gp.merge(*sources, maxsize=maxsize)
    expected = Counter(n for items in sources for n in items)
    assert Counter(merged) == Counter(merged.eager()) == expected


def test_merge_keeps_each_source_in_its_own_order() -> None:
    merged = list(gp.merge(range(300), range(1000, 1300)))
    assert [n for n in merged if n < 1000] == list(range(300))
    assert [n for n in merged if n >= 1000] == list(range(1000, 1300))


def test_merge_interleaves_in_arrival_order() -> None:
    first_seen = threading.Event()

    def late() -> Iterator[str]:
        assert first_seen.wait(PROMPTLY)
        yield "late"

    merged = iter(gp.merge(late(), ["early"]))
    assert next(merged) == "early"
    first_seen.set()
    assert list(merged) == ["late"]


def test_merge_error_stops_the_others_after_earlier_items() -> None:
    failure = ValueError("broken feed")

    def broken() -> Iterator[int]:
        yield -1
        raise failure

    received: list[int] = []
    with pytest.raises(ValueError) as caught:
        for n in gp.merge(broken(), gp.count()):
            received.append(n)
    assert caught.value is failure
    assert -1 in received


def test_merge_of_a_generator_cannot_be_iterated_twice() -> None:
    merged = gp.merge(n for n in range(3))
    assert sorted(merged) == [0, 1, 2]
    with pytest.raises(RuntimeError, match="one-shot"):
        list(merged)


def test_merge_is_compared_as_a_multiset() -> None:
    merged = gp.merge([1], [2]) | gp.map(str)
    assert merged.comparison == "multiset"


# -- batch(max_wait=) ------------------------------------------------------


@given(int_lists, sizes)
def test_timed_batch_on_a_stopped_clock_groups_like_batch(
    items: list[int], size: int
) -> None:
    stage: gp.Stage[int, list[int]] = gp.batch(
        size, max_wait=1.0, clock=FakeClock(), sleep=lambda seconds: None
    )
    fixed: gp.Stage[int, list[int]] = gp.batch(size)
    assert list(stage(items)) == stage.eager(items) == fixed.eager(items)
    assert stage.comparison == "regrouped"


class ClockThatRunsOnceStalled:
    """Stands still until ``stalled`` is set; then each reading is 3 s later.

    Whenever the consumer starts its deadline, the partial batch becomes
    overdue within two readings once the source stalls.
    """

    def __init__(self, stalled: threading.Event) -> None:
        self.stalled = stalled
        self.now = 0.0

    def __call__(self) -> float:
        if self.stalled.is_set():
            self.now += 3.0
        return self.now


def test_timed_batch_yields_a_partial_batch_once_max_wait_passed() -> None:
    stalled, release = threading.Event(), threading.Event()
    clock = ClockThatRunsOnceStalled(stalled)

    def stalls_after_two() -> Iterator[int]:
        yield 1
        yield 2
        stalled.set()
        assert release.wait(PROMPTLY)
        yield 3

    batching: gp.Stage[int, list[int]] = gp.batch(
        10, max_wait=5.0, clock=clock, sleep=lambda seconds: None
    )
    batches = batching(stalls_after_two())
    assert next(batches) == [1, 2]
    release.set()
    assert list(batches) == [[3]]


def test_timed_batch_yields_the_partial_batch_before_the_error() -> None:
    failure = OSError("connection reset")

    def fails_after_two() -> Iterator[int]:
        yield 1
        yield 2
        raise failure

    batching: gp.Stage[int, list[int]] = gp.batch(10, max_wait=60.0)
    batches = batching(fails_after_two())
    assert next(batches) == [1, 2]
    with pytest.raises(OSError) as caught:
        next(batches)
    assert caught.value is failure


# -- group_by(max_wait=) ---------------------------------------------------


def by_letter(event: tuple[str, int]) -> str:
    return event[0]


def stalls_after(
    events: list[tuple[str, int]], stalled: threading.Event, release: threading.Event
) -> Iterator[tuple[str, int]]:
    """Yields ``events``, then goes silent until ``release`` (one more event)."""
    yield from events
    stalled.set()
    assert release.wait(PROMPTLY)
    yield ("z", 0)


def test_timed_group_by_yields_a_bucket_whose_time_is_up_while_upstream_is_silent() -> (
    None
):
    clock = FakeClock()
    stalled, release = threading.Event(), threading.Event()
    grouping = gp.group_by(by_letter, max_wait=5.0, clock=clock, sleep=clock.sleep)
    groups = grouping(stalls_after([("a", 1), ("a", 2)], stalled, release))
    assert next(groups) == ("a", [("a", 1), ("a", 2)])
    assert clock.now == 5.0  # it slept on the fake clock, never in real time
    release.set()
    assert list(groups) == [("z", [("z", 0)])]


def test_timed_group_by_with_the_real_clock_cuts_a_bucket_after_max_wait() -> None:
    stalled, release = threading.Event(), threading.Event()
    grouping = gp.group_by(by_letter, max_wait=0.01)
    groups = grouping(stalls_after([("a", 1)], stalled, release))
    assert next(groups) == ("a", [("a", 1)])
    release.set()
    assert list(groups) == [("z", [("z", 0)])]


def test_timed_group_by_yields_a_full_bucket_without_waiting_for_an_older_one() -> None:
    stalled, release = threading.Event(), threading.Event()
    # The clock stands still, so only size can cut a bucket before the end.
    grouping = gp.group_by(by_letter, size=2, max_wait=5.0, clock=FakeClock())
    events = [("a", 1), ("b", 1), ("b", 2)]
    groups = grouping(stalls_after(events, stalled, release))
    assert next(groups) == ("b", [("b", 1), ("b", 2)])
    release.set()
    assert list(groups) == [("a", [("a", 1)]), ("z", [("z", 0)])]


@given(int_lists, sizes)
def test_timed_group_by_keeps_each_keys_items_in_order_whatever_the_timing(
    items: list[int], size: int
) -> None:
    clock = FakeClock()
    # A sleep that jumps past any deadline: buckets are cut whenever the
    # consumer finds nothing new, which depends on the threads' timing.
    stage: gp.Stage[int, tuple[int, list[int]]] = gp.group_by(
        mod3, size=size, max_wait=1.0, clock=clock, sleep=clock.advance
    )
    groups = list(stage(items))
    assert all(0 < len(group) <= size for _, group in groups)
    for key in {mod3(item) for item in items}:
        mine = [item for k, group in groups if k == key for item in group]
        assert mine == [item for item in items if mod3(item) == key]
    assert_lazy_equals_eager(stage, items)


def test_timed_group_by_yields_the_buckets_it_holds_before_the_error() -> None:
    failure = OSError("connection reset")

    def fails_after_three() -> Iterator[int]:
        yield from (1, 2, 4)
        raise failure

    grouping: gp.Stage[int, tuple[int, list[int]]] = gp.group_by(mod3, max_wait=60.0)
    groups = grouping(fails_after_three())
    assert [next(groups), next(groups)] == [(1, [1, 4]), (2, [2])]
    with pytest.raises(OSError) as caught:
        next(groups)
    assert caught.value is failure


def test_timed_group_by_with_an_unhashable_key_raises_after_the_buckets_held() -> None:
    def unhashable_three(n: int) -> object:
        return [n] if n == 3 else n

    grouping = gp.group_by(unhashable_three, max_wait=60.0)
    groups = grouping([1, 2, 3])
    assert [next(groups), next(groups)] == [(1, [1]), (2, [2])]
    with pytest.raises(TypeError, match="keys must be hashable"):
        next(groups)
