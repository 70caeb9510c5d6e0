"""Time-based stages and sources: throttle and interval, on an injectable clock."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import timedelta
from typing import TypeVar

from genpipe._core import Base, Source, Stage, call_repr
from genpipe._validate import check_callable, check_int, check_seconds

T = TypeVar("T")

Clock = Callable[[], float]
Sleep = Callable[[float], object]


def throttle(
    rate: float,
    per: float | timedelta = 1.0,
    *,
    burst: int = 1,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
) -> Stage[T, T]:
    """Let at most ``rate`` items through every ``per`` seconds (a token bucket).

    ``per`` is a number of seconds or a `datetime.timedelta`. Over any
    stretch of time t at most ``burst + rate * t / per`` items pass: up to
    ``burst`` items may go back to back after a quiet spell, then they are
    spaced ``per / rate`` seconds apart. An item is pulled from upstream,
    then held until it may pass. The eager face passes everything at once:
    throttling changes when, not what. ``clock`` and ``sleep`` are
    injectable so tests run on a fake clock.

    Token bucket or sliding window: a service that allows "N requests per
    minute" usually counts them in any window of a minute. With the default
    ``burst=1``, items are spaced exactly ``per / rate`` apart, so no window
    of ``per`` seconds ever holds more than ``rate`` of them (rounded up):
    that is the strict limit. A ``burst`` above 1 trades it for latency after a pause:
    ``throttle(N, per=60, burst=N)`` lets N through at once after a quiet
    minute and N - 1 more within that minute (2N - 1 in a window), which a
    sliding-window limiter would refuse.

    >>> import genpipe as gp
    >>> from datetime import timedelta
    >>> now = [0.0]
    >>> def fake_sleep(seconds):
    ...     now[0] += seconds
    >>> limited = gp.throttle(2, clock=lambda: now[0], sleep=fake_sleep)
    >>> range(5) | limited | gp.to_list()
    [0, 1, 2, 3, 4]
    >>> now[0]  # 5 items at 2 per second: the first at once, then every 0.5 s
    2.0
    >>> hourly = gp.throttle(120, per=timedelta(hours=1))  # one every 30 s
    """
    check_seconds("throttle", "rate", rate, allow_zero=False)
    if isinstance(per, timedelta):
        if per <= timedelta(0):
            raise ValueError(f"throttle() needs a per > 0, got {per!r}")
        seconds = per.total_seconds()
    else:
        seconds = check_seconds("throttle", "per", per, allow_zero=False)
    check_int("throttle", "burst", burst, minimum=1)
    check_callable("throttle", "clock", clock)
    check_callable("throttle", "sleep", sleep)
    spacing = seconds / rate
    slack = (burst - 1) * spacing

    def throttled(items: Iterable[T]) -> Iterator[T]:
        # Generic cell rate algorithm: `due` is when the bucket would be full
        # again if nothing else passed; an item may pass while due - slack <= now.
        due = -float("inf")
        for item in items:
            now = clock()
            due = max(due, now)
            wait = due - slack - now
            if wait > 0:
                sleep(wait)
            due += spacing
            yield item

    options: dict[str, object] = {}
    if per != 1.0:
        options["per"] = per
    if burst != 1:
        options["burst"] = burst
    return Stage(throttled, list, call_repr("throttle", rate, **options))


def interval(
    seconds: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
) -> Source[int]:
    """Tick 0, 1, 2, ... forever, tick n at ``n * seconds`` after iteration starts.

    Tick 0 comes at once. Ticks are scheduled from the start, so they do not
    drift; a consumer that falls behind gets the late ticks straight away
    (none is dropped).

    >>> import genpipe as gp
    >>> now = [0.0]
    >>> def fake_sleep(seconds):
    ...     now[0] += seconds
    >>> ticks = gp.interval(1.5, clock=lambda: now[0], sleep=fake_sleep)
    >>> ticks | gp.take(3) | gp.to_list(), now[0]
    ([0, 1, 2], 3.0)
    """
    check_seconds("interval", "seconds", seconds, allow_zero=False)
    check_callable("interval", "clock", clock)
    check_callable("interval", "sleep", sleep)

    def ticks() -> Iterator[int]:
        start = clock()
        for tick in itertools.count():
            wait = start + tick * seconds - clock()
            if wait > 0:
                sleep(wait)
            yield tick

    return Source(
        Base(ticks, call_repr("interval", seconds), one_shot=False, endless=True)
    )
