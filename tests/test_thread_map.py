"""thread_map: same results as map, bounded, parallel, and honest about errors."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genpipe as gp
from tests.doubles import FakeClock
from tests.strategies import int_functions, int_lists, sizes
from tests.threads_support import (
    PROMPTLY,
    GuardedSource,
    PingPongSource,
    same,
    wait_until,
)

workers_counts = st.integers(min_value=1, max_value=4)


@given(int_lists, int_functions, workers_counts, sizes)
def test_ordered_output_equals_map(
    items: list[int], fn: Callable[[int], int], workers: int, maxsize: int
) -> None:
    stage = gp.thread_map(fn, workers=workers, maxsize=maxsize)
    assert list(stage(items)) == stage.eager(items) == [fn(x) for x in items]


def delay_by_item(n: int) -> int:
    """Sleep up to 1 ms, chosen by the item, so completion order varies."""
    time.sleep((n % 3) * 0.0005)
    return n * 2


@given(int_lists, workers_counts)
def test_unordered_output_is_a_permutation_of_the_ordered_output(
    items: list[int], workers: int
) -> None:
    unordered = gp.thread_map(delay_by_item, workers=workers, ordered=False)
    ordered = gp.thread_map(delay_by_item, workers=workers)
    assert Counter(unordered(items)) == Counter(ordered(items))
    assert unordered.comparison == "multiset"
    assert ordered.comparison == "exact"


def test_unordered_yields_in_completion_order() -> None:
    # Item 0 finishes only once the consumer holds item 1: an event set inside
    # the call for item 1 would release item 0 before item 1 had returned, and
    # without the GIL item 0 then often finishes first.
    second_delivered = threading.Event()

    def first_waits_until_second_is_delivered(n: int) -> int:
        if n == 0:
            assert second_delivered.wait(PROMPTLY)
        return n

    stage = gp.thread_map(
        first_waits_until_second_is_delivered, workers=2, ordered=False
    )
    it = stage([0, 1])
    assert next(it) == 1
    second_delivered.set()
    assert list(it) == [0]


def test_workers_calls_run_at_the_same_time() -> None:
    everyone_in = threading.Barrier(4, timeout=PROMPTLY)

    def meet(n: int) -> int:
        everyone_in.wait()  # BrokenBarrierError unless 4 calls overlap
        return n

    assert list(range(8) | gp.thread_map(meet, workers=4)) == list(range(8))


@settings(max_examples=25)
@given(
    workers=workers_counts,
    maxsize=st.integers(min_value=1, max_value=40),
)
def test_reads_at_most_maxsize_items_ahead_of_the_consumer(
    workers: int, maxsize: int
) -> None:
    upstream = GuardedSource(range(200))
    it = gp.thread_map(same, workers=workers, maxsize=maxsize)(upstream)
    for _ in range(100):
        next(it)
        upstream.received()
    # Left alone, the stage reads ahead until its budget is used up; the
    # budget still counts the yielded part of the consumer's current chunk,
    # at most half of it.
    assert wait_until(
        lambda: upstream.pulls - upstream.consumed >= min(maxsize, 100) // 2
    )
    assert upstream.max_ahead <= maxsize + workers
    it.close()


def test_default_maxsize_keeps_an_endless_source_bounded() -> None:
    upstream = GuardedSource(iter(int, 1))  # zeros forever
    it = gp.thread_map(same, workers=2)(upstream)
    next(it)
    assert wait_until(lambda: upstream.pulls >= 1024)
    assert upstream.max_ahead <= 1024 + 2
    it.close()


def test_an_item_from_a_slow_source_is_not_held_back() -> None:
    source = PingPongSource(20)
    for n in gp.source(source) | gp.thread_map(same, workers=3):
        assert n >= 0
        source.got()


@given(
    n=st.integers(min_value=1, max_value=60),
    data=st.data(),
    workers=workers_counts,
)
def test_error_for_item_k_comes_after_every_earlier_result(
    n: int, data: st.DataObject, workers: int
) -> None:
    k = data.draw(st.integers(min_value=0, max_value=n - 1), label="k")
    failure = ValueError(f"bad item {k}")

    def fail_at_k(x: int) -> int:
        if x == k:
            raise failure
        return x

    received: list[int] = []
    with pytest.raises(ValueError) as caught:
        for x in range(n) | gp.thread_map(fail_at_k, workers=workers):
            received.append(x)
    assert caught.value is failure
    assert received == list(range(k))
    assert failure.__notes__[0].startswith("raised by thread_map(fail_at_k")
    assert failure.__notes__[0].endswith(f"for item {k}")
    assert "fail_at_k" in [entry.name for entry in caught.traceback]


def test_stop_iteration_from_the_function_becomes_runtime_error() -> None:
    def stops(n: int) -> int:
        raise StopIteration(n)

    with pytest.raises(RuntimeError) as caught:
        list(range(3) | gp.thread_map(stops))
    assert isinstance(caught.value.__cause__, StopIteration)


class FalsyError(Exception):
    def __bool__(self) -> bool:
        return False


@pytest.mark.parametrize("error", [FalsyError("falsy"), TimeoutError("slow backend")])
def test_odd_exceptions_surface_unchanged(error: Exception) -> None:
    def fails(n: int) -> int:
        raise error

    with pytest.raises(type(error)) as caught:
        list(range(3) | gp.thread_map(fails))
    assert caught.value is error


def test_two_workers_failing_at_once_are_both_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    both_in = threading.Barrier(2, timeout=PROMPTLY)

    def fails_together(n: int) -> int:
        both_in.wait()
        raise ValueError(f"failed {n}")

    with (
        caplog.at_level(logging.WARNING, logger="genpipe"),
        pytest.raises(ValueError, match="failed 0") as caught,
    ):
        list([0, 1] | gp.thread_map(fails_together, workers=2))
    notes = " ".join(caught.value.__notes__)
    logged = " ".join(repr(record.exc_info) for record in caplog.records)
    assert "failed 1" in notes + logged


def test_failure_stops_workers_from_starting_new_items() -> None:
    calls = Counter[int]()

    def fail_first(n: int) -> int:
        calls[n] += 1
        if n == 0:
            raise ValueError("first")
        return n

    with pytest.raises(ValueError, match="first"):
        list(range(100_000) | gp.thread_map(fail_first, workers=2))
    assert sum(calls.values()) < 100_000


def test_skip_policy_drops_failures_and_keeps_the_rest_in_order() -> None:
    def reject_odd(n: int) -> int:
        if n % 2:
            raise ValueError(n)
        return n

    stage = gp.thread_map(reject_odd, workers=3, on_error="skip")
    assert list(stage(range(10))) == stage.eager(range(10)) == [0, 2, 4, 6, 8]


def test_dead_letters_lose_nothing_under_many_failing_workers() -> None:
    dead = gp.DeadLetters()

    def reject_multiples_of_3(n: int) -> int:
        if n % 3 == 0:
            raise ValueError(n)
        return n

    out = (
        range(3000)
        | gp.thread_map(reject_multiples_of_3, workers=4, ordered=False, on_error=dead)
        | gp.to_list()
    )
    assert sorted(out + [letter.item for letter in dead]) == list(range(3000))
    assert len(dead) == 1000


def test_retries_sleep_with_doubling_backoff_on_the_injected_sleep() -> None:
    clock = FakeClock()
    attempts = Counter[int]()

    def flaky(n: int) -> int:
        attempts[n] += 1
        if attempts[n] < 3:
            raise OSError("try again")
        return n

    stage = gp.thread_map(flaky, workers=1, retries=2, backoff=0.5, sleep=clock.sleep)
    assert list(stage([7])) == [7]
    assert clock.sleeps == [0.5, 1.0]


def test_eager_face_runs_in_the_calling_thread() -> None:
    seen: set[str] = set()

    def record(n: int) -> int:
        seen.add(threading.current_thread().name)
        return n

    assert gp.thread_map(record, workers=4).eager(range(10)) == list(range(10))
    assert seen == {threading.current_thread().name}
