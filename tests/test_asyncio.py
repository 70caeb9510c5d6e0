"""async_map, async sources and ``async for``: coroutines in a generator pipeline."""

from __future__ import annotations

import _thread
import asyncio
import gc
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import CancelledError

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import assert_lazy_equals_eager
from tests.conftest import genpipe_threads, wait_for_no_genpipe_threads
from tests.threads_support import PROMPTLY, GuardedSource, async_same, wait_until


class CountingCalls:
    """An async function that counts calls started and ``finally`` blocks run.

    Items from ``block_from`` on wait until cancelled.
    """

    def __init__(self, block_from: int) -> None:
        self.block_from = block_from
        self.started = 0
        self.finished = 0
        self.blocked = 0

    async def __call__(self, n: int) -> int:
        self.started += 1
        try:
            if n >= self.block_from:
                self.blocked += 1
                await asyncio.Event().wait()
            return n
        finally:
            self.finished += 1


async def double(n: int) -> int:
    await asyncio.sleep(0)
    return n * 2


def assert_threads_joined() -> None:
    alive = wait_for_no_genpipe_threads(1.0)
    assert not alive, f"still running: {[t.name for t in alive]}"


# -- building -----------------------------------------------------------------


def test_sync_function_fails_at_build_time_pointing_to_thread_map() -> None:
    with pytest.raises(TypeError, match=r"async def.*thread_map\(abs\)"):
        gp.async_map(abs)


def test_bad_arguments_fail_at_build_time() -> None:
    with pytest.raises(ValueError, match="concurrency >= 1"):
        gp.async_map(double, concurrency=0)
    with pytest.raises(ValueError, match="timeout"):
        gp.async_map(double, timeout=0)
    with pytest.raises(TypeError, match="callable"):
        gp.async_map(3)  # type: ignore[arg-type]


def test_async_callable_object_is_accepted_and_options_show_in_repr() -> None:
    calls = CountingCalls(block_from=99)
    stage = gp.async_map(calls, concurrency=2, ordered=False, timeout=5)
    assert repr(stage).endswith(", concurrency=2, timeout=5.0, ordered=False)")
    assert sorted(stage(range(5))) == [0, 1, 2, 3, 4]


# -- results ------------------------------------------------------------------


def test_results_keep_input_order_and_match_eager() -> None:
    stage = gp.async_map(double, concurrency=7)
    assert (
        list(stage(range(300)))
        == stage.eager(range(300))
        == [n * 2 for n in range(300)]
    )


def test_unordered_results_are_every_result() -> None:
    stage = gp.async_map(double, concurrency=5, ordered=False)
    assert sorted(stage(range(100))) == [n * 2 for n in range(100)]


def test_coroutines_run_on_one_loop_thread_not_the_callers() -> None:
    threads: set[str] = set()

    async def where(n: int) -> int:
        threads.add(threading.current_thread().name)
        return n

    assert list(range(50) | gp.async_map(where)) == list(range(50))
    assert len(threads) == 1
    assert threads.pop().startswith("genpipe-loop-")


def test_concurrency_bound_is_reached_and_never_exceeded() -> None:
    concurrency = 4
    all_in = asyncio.Event()
    inside = most = 0

    async def gated(n: int) -> int:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        try:
            if inside == concurrency:
                all_in.set()
            # The first calls pass only once `concurrency` of them wait at
            # once; every call then gives the loop a few turns in which one
            # more call could start, if the bound let it.
            await all_in.wait()
            for _ in range(5):
                await asyncio.sleep(0)
            return n
        finally:
            inside -= 1

    stage = gp.async_map(
        gated, concurrency=concurrency, maxsize=4 * concurrency, timeout=PROMPTLY
    )
    assert list(stage(range(10 * concurrency))) == list(range(10 * concurrency))
    assert most == concurrency


def test_read_ahead_is_bounded_by_maxsize_on_an_endless_source() -> None:
    upstream = GuardedSource(gp.count())
    with (gp.source(upstream) | gp.async_map(async_same, maxsize=10)).open() as it:
        for n in it:
            upstream.received()
            if n == 200:
                break
    assert upstream.max_ahead <= 10 + 1


# -- ending early ---------------------------------------------------------------


def test_break_cancels_every_running_coroutine_and_its_finally_runs() -> None:
    calls = CountingCalls(block_from=4)
    with (gp.source(gp.count()) | gp.async_map(calls, concurrency=8)).open() as it:
        assert next(it) == 0
        assert wait_until(lambda: calls.blocked == 8)
    # close() has returned: every started call has finished its cleanup.
    assert calls.finished == calls.started
    assert calls.blocked == 8
    assert genpipe_threads() == []


def test_cancel_from_another_thread_cancels_waiting_coroutines() -> None:
    calls = CountingCalls(block_from=0)
    run = iter(gp.source(range(100)) | gp.async_map(calls, concurrency=3))

    def cancel_once_all_wait() -> None:
        assert wait_until(lambda: calls.blocked == 3)
        run.cancel()

    canceller = threading.Thread(target=cancel_once_all_wait)
    canceller.start()
    with pytest.raises(CancelledError):
        next(run)
    canceller.join()
    assert calls.finished == calls.started == 3


def test_a_coroutine_waiting_on_a_future_only_it_holds_survives_the_gc() -> None:
    calls = CountingCalls(block_from=0)
    run = iter(gp.source(range(100)) | gp.async_map(calls, concurrency=3))
    with pytest.raises(CancelledError):
        waiting = threading.Thread(
            target=lambda: wait_until(lambda: calls.blocked == 3)
        )
        waiting.start()

        def collect_then_cancel() -> None:
            waiting.join()
            gc.collect()
            assert calls.finished == 0, "a task was collected while it waited"
            run.cancel()

        canceller = threading.Thread(target=collect_then_cancel)
        canceller.start()
        next(run)
    canceller.join()
    assert calls.finished == calls.started == 3


def test_ctrl_c_while_waiting_stops_the_run() -> None:
    calls = CountingCalls(block_from=0)
    run = iter(gp.source(range(100)) | gp.async_map(calls, concurrency=2))

    def interrupt_once_all_wait() -> None:
        assert wait_until(lambda: calls.blocked == 2)
        _thread.interrupt_main()

    interrupter = threading.Thread(target=interrupt_once_all_wait)
    interrupter.start()
    with pytest.raises(KeyboardInterrupt):
        next(run)
    interrupter.join()
    assert calls.finished == calls.started == 2
    assert genpipe_threads() == []


# -- failures -------------------------------------------------------------------


def test_failure_reaches_consumer_as_same_object_with_item_note() -> None:
    failure = LookupError("no such user")

    async def fetch(n: int) -> int:
        if n == 7:
            raise failure
        return n

    received: list[int] = []
    with pytest.raises(LookupError) as caught:
        received.extend(range(20) | gp.async_map(fetch, concurrency=3))
    assert caught.value is failure
    assert received == list(range(7))
    assert any(
        "async_map(fetch" in note and "item 7" in note for note in failure.__notes__
    )
    assert_threads_joined()


def test_cancelled_error_raised_by_the_function_is_a_failure_not_a_hang() -> None:
    async def cancelled(n: int) -> int:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        list(range(3) | gp.async_map(cancelled))


def test_retries_back_off_on_the_loop_with_the_given_sleep() -> None:
    waits: list[float] = []
    attempts: dict[int, int] = {}

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    async def flaky(n: int) -> int:
        attempts[n] = attempts.get(n, 0) + 1
        if attempts[n] < 3:
            raise ConnectionError("try again")
        return n

    stage = gp.async_map(flaky, retries=2, backoff=0.5, sleep=fake_sleep)
    assert list(stage([1])) == [1]
    assert waits == [0.5, 1.0]


def test_timeout_fails_a_slow_call_which_on_error_then_handles() -> None:
    async def slow_for_odd(n: int) -> int:
        if n % 2:
            await asyncio.Event().wait()
        return n

    stage = gp.async_map(slow_for_odd, timeout=0.01, on_error="skip")
    assert list(stage(range(6))) == [0, 2, 4]
    rejected = gp.DeadLetters()
    list(range(2) | gp.async_map(slow_for_odd, timeout=0.01, on_error=rejected))
    assert [type(letter.exception) for letter in rejected] == [TimeoutError]


# -- inside a running loop ------------------------------------------------------------


def test_sync_pipeline_with_async_map_works_inside_a_running_loop() -> None:
    async def main() -> tuple[list[int], list[int]]:
        stage = gp.async_map(double, concurrency=4)
        return list(range(10) | stage), stage.eager(range(10))

    lazy, eager = asyncio.run(main())
    assert lazy == eager == [n * 2 for n in range(10)]


# -- async sources ----------------------------------------------------------------


def test_async_generator_is_a_source_read_lazily_and_closed_on_break() -> None:
    pulled: list[int] = []
    closed = threading.Event()

    async def numbers() -> AsyncIterator[int]:
        try:
            for n in range(10_000):
                await asyncio.sleep(0)
                pulled.append(n)
                yield n
        finally:
            closed.set()

    flow = gp.source(numbers())
    assert pulled == []
    assert repr(flow) == "source(<async_generator ...>)"
    with flow.open() as it:
        assert [next(it) for _ in range(3)] == [0, 1, 2]
    assert closed.is_set()
    assert len(pulled) <= 3 + 64 + 1


def test_one_shot_async_source_refuses_a_second_iteration() -> None:
    async def one() -> AsyncIterator[int]:
        yield 1

    flow = gp.source(one())
    assert list(flow) == [1]
    with pytest.raises(RuntimeError, match="one-shot"):
        list(flow)


def test_reiterable_async_source_feeds_async_map_and_matches_eager() -> None:
    class Pages:
        def __aiter__(self) -> AsyncIterator[int]:
            return self._pages()

        async def _pages(self) -> AsyncIterator[int]:
            for page in range(5):
                yield page

    flow = gp.source(Pages()) | gp.async_map(double)
    assert list(flow) == list(flow) == flow.eager() == [0, 2, 4, 6, 8]


def test_async_source_failure_reaches_consumer_as_same_object() -> None:
    failure = OSError("connection reset")

    async def broken() -> AsyncIterator[int]:
        yield 1
        raise failure

    with pytest.raises(OSError) as caught:
        list(gp.source(broken()))
    assert caught.value is failure


# -- async for over a pipeline ------------------------------------------------------


def test_async_for_consumes_a_pipeline_while_the_loop_keeps_running() -> None:
    ticks = 0
    entered, release = threading.Event(), threading.Event()

    def slow_first(n: int) -> int:
        if n == 0:
            entered.set()
            release.wait(PROMPTLY)
        return n

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            if ticks == 10:
                release.set()
            await asyncio.sleep(0)

    async def main() -> list[int]:
        tick = asyncio.create_task(ticker())
        out = [n async for n in gp.source(range(5)) | gp.map(slow_first)]
        tick.cancel()
        return out

    assert asyncio.run(main()) == [0, 1, 2, 3, 4]
    assert entered.is_set()
    assert ticks >= 10


def test_break_out_of_async_for_closes_the_run() -> None:
    closed = threading.Event()

    def numbers() -> Iterator[int]:
        try:
            yield from gp.count()
        finally:
            closed.set()

    async def main() -> None:
        async for n in gp.source(numbers()) | gp.thread_map(lambda n: n):
            if n == 100:
                break

    asyncio.run(main())
    assert closed.wait(PROMPTLY)
    assert_threads_joined()


def test_aclose_joins_every_thread_before_returning() -> None:
    async def main() -> None:
        run = aiter(gp.source(gp.count()) | gp.async_map(double))
        assert await anext(run) == 0
        await run.aclose()  # type: ignore[attr-defined]
        assert genpipe_threads() == []

    asyncio.run(main())


def test_cancelling_the_consuming_task_closes_the_run() -> None:
    release, closed = threading.Event(), threading.Event()

    def stalls_after_one() -> Iterator[int]:
        try:
            yield 0
            release.wait(PROMPTLY)
            yield from gp.count(1)
        finally:
            closed.set()

    async def consume(first: asyncio.Event) -> None:
        async for _ in gp.source(stalls_after_one()) | gp.buffer():
            first.set()

    async def main() -> None:
        first = asyncio.Event()
        task = asyncio.create_task(consume(first))
        await first.wait()
        await asyncio.sleep(0)  # the task now waits inside the pipeline
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    # Once its upstream moves again, the stopped run ends and closes it.
    release.set()
    assert closed.wait(PROMPTLY)
    assert_threads_joined()


def test_pipeline_failure_reaches_async_for_as_same_object() -> None:
    failure = ValueError("bad row")

    def rows() -> Iterator[int]:
        yield 1
        raise failure

    async def main() -> list[int]:
        got: list[int] = []
        with pytest.raises(ValueError) as caught:
            async for n in gp.source(rows()):
                got.append(n)
        assert caught.value is failure
        return got

    assert asyncio.run(main()) == [1]


# -- lazy == eager --------------------------------------------------------------


async def halve_after_a_turn(n: int) -> int:
    await asyncio.sleep(0)
    return n // 2


@given(
    items=st.lists(st.integers()),
    concurrency=st.integers(1, 5),
    ordered=st.booleans(),
    maxsize=st.none() | st.integers(1, 6),
)
def test_async_map_lazy_equals_eager(
    items: list[int], concurrency: int, ordered: bool, maxsize: int | None
) -> None:
    stage = gp.async_map(
        halve_after_a_turn, concurrency, ordered=ordered, maxsize=maxsize
    )
    assert_lazy_equals_eager(gp.source(items) | stage)
