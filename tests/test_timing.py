"""throttle and interval, driven by a fake clock: no test waits for real time."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from tests.doubles import FakeClock
from tests.strategies import int_lists

#: Time a consumer spends before it asks for the next item: often none.
gaps = st.lists(st.just(0.0) | st.floats(min_value=0, max_value=3), max_size=25)

#: The bound's tolerance for float rounding in the clock arithmetic.
EPSILON = 1e-9


def pull_with_gaps(
    items: Iterable[Any], clock: FakeClock, gaps: list[float]
) -> tuple[list[float], list[float]]:
    """Ask for one item after each gap, until the items run out.

    Return the clock times at which each item was asked for and arrived.
    """
    iterator = iter(items)
    asked: list[float] = []
    arrived: list[float] = []
    for gap in gaps:
        clock.advance(gap)
        asked.append(clock.now)
        if next(iterator, _END) is _END:
            break
        arrived.append(clock.now)
    return asked, arrived


_END = object()


def throttled(
    clock: FakeClock, rate: float, per: float = 1.0, burst: int = 1
) -> gp.Stage[int, int]:
    return gp.throttle(rate, per, burst=burst, clock=clock, sleep=clock.sleep)


@pytest.mark.parametrize(
    ("rate", "per", "burst", "sleeps", "arrivals"),
    [
        pytest.param(2, 1.0, 1, [0.5] * 4, [0, 0.5, 1, 1.5, 2], id="2 per second"),
        pytest.param(3, 6.0, 1, [2, 2, 2, 2], [0, 2, 4, 6, 8], id="3 per 6 seconds"),
        pytest.param(1, 1.0, 3, [1, 1], [0, 0, 0, 1, 2], id="burst of 3"),
    ],
)
def test_throttle_spaces_items_after_the_burst_for_an_eager_consumer(
    rate: float, per: float, burst: int, sleeps: list[float], arrivals: list[float]
) -> None:
    clock = FakeClock()
    limited = throttled(clock, rate, per, burst)
    assert pull_with_gaps(limited(range(5)), clock, [0] * 5)[1] == arrivals
    assert clock.sleeps == sleeps


def test_throttle_refills_the_whole_burst_after_a_quiet_spell() -> None:
    clock = FakeClock()
    limited = throttled(clock, 1, burst=2)(range(5))
    _, arrivals = pull_with_gaps(limited, clock, [0, 0, 10, 0, 0])
    assert arrivals == [0, 0, 10, 10, 11]
    assert clock.sleeps == [1]


def test_throttle_refills_part_of_the_burst_after_a_short_pause() -> None:
    clock = FakeClock()
    limited = throttled(clock, 1, burst=3)(range(6))
    _, arrivals = pull_with_gaps(limited, clock, [0, 0, 0, 1.5, 0, 0])
    assert arrivals == [0, 0, 0, 1.5, 2, 3]
    assert clock.sleeps == [0.5, 1]


def test_throttle_never_sleeps_for_a_consumer_slower_than_the_rate() -> None:
    clock = FakeClock()
    _, arrivals = pull_with_gaps(throttled(clock, 2)(range(4)), clock, [1, 1, 1, 1])
    assert arrivals == [1, 2, 3, 4]
    assert clock.sleeps == []


def test_throttle_starts_from_whatever_time_the_clock_shows() -> None:
    clock = FakeClock(start=1000.0)
    _, arrivals = pull_with_gaps(throttled(clock, 4)(range(3)), clock, [0] * 3)
    assert arrivals == [1000, 1000.25, 1000.5]


rates = st.sampled_from([0.5, 1, 2, 3, 10])
pers = st.sampled_from([0.25, 1.0, 2.5])
bursts = st.integers(min_value=1, max_value=4)


def pull_throttled_with_gaps(
    rate: float, per: float, burst: int, gaps: list[float]
) -> tuple[list[float], list[float]]:
    """`pull_with_gaps` from an endless stream throttled on a fresh fake clock."""
    clock = FakeClock()
    limited = throttled(clock, rate, per, burst)(itertools.count())
    return pull_with_gaps(limited, clock, gaps)


@given(rate=rates, per=pers, burst=bursts, gaps=gaps)
def test_throttle_lets_at_most_burst_plus_rate_times_t_items_through_in_any_stretch(
    rate: float, per: float, burst: int, gaps: list[float]
) -> None:
    _, arrivals = pull_throttled_with_gaps(rate, per, burst, gaps)
    for first, last in itertools.combinations_with_replacement(range(len(arrivals)), 2):
        passed = last - first + 1
        stretch = arrivals[last] - arrivals[first]
        assert passed <= burst + rate * stretch / per + EPSILON


@given(rate=rates, per=pers, burst=bursts, gaps=gaps)
def test_throttle_holds_an_item_back_only_as_long_as_the_bound_requires(
    rate: float, per: float, burst: int, gaps: list[float]
) -> None:
    asked, arrivals = pull_throttled_with_gaps(rate, per, burst, gaps)
    for last, arrival in enumerate(arrivals):
        if arrival > asked[last]:
            # It waited: some stretch ending now is full, so it could not pass sooner.
            assert any(
                last - first + 1
                >= burst + rate * (arrival - arrivals[first]) / per - EPSILON
                for first in range(last + 1)
            )


@given(rate=rates, per=pers, burst=bursts, items=int_lists)
def test_throttle_changes_when_items_pass_never_which(
    rate: float, per: float, burst: int, items: list[int]
) -> None:
    clock = FakeClock()
    limited = throttled(clock, rate, per, burst)
    assert list(limited(items)) == limited.eager(items) == items


@given(rate=st.integers(1, 10), per=pers, gaps=gaps)
def test_throttle_with_burst_1_never_lets_more_than_rate_through_in_a_window_of_per(
    rate: int, per: float, gaps: list[float]
) -> None:
    _, arrivals = pull_throttled_with_gaps(rate, per, 1, gaps)
    for first, start in enumerate(arrivals):
        in_window = [t for t in arrivals[first:] if t < start + per - EPSILON]
        assert len(in_window) <= rate


def test_throttle_with_a_burst_lets_twice_the_rate_less_one_through_a_window() -> None:
    clock = FakeClock()
    limited = throttled(clock, 3, per=6.0, burst=3)(itertools.count())
    _, arrivals = pull_with_gaps(limited, clock, [0.0] * 5)
    assert arrivals == [0, 0, 0, 2, 4]  # five within 6 s: 2 * 3 - 1


def test_throttle_takes_per_as_a_timedelta() -> None:
    clock = FakeClock()
    per_minute: gp.Stage[int, int] = gp.throttle(
        2, per=timedelta(minutes=1), clock=clock, sleep=clock.sleep
    )
    assert list(per_minute(range(3))) == [0, 1, 2]
    assert clock.sleeps == [30.0, 30.0]
    assert repr(per_minute) == "throttle(2, per=datetime.timedelta(seconds=60))"


def test_throttle_eager_face_does_not_sleep() -> None:
    clock = FakeClock()
    assert throttled(clock, 1).eager([1, 2, 3]) == [1, 2, 3]
    assert clock.sleeps == []


def test_interval_ticks_n_at_n_seconds_after_the_first_pull() -> None:
    clock = FakeClock(start=100.0)
    ticks = gp.interval(0.25, clock=clock, sleep=clock.sleep)
    with ticks.open() as it:
        _, arrivals = pull_with_gaps(it, clock, [0] * 5)
    assert arrivals == [100, 100.25, 100.5, 100.75, 101]
    assert clock.sleeps == [0.25] * 4


def test_interval_counts_ticks_from_zero() -> None:
    clock = FakeClock()
    ticks = gp.interval(1, clock=clock, sleep=clock.sleep)
    assert ticks | gp.take(4) | gp.to_list() == [0, 1, 2, 3]


@given(seconds=st.sampled_from([0.1, 1.0, 2.5]), gaps=gaps)
def test_interval_ticks_on_its_schedule_from_the_first_pull_or_at_once_if_late(
    seconds: float, gaps: list[float]
) -> None:
    clock = FakeClock(start=7.0)
    ticks = gp.interval(seconds, clock=clock, sleep=clock.sleep)
    with ticks.open() as it:
        asked, arrivals = pull_with_gaps(it, clock, gaps)
    for tick, arrival in enumerate(arrivals):
        on_time = asked[0] + tick * seconds
        assert arrival == pytest.approx(max(on_time, asked[tick]))


def test_interval_hands_a_late_consumer_the_missed_ticks_at_once() -> None:
    clock = FakeClock()
    ticks = gp.interval(1, clock=clock, sleep=clock.sleep)
    with ticks.open() as it:
        _, arrivals = pull_with_gaps(it, clock, [0, 3.5, 0, 0, 0])
    assert arrivals == [0, 3.5, 3.5, 3.5, 4]
    assert clock.sleeps == [0.5]


def test_interval_restarts_its_schedule_on_every_iteration() -> None:
    clock = FakeClock()
    ticks = gp.interval(2, clock=clock, sleep=clock.sleep)
    assert ticks | gp.take(2) | gp.to_list() == [0, 1]
    clock.advance(50)
    assert ticks | gp.take(2) | gp.to_list() == [0, 1]
    assert clock.now == 54
    assert clock.sleeps == [2, 2]
