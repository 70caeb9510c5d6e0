"""Lifecycle guarantees shared by every concurrent stage: no thread outlives its run."""

from __future__ import annotations

import _thread
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import pytest

import genpipe as gp
from tests.conftest import genpipe_threads, wait_for_no_genpipe_threads
from tests.process_functions import kill_own_process_at_five
from tests.threads_support import (
    CONCURRENT_STAGES,
    ON_A_CLUSTER,
    PROMPTLY,
    GuardedSource,
    endless,
    flat,
    same,
    stray_children,
    wait_until,
)

StageFactory = Callable[[], gp.Stage[int, object]]
ROOT = Path(__file__).parent.parent

each_stage = pytest.mark.parametrize(
    "make_stage",
    [factory for _, factory in CONCURRENT_STAGES],
    ids=[name for name, _ in CONCURRENT_STAGES],
)
#: The same, but for a cluster, whose round trip of ~10 ms would make a test
#: that pushes thousands of items through tiny windows take many seconds.
each_local_stage = pytest.mark.parametrize(
    "make_stage",
    [factory for name, factory in CONCURRENT_STAGES if name not in ON_A_CLUSTER],
    ids=[name for name, _ in CONCURRENT_STAGES if name not in ON_A_CLUSTER],
)


def flat_one(item: object) -> object:
    """Unpack a one-item batch or group, so a timed one can feed thread_map."""
    (unpacked,) = flat([item])
    return unpacked


def assert_all_threads_joined() -> None:
    alive = wait_for_no_genpipe_threads(1.0)
    assert not alive, f"still running: {[t.name for t in alive]}"
    assert stray_children() == []


@each_stage
def test_building_and_iter_start_no_thread_and_pull_nothing(
    make_stage: StageFactory,
) -> None:
    # Endless, so that the stages' threads cannot all be done reading yet.
    upstream = GuardedSource(endless())
    flow = gp.source(upstream) | gp.pipeline(make_stage(), make_stage())
    it = iter(flow)
    assert upstream.pulls == 0
    assert genpipe_threads() == []
    # Not necessarily 0: an unordered thread_map yields what finishes first.
    assert flat([next(it)])[0] >= 0
    assert genpipe_threads() != []
    it.close()
    assert_all_threads_joined()


@each_stage
def test_exhaustion_joins_all_threads(make_stage: StageFactory) -> None:
    assert sorted(flat(range(50) | make_stage())) == list(range(50))
    assert_all_threads_joined()


@each_stage
def test_break_from_endless_source_joins_all_threads(make_stage: StageFactory) -> None:
    for n in gp.source(endless()) | make_stage():
        if flat([n]) == [20]:
            break
    assert_all_threads_joined()


@each_stage
def test_leaving_open_block_joins_threads_and_closes_upstream(
    make_stage: StageFactory,
) -> None:
    upstream = GuardedSource(endless())
    with (gp.source(upstream) | make_stage()).open() as it:
        assert flat([next(it)]) == [0]
    assert_all_threads_joined()
    assert upstream.closed


@each_stage
def test_close_joins_threads_blocked_on_a_full_buffer(make_stage: StageFactory) -> None:
    upstream = GuardedSource(endless())
    it = make_stage()(upstream)
    next(it)
    # The producer side fills its bounded buffer and waits for room.
    assert wait_until(lambda: upstream.pulls >= 2)
    it.close()
    assert_all_threads_joined()


@each_stage
def test_garbage_collection_joins_threads(make_stage: StageFactory) -> None:
    it = make_stage()(endless())
    next(it)
    del it
    gc.collect()
    assert_all_threads_joined()


@each_stage
def test_source_exception_reaches_consumer_as_same_object_after_earlier_items(
    make_stage: StageFactory,
) -> None:
    failure = OSError("disk gone")

    def failing_source() -> Iterator[int]:
        yield from range(5)
        raise failure

    received: list[int] = []
    with pytest.raises(OSError) as caught:
        for out in gp.source(failing_source()) | make_stage():
            received.extend(flat([out]))
    assert caught.value is failure
    assert sorted(received) == [0, 1, 2, 3, 4]
    assert any("upstream" in note for note in getattr(failure, "__notes__", []))
    # The original frame where the source raised is still in the traceback.
    frames = [frame.name for frame in caught.traceback]
    assert "failing_source" in frames
    assert_all_threads_joined()


@each_local_stage  # the feeder is the same for every backend
def test_upstream_is_only_advanced_by_one_thread_at_a_time(
    make_stage: StageFactory,
) -> None:
    upstream = GuardedSource(range(3000))
    stages = gp.pipeline(make_stage(), gp.thread_map(flat_one, workers=4), make_stage())
    assert sorted(flat(gp.source(upstream) | stages)) == list(range(3000))
    assert upstream.overlaps == 0


@each_stage
def test_same_source_iterated_twice_runs_with_its_own_threads(
    make_stage: StageFactory,
) -> None:
    flow = range(100) | make_stage()
    first, second = iter(flow), iter(flow)
    assert sorted(flat(first)) == sorted(flat(second)) == list(range(100))
    assert_all_threads_joined()


@each_stage
def test_cancel_from_another_thread_wakes_a_blocked_consumer(
    make_stage: StageFactory,
) -> None:
    release = threading.Event()

    def stalled() -> Iterator[int]:
        yield 1
        release.wait(PROMPTLY)

    it = make_stage()(stalled())
    assert flat([next(it)]) == [1]
    canceller = threading.Timer(0.05, it.cancel)
    canceller.start()
    started = time.monotonic()
    try:
        with pytest.raises(CancelledError):
            next(it)
        assert time.monotonic() - started < 1.0
    finally:
        # A producer stuck inside the source ends once the source lets go.
        release.set()
        canceller.join()
    assert_all_threads_joined()


def test_close_from_another_thread_is_refused() -> None:
    it = gp.thread_map(same)(endless())
    next(it)
    errors: list[BaseException] = []

    def close_elsewhere() -> None:
        try:
            it.close()
        except ValueError as exc:
            errors.append(exc)

    other = threading.Thread(target=close_elsewhere)
    other.start()
    other.join()
    assert len(errors) == 1
    assert "cancel()" in str(errors[0])
    it.close()


def test_keyboard_interrupt_while_waiting_stops_the_pipeline() -> None:
    entered = threading.Event()

    def slow(n: int) -> int:
        entered.set()
        threading.Event().wait(0.2)
        return n

    def interrupt_when_entered() -> None:
        entered.wait(PROMPTLY)
        _thread.interrupt_main()

    interrupter = threading.Thread(target=interrupt_when_entered)
    interrupter.start()
    it = gp.thread_map(slow, workers=2)(endless())
    with pytest.raises(KeyboardInterrupt):
        next(it)
    interrupter.join()
    assert_all_threads_joined()


def _run_script(body: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )


def test_script_abandoning_a_half_read_buffer_exits_cleanly() -> None:
    started = time.monotonic()
    done = _run_script(
        """
        import itertools
        import genpipe as gp
        pending = iter(gp.source(itertools.count()) | gp.buffer() | gp.map(str))
        print(next(pending), next(pending))
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "0 1\n", "")
    assert time.monotonic() - started < 10


def test_script_with_a_function_that_never_returns_still_exits() -> None:
    done = _run_script(
        """
        import threading
        import genpipe as gp
        def forever(n):
            if n:
                threading.Event().wait()
            return n
        pending = iter(range(5) | gp.thread_map(forever, workers=2))
        print(next(pending))
        """
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "0\n", "")


@pytest.mark.parametrize(
    ("fn", "consumer"),
    [("slowly", "pass"), ("square", "time.sleep(0.01)")],
    ids=["busy_workers", "idle_workers"],
)
def test_ctrl_c_during_a_process_map_ends_it_with_no_child_left(
    fn: str, consumer: str
) -> None:
    script = textwrap.dedent(
        f"""
        import multiprocessing, time
        import genpipe as gp
        from tests.process_functions import {fn}
        flow = gp.count() | gp.process_map({fn}, workers=2, maxsize=4)
        try:
            # Closed on the way out, wherever the interrupt lands.
            with flow.open() as run:
                for n in run:
                    if n == 4:
                        print("running", flush=True)
                    {consumer}
        except KeyboardInterrupt:
            print("interrupted", multiprocessing.active_children(), flush=True)
        """
    )
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "running\n"
            # What Ctrl-C in a terminal does: SIGINT to the whole process group.
            os.killpg(child.pid, signal.SIGINT)
            out, err = child.communicate(timeout=20)
        finally:  # a hung script and its pool must not outlive the test
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGKILL)
    assert (child.returncode, out, err) == (0, "interrupted []\n", "")


@pytest.mark.parametrize("ordered", [True, False], ids=["ordered", "unordered"])
def test_a_killed_worker_ends_a_process_map_promptly_with_no_child_left(
    ordered: bool,
) -> None:
    started = time.monotonic()
    with pytest.raises(BrokenProcessPool):
        list(
            range(50)
            | gp.process_map(kill_own_process_at_five, workers=2, ordered=ordered)
        )
    assert time.monotonic() - started < 5.0
    assert_all_threads_joined()


def test_threads_are_named_and_daemonic() -> None:
    it = gp.thread_map(same, workers=2)(endless())
    next(it)
    threads = genpipe_threads()
    assert {t.name.split("-")[1] for t in threads} == {"feeder", "worker"}
    assert all(t.daemon for t in threads)
    it.close()
    assert_all_threads_joined()


@each_stage
def test_exception_context_survives_the_crossing(make_stage: StageFactory) -> None:
    def translate(n: int) -> int:
        try:
            raise KeyError(n)
        except KeyError:
            # Implicit chaining on purpose: the KeyError becomes the context.
            raise ValueError(n)  # noqa: B904

    def fails_at_one() -> Iterator[int]:
        yield 0
        translate(1)

    with pytest.raises(ValueError) as caught:
        list(gp.source(fails_at_one()) | make_stage())
    assert isinstance(caught.value.__context__, KeyError)


@each_stage
def test_cancel_stops_a_busy_consumer_at_its_next_item(
    make_stage: StageFactory,
) -> None:
    it = make_stage()(endless())
    next(it)
    assert wait_until(lambda: len(genpipe_threads()) > 0)
    it.cancel()
    with pytest.raises(CancelledError):
        next(it)
    assert_all_threads_joined()


def test_cancel_reaches_concurrent_stages_upstream() -> None:
    entered = threading.Event()

    def slow(n: int) -> int:
        entered.set()
        threading.Event().wait(0.05)
        return n

    flow = gp.source(endless()) | gp.thread_map(slow, workers=2) | gp.buffer()
    with pytest.raises(CancelledError), flow.open() as it:
        next(it)
        threading.Timer(0.01, it.cancel).start()
        while True:
            next(it)
    assert_all_threads_joined()


@each_stage
def test_a_sink_that_stops_early_joins_threads_before_returning(
    make_stage: StageFactory,
) -> None:
    assert flat([gp.source(endless()) | make_stage() | gp.first()]) == [0]
    assert genpipe_threads() == []


@each_stage
@pytest.mark.parametrize("exit_by", ["exhaustion", "break", "error", "close", "cancel"])
def test_a_plain_stage_between_two_concurrent_ones_hides_no_thread(
    make_stage: StageFactory, exit_by: str
) -> None:
    failure = ValueError("plain stage failed")

    def fails_at_30(n: object) -> int:
        if flat([n]) == [30] and exit_by == "error":
            raise failure
        # The stage after it takes ints: a batch is unpacked, as flat() does.
        unpacked: int = flat([n])[0]
        return unpacked

    items = range(60) if exit_by == "exhaustion" else endless()
    plain: gp.Stage[object, int] = gp.map(fails_at_30)
    flow = gp.source(items) | make_stage() | plain | make_stage()
    run = iter(flow)
    next(run)
    if exit_by == "exhaustion":
        assert len(flat(run)) >= 50
    elif exit_by == "break":
        for n in run:
            if flat([n])[0] > 10:
                break
        del run
    elif exit_by == "error":
        with pytest.raises(ValueError) as caught:
            for _ in run:
                pass
        assert caught.value is failure
        # Checked while the exception is still held.
        assert_all_threads_joined()
    elif exit_by == "close":
        run.close()
    else:
        run.cancel()
        with pytest.raises(CancelledError):
            next(run)
    assert_all_threads_joined()
