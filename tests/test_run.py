"""A `Run` owns its whole chain: every way out stops every concurrent stage in it.

Each test reproduces one way the guarantees broke when a run was only the
last iterator of its chain (plain stages between concurrent ones, finalisers
in worker threads, calls stuck in user code, fork).
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import logging
import subprocess
import sys
import textwrap
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import CancelledError

import pytest

import genpipe as gp
from tests.conftest import genpipe_threads
from tests.doubles import FakeClock
from tests.test_threads import assert_all_threads_joined
from tests.threads_support import PROMPTLY, GuardedSource, endless, same, wait_until


def boom(n: int) -> int:
    raise ValueError(n)


# -- plain stages between concurrent ones ---------------------------------


def test_close_stops_a_concurrent_stage_behind_plain_stages() -> None:
    run = iter(
        gp.count()
        | gp.thread_map(same, workers=2)
        | gp.map(str)
        | gp.thread_map(len, workers=2)
    )
    assert next(run) == 1
    run.close()
    assert_all_threads_joined()


def test_an_error_in_the_last_stage_stops_every_stage_before_it_leaves_next() -> None:
    flow = gp.count() | gp.buffer(4) | gp.filter(bool) | gp.thread_map(boom)
    with pytest.raises(ValueError) as caught:
        for _ in flow:
            pass
    # The consumer still holds the exception: nothing may be running.
    assert_all_threads_joined()
    assert caught.value.args == (1,)


def test_an_error_in_a_plain_stage_after_a_concurrent_one_stops_it() -> None:
    flow = gp.count() | gp.thread_map(same) | gp.map(boom)
    with pytest.raises(ValueError):
        list(flow)
    assert_all_threads_joined()


def test_cancel_reaches_concurrent_stages_behind_map_filter_and_take() -> None:
    run = iter(
        gp.count()
        | gp.buffer(4)
        | gp.map(same)
        | gp.filter(bool)
        | gp.take(10**9)
        | gp.thread_map(same, workers=2)
    )
    next(run)
    run.cancel()
    with pytest.raises(CancelledError):
        next(run)
    assert_all_threads_joined()


def test_a_sink_stopping_early_over_two_buffers_keeps_the_users_result() -> None:
    def slowish(n: int) -> int:
        threading.Event().wait(0.02)
        return n

    flow = (
        gp.source(range(100))
        | gp.buffer(4)
        | gp.map(slowish)
        | gp.buffer(1)
        | gp.thread_map(str)
    )
    assert flow | gp.first() == "0"
    assert_all_threads_joined()


def test_a_users_exception_is_not_replaced_by_a_close_error() -> None:
    failure = KeyError("mine")

    def fails_at_three(n: int) -> int:
        if n == 3:
            raise failure
        return n

    flow = gp.source(range(100)) | gp.buffer(4) | gp.map(same) | gp.buffer(1)
    with pytest.raises(KeyError) as caught:
        flow | gp.thread_map(fails_at_three) | gp.to_list()
    assert caught.value is failure
    assert_all_threads_joined()


# -- finalisers -----------------------------------------------------------


def test_a_finaliser_run_while_the_crew_lock_is_held_does_not_deadlock() -> None:
    run = iter(gp.count() | gp.thread_map(same, workers=1))
    next(run)
    lock = run._members[-1]._crew.lock  # type: ignore[attr-defined]
    cycle: list[object] = [run]
    cycle.append(cycle)
    del run, cycle
    finished = threading.Event()

    def collect_holding_the_lock() -> None:
        with lock:
            gc.collect()
        finished.set()

    collector = threading.Thread(target=collect_holding_the_lock, daemon=True)
    collector.start()
    assert finished.wait(PROMPTLY), "the finaliser blocked on the crew's lock"
    assert_all_threads_joined()
    assert gc.collect() >= 0


@pytest.mark.parametrize(
    "make_stage",
    [
        lambda: gp.buffer(2),
        lambda: gp.thread_map(same, workers=1, maxsize=2),
        lambda: gp.batch(1, max_wait=30.0),
    ],
    ids=["buffer", "thread_map", "timed_batch"],
)
def test_a_run_collected_in_its_own_producer_thread_reports_nothing(
    make_stage: object,
) -> None:
    dropped = threading.Event()

    def collects_once_dropped() -> Iterator[int]:
        yield 0
        # The producer thread is inside this generator when the run becomes
        # garbage, and collects it right here.
        assert dropped.wait(PROMPTLY)
        gc.collect()
        yield from itertools.count(1)

    run = make_stage()(collects_once_dropped())  # type: ignore[operator]
    next(run)
    cycle: list[object] = [run]
    cycle.append(cycle)
    del run, cycle
    dropped.set()
    # pytest turns an "Exception ignored" from a finaliser into an error.
    assert_all_threads_joined()


def test_dropping_a_run_never_waits_for_a_call_in_progress() -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(n: int) -> int:
        if n == 1:
            entered.set()
            release.wait(PROMPTLY)
        return n

    run = iter(gp.count() | gp.thread_map(slow, workers=2))
    next(run)
    assert entered.wait(PROMPTLY)
    started = time.monotonic()
    del run
    assert time.monotonic() - started < 0.1
    release.set()
    assert_all_threads_joined()


def test_an_exception_dropped_by_the_user_frees_the_run_without_the_gc() -> None:
    class Payload:
        pass

    payload = Payload()
    alive = weakref.ref(payload)
    payload_id = id(payload)

    def fails_on_payload(item: object) -> object:
        if id(item) == payload_id:
            raise ValueError("bad payload")
        return item

    gc.disable()
    try:
        with contextlib.suppress(ValueError):
            list(gp.source([1, payload, 2]) | gp.thread_map(fails_on_payload))
        del payload
        assert alive() is None, "a reference cycle keeps the run's items alive"
    finally:
        gc.enable()


# -- promptness: nothing waits for unrelated calls ------------------------


def test_an_unordered_error_is_not_held_back_by_an_unrelated_stuck_call() -> None:
    release = threading.Event()

    def stuck_or_failing(n: int) -> int:
        if n == 0:
            release.wait(PROMPTLY)
            return n
        raise ValueError(n)

    started = time.monotonic()
    try:
        with pytest.raises(ValueError):
            list(gp.source(range(2)) | gp.thread_map(stuck_or_failing, ordered=False))
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
    assert_all_threads_joined()


def test_an_early_stop_does_not_wait_for_a_call_only_read_ahead_asked_for() -> None:
    release = threading.Event()

    def blocks_on_five(n: int) -> int:
        if n == 5:
            release.wait(PROMPTLY)
        return n

    started = time.monotonic()
    try:
        flow = gp.count() | gp.thread_map(blocks_on_five, maxsize=100)
        assert flow | gp.take(3) | gp.to_list() == [0, 1, 2]
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
    assert_all_threads_joined()


def test_finished_results_are_not_held_back_by_a_blocked_item_after_them() -> None:
    release = threading.Event()
    blocked_at = 3000

    def blocks_late(n: int) -> int:
        if n == blocked_at:
            release.wait(PROMPTLY)
        return n

    timer = threading.Timer(PROMPTLY / 2, release.set)
    timer.start()
    started = time.monotonic()
    try:
        run = iter(gp.count() | gp.thread_map(blocks_late, workers=4))
        got = [next(run) for _ in range(blocked_at)]
        assert got == list(range(blocked_at))
        assert time.monotonic() - started < PROMPTLY / 2, "results were held back"
        run.close()
    finally:
        release.set()
        timer.cancel()
    assert_all_threads_joined()


def test_cancel_wakes_a_blocked_consumer_at_once() -> None:
    release = threading.Event()

    def stalled() -> Iterator[int]:
        yield 0
        release.wait(PROMPTLY)

    buffered: gp.Stage[int, int] = gp.buffer()
    run = buffered(stalled())
    next(run)
    woke: list[float] = []

    def consume() -> None:
        try:
            next(run)
        except CancelledError:
            woke.append(time.monotonic())

    consumer = threading.Thread(target=consume)
    consumer.start()
    time.sleep(0.02)
    cancelled_at = time.monotonic()
    run.cancel()
    consumer.join(PROMPTLY)
    release.set()
    assert woke
    assert woke[0] - cancelled_at < 0.05
    assert_all_threads_joined()


def test_cancel_with_a_stuck_worker_still_closes_the_upstream() -> None:
    entered, release = threading.Event(), threading.Event()

    def stuck(n: int) -> int:
        entered.set()
        release.wait(PROMPTLY)
        return n

    upstream = GuardedSource(endless())
    run = gp.thread_map(stuck, workers=1, maxsize=2)(upstream)

    def consume() -> None:
        with pytest.raises(CancelledError):
            next(run)

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert entered.wait(PROMPTLY)
    run.cancel()
    try:
        assert wait_until(lambda: upstream.closed)
    finally:
        release.set()
        consumer.join(PROMPTLY)
    assert_all_threads_joined()


# -- read-ahead -----------------------------------------------------------


@pytest.mark.parametrize("workers", [2, 4])
def test_a_slow_function_has_few_items_per_worker_in_flight(workers: int) -> None:
    def slow(n: int) -> int:
        threading.Event().wait(0.005)
        return n

    upstream = GuardedSource(range(40 * workers))
    run = gp.thread_map(slow, workers=workers)(upstream)
    first = next(run)
    upstream.received()
    assert upstream.pulls <= 4 * workers
    for _ in run:
        upstream.received()
    assert first == 0
    assert upstream.max_ahead <= 4 * workers


def test_a_fast_function_widens_the_read_ahead() -> None:
    upstream = GuardedSource(range(100_000))
    for _ in gp.thread_map(same, workers=2)(upstream):
        upstream.received()
    assert upstream.max_ahead > 64


def test_an_explicit_maxsize_is_a_hard_bound_on_read_ahead() -> None:
    upstream = GuardedSource(range(20_000))
    for _ in gp.thread_map(same, workers=2, maxsize=50)(upstream):
        upstream.received()
    assert upstream.max_ahead <= 50


# -- time, fork, logging, interpreter exit --------------------------------


def test_timed_batch_waits_on_the_injected_clock_not_in_real_seconds() -> None:
    clock = FakeClock()
    release = threading.Event()

    def stalls_after_two() -> Iterator[int]:
        yield 1
        yield 2
        release.wait(PROMPTLY)

    stage: gp.Stage[int, list[int]] = gp.batch(
        10, max_wait=3600.0, clock=clock, sleep=clock.sleep
    )
    run = stage(stalls_after_two())
    started = time.monotonic()
    assert next(run) == [1, 2]
    assert time.monotonic() - started < 1.0
    assert clock.now >= 3600.0
    release.set()
    run.close()


def test_a_clock_without_a_sleep_is_refused_when_built() -> None:
    with pytest.raises(ValueError, match="needs sleep= too"):
        gp.batch(2, max_wait=1.0, clock=FakeClock())


def test_the_genpipe_logger_has_a_null_handler() -> None:
    handlers = logging.getLogger("genpipe").handlers
    assert any(isinstance(h, logging.NullHandler) for h in handlers)


def _run_script(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


@pytest.mark.skipif(sys.platform == "win32", reason="os.fork is POSIX only")
def test_continuing_an_inherited_run_in_a_forked_child_raises() -> None:
    done = _run_script(
        """
        import os, warnings
        import genpipe as gp
        warnings.simplefilter("ignore", DeprecationWarning)
        run = iter(gp.source(range(10**6)) | gp.thread_map(lambda n: n, maxsize=4))
        next(run)
        pid = os.fork()
        if pid == 0:
            try:
                for _ in run:
                    pass
            except RuntimeError as exc:
                os._exit(0 if "os.fork()" in str(exc) else 2)
            os._exit(3)
        _, status = os.waitpid(pid, 0)
        print(os.waitstatus_to_exitcode(status))
        run.close()
        """
    )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "0", "")


def test_a_script_abandoning_a_run_behind_plain_stages_exits_silently() -> None:
    done = _run_script(
        """
        import genpipe as gp
        def late(n):
            if n > 50:
                raise ValueError(n)
            return n
        pending = iter(gp.count() | gp.thread_map(late) | gp.map(str) | gp.buffer())
        print(next(pending))
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "0\n", "")


def test_the_run_type_is_public_and_typed() -> None:
    run = iter(gp.source([1]) | gp.map(str))
    assert isinstance(run, gp.Run)
    assert gp.Run.__module__ == "genpipe"
    assert list(run) == ["1"]
    assert genpipe_threads() == []
