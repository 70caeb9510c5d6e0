"""The asyncio backend: `async_map`, async sources, and ``async for`` over a pipeline.

Each run of `async_map` owns one event loop in a crew thread of its own, so
a pipeline behaves the same whether or not the calling thread already runs a
loop: genpipe never nests loops and never touches the caller's. The engine's
dispatcher hands chunks to the loop with ``call_soon_threadsafe``; there a
few worker coroutines (never more than ``concurrency``) take items one by
one, so a chunk costs one thread hop and an item no task of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import deque
from collections.abc import AsyncIterable, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Generic, Literal, TypeVar

from genpipe._concurrent._engine import Backend, Chunk, MapEngine, map_stage
from genpipe._concurrent._feeder import Hub
from genpipe._concurrent._lifecycle import POLL_SECONDS, Crew, Wakeup, Worker
from genpipe._concurrent._producers import _BufferOutlet
from genpipe._core import Base, Source, Stage, describe
from genpipe._errors import Policy, RetryOn
from genpipe._validate import check_callable, check_int, check_seconds

T = TypeVar("T")
U = TypeVar("U")

#: How long a stopping loop waits for its cancelled coroutines' cleanup
#: before it closes anyway; only a coroutine that ignores cancellation
#: takes that long.
CANCEL_GRACE_SECONDS = 1.0
#: Items an async source reads ahead of its consumer.
SOURCE_READ_AHEAD = 64
#: The most items waiting for an ``async for`` consumer: its hand-off chunk.
HANDOFF_ITEMS = 1024

_UNSET: Any = object()


def run_outside_loop(fn: Callable[[], T]) -> T:
    """``fn()`` here, or in a helper thread if this thread runs an event loop.

    A loop cannot be run from inside a running one, so the eager face,
    which blocks anyway, moves to a thread of its own there.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn()
    with ThreadPoolExecutor(1, thread_name_prefix="genpipe-eager") as pool:
        return pool.submit(fn).result()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


# -- async_map ----------------------------------------------------------------


class _ChunkOnLoop:
    """A chunk being worked on by the loop, and its outcomes so far."""

    __slots__ = ("chunk", "failed_at", "failure", "left", "results", "settled", "since")

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        count = len(chunk.items)
        self.results: list[Any] = [_UNSET] * count
        #: The first item that failed; only the items before it matter.
        self.failed_at = count
        self.failure: BaseException | None = None
        #: Items before `failed_at` still running or waiting.
        self.left = count
        self.settled = False
        self.since = time.perf_counter()


class AsyncBackend(Backend):
    """One event loop in a crew thread runs up to ``workers`` coroutines at once."""

    spreads_chunks = True

    def __init__(self, concurrency: int, call: Callable[[Any], Awaitable[Any]]) -> None:
        self.workers = concurrency
        self._call = call
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Future[None] | None = None
        self._engine: MapEngine | None = None
        #: Items handed to the loop and not yet started, across chunks.
        self._waiting: deque[tuple[_ChunkOnLoop, int]] = deque()
        self._running = 0
        # The loop holds its tasks only weakly: a task waiting on a future
        # that nothing else holds would be collected, its coroutine closed
        # mid-call. These are the strong references.
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, engine: MapEngine) -> None:
        self._engine = engine
        self._loop = loop = asyncio.new_event_loop()
        self._stopped = loop.create_future()
        engine.crew.add("loop", self._run_loop)
        engine.crew.add("dispatcher", partial(engine.dispatch, submit=self._submit))

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(_resolve, stopped)

    def _submit(self, chunk: Chunk) -> None:
        assert self._loop is not None
        # A chunk claimed just as the run stopped finds the loop closed; its
        # results could never be delivered anyway.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._accept, chunk)

    # -- on the loop thread -------------------------------------------------

    def _run_loop(self, worker: Worker) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def _serve(self) -> None:
        assert self._stopped is not None
        await self._stopped
        self._waiting.clear()
        # Like asyncio.run: every task still on the loop, the function's and
        # any it started, is cancelled and its cleanup awaited.
        tasks = asyncio.all_tasks() - {asyncio.current_task()}
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CANCEL_GRACE_SECONDS)

    def _accept(self, chunk: Chunk) -> None:
        on_loop = _ChunkOnLoop(chunk)
        self._waiting.extend((on_loop, index) for index in range(len(chunk.items)))
        self._spawn(1)

    def _spawn(self, count: int) -> None:
        # Workers multiply as they start (each starts up to two more), so a
        # thousand slow calls are all running within a dozen loop turns while
        # a chunk of instant ones is done by one worker and costs no task per
        # item.
        loop = self._loop
        assert loop is not None
        count = min(count, self.workers - self._running, len(self._waiting))
        for _ in range(count):
            self._running += 1
            task = loop.create_task(self._work())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _work(self) -> None:
        engine, waiting, call = self._engine, self._waiting, self._call
        assert engine is not None
        task = asyncio.current_task()
        assert task is not None
        spawned = False
        try:
            while waiting and not engine.halted:
                on_loop, index = waiting.popleft()
                if not spawned:
                    spawned = True
                    self._spawn(2)
                item = on_loop.chunk.items[index]
                try:
                    result = await call(item)
                except asyncio.CancelledError as exc:
                    if task.cancelling():  # the run is stopping
                        raise
                    self._failed(on_loop, index, exc)
                except GeneratorExit:  # the coroutine is being closed: let it be
                    raise
                except BaseException as exc:  # handed to the consumer, never lost
                    self._failed(on_loop, index, exc)
                else:
                    on_loop.results[index] = result
                    if index < on_loop.failed_at:
                        on_loop.left -= 1
                        self._settle_if_done(on_loop)
        finally:
            self._running -= 1

    def _failed(self, on_loop: _ChunkOnLoop, index: int, exc: BaseException) -> None:
        if index >= on_loop.failed_at:
            return
        on_loop.failed_at, on_loop.failure = index, exc
        on_loop.left = on_loop.results[:index].count(_UNSET)
        self._settle_if_done(on_loop)

    def _settle_if_done(self, on_loop: _ChunkOnLoop) -> None:
        if on_loop.left or on_loop.settled:
            return
        on_loop.settled = True
        engine = self._engine
        assert engine is not None
        chunk = on_loop.chunk
        if on_loop.failure is None:
            engine.per_item = (time.perf_counter() - on_loop.since) / len(chunk.items)
        engine.settle_outcomes(
            chunk, on_loop.results[: on_loop.failed_at], on_loop.failure
        )


def _is_async_function(fn: object) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - an async __call__ counts
    )


def _async_guard(
    fn: Callable[[Any], Awaitable[Any]], policy: Policy, timeout: float | None
) -> Callable[[Any], Awaitable[Any]]:
    """``fn`` with a per-call ``timeout``, the policy's retries (asleep on the loop)
    and its ``on_error``: the async twin of `Policy.guard`."""
    sleep: Callable[[float], Awaitable[object]] = policy.sleep  # type: ignore[assignment]
    retry_delay, recover = policy.retry_delay, policy.recover

    async def guarded(item: Any) -> Any:
        attempt = 0
        while True:
            try:
                if timeout is None:
                    return await fn(item)
                return await asyncio.wait_for(fn(item), timeout)
            except Exception as exc:
                delay = retry_delay(exc, attempt)
                if delay is None:
                    return recover(exc, item)
                if delay:
                    await sleep(delay)
                attempt += 1

    return guarded


def async_map(
    fn: Callable[[T], Awaitable[U]],
    concurrency: int = 16,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    on_error: Literal["raise", "skip"] | Callable[[Exception, T], U] = "raise",
    retries: int = 0,
    backoff: float = 0.0,
    retry_on: RetryOn = Exception,
    timeout: float | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> Stage[T, U]:
    """Await ``fn(item)`` for every item, up to ``concurrency`` coroutines at once.

    Use it when ``fn`` is an ``async def`` that waits on I/O (httpx, aiohttp,
    asyncpg): one event loop multiplexes all the waiting, so a thousand
    requests in flight cost a thousand coroutines, not a thousand threads.
    Each run owns its loop, in a thread of its own, started at the first
    ``next()``; the rest of the pipeline stays synchronous, and iterating it
    inside ``asyncio.run(...)`` works too (the stage never uses the caller's
    loop, so that loop is blocked while the sync consumer waits — use
    ``async for`` there to keep it running).

    Ordering, ``maxsize`` and the error options work as in `thread_map`;
    ``backoff`` waits with ``sleep`` (``asyncio.sleep``), never blocking the
    loop. ``timeout`` bounds each call in seconds: a call that takes longer
    is cancelled and fails with `TimeoutError`, which the error options then
    handle. When the run ends early (break, an error, ``close()``), every
    coroutine still running is cancelled, and its ``finally`` has run when
    the run's ``close()`` returns. The eager face awaits the calls one at a
    time.

    Sharp edge: ``fn`` shares the loop with every other call; a coroutine
    that blocks (``time.sleep``, a sync HTTP client) stalls them all.

    >>> import asyncio
    >>> import genpipe as gp
    >>> async def double(n):
    ...     await asyncio.sleep(0.001)
    ...     return n * 2
    >>> range(5) | gp.async_map(double, concurrency=3) | gp.to_list()
    [0, 2, 4, 6, 8]
    """
    check_callable("async_map", "fn", fn)
    if not _is_async_function(fn):
        raise TypeError(
            f"async_map() needs an async def function, got {describe(fn)}, "
            f"which is not one; for a plain function use thread_map({describe(fn)})"
        )
    check_int("async_map", "concurrency", concurrency, minimum=1)
    options: dict[str, object] = (
        {} if concurrency == 16 else {"concurrency": concurrency}
    )
    if timeout is not None:
        timeout = check_seconds("async_map", "timeout", timeout, allow_zero=False)
        options["timeout"] = timeout
    policy = Policy(
        "async_map",
        on_error=on_error,
        retries=retries,
        backoff=backoff,
        retry_on=retry_on,
        sleep=sleep,
    )
    plain = policy.is_plain and timeout is None
    call = fn if plain else _async_guard(fn, policy, timeout)

    def one_at_a_time(item: Any) -> Any:
        return run_outside_loop(lambda: asyncio.run(call(item)))  # type: ignore[arg-type]

    return map_stage(
        "async_map",
        fn,
        lambda: AsyncBackend(concurrency, call),
        ordered=ordered,
        maxsize=maxsize,
        policy=policy,
        call=call,
        reference_call=one_at_a_time,
        options=options,
    )


# -- async sources -----------------------------------------------------------


def _drained(items: AsyncIterable[T]) -> Iterator[T]:
    """The async iterable as a generator: each ``next()`` runs a private loop
    until the next item, so nothing is read before it is asked for."""
    loop = asyncio.new_event_loop()
    iterator = aiter(items)
    try:
        while True:
            try:
                item = loop.run_until_complete(anext(iterator))
            except StopAsyncIteration:
                return
            yield item
    finally:
        try:
            aclose = getattr(iterator, "aclose", None)
            if aclose is not None:
                loop.run_until_complete(aclose())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


def async_source(items: AsyncIterable[T], label: str) -> Source[T]:
    """`source` of an async iterable: drained by a producer thread with its own loop."""

    def open_fresh() -> Iterator[T]:
        outlet: _BufferOutlet[T] = _BufferOutlet(label, SOURCE_READ_AHEAD)
        outlet._adopt([_drained(items)])
        return outlet

    one_shot = hasattr(items, "__anext__")
    return Source(Base(open_fresh, label, one_shot=one_shot))


# -- async for over a pipeline -----------------------------------------------


class _LoopWakeup(Wakeup):
    """A `Wakeup` whose waiter is a coroutine: `wake` resolves a future on its loop."""

    __slots__ = ("_future", "_loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._loop = loop
        self._future: asyncio.Future[None] | None = None

    def arm(self) -> asyncio.Future[None]:
        self._future = future = self._loop.create_future()
        return future

    def wake(self) -> None:
        future = self._future
        if future is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(_resolve, future)


class AsyncRun(Generic[T]):
    """``async for`` over a `Source`: a feeder thread runs the pipeline, the
    coroutine takes its items in chunks and awaits (never blocks) in between.

    Leaving the loop early drops the iterator, which stops the feeder; it
    then closes the pipeline's run in its own thread. ``aclose()`` does the
    same and also waits (off the loop) for every thread to end.
    """

    def __init__(self, flow: Source[T]) -> None:
        self._flow = flow
        self._crew = crew = Crew(f"async for over {flow!r}")
        self._hub = hub = Hub(crew, limit=HANDOFF_ITEMS, feeders=1)
        hub.window = float("inf")
        crew.on_stop(hub.wake_feeders)
        self._items = hub.items
        self._wakeup: _LoopWakeup | None = None

    def __aiter__(self) -> AsyncRun[T]:
        return self

    async def __anext__(self) -> T:
        items = self._items
        if items:
            item = items.popleft()
            if self._hub.feeders_waiting:
                self._hub.after_take()
            return item  # type: ignore[no-any-return]
        return await self._wait_for_item()

    async def _wait_for_item(self) -> T:
        crew, hub, items = self._crew, self._hub, self._items
        wakeup = self._wakeup
        if wakeup is None:
            self._wakeup = wakeup = _LoopWakeup(asyncio.get_running_loop())
            crew.add("feeder", partial(hub.feed, [iter(self._flow)]))
            crew.start()
        try:
            while not items:
                if hub.failure is not None:
                    failure, hub.failure = hub.failure, None
                    raise failure
                if hub.open_feeders == 0 or crew.stopping:
                    await self.aclose()
                    raise StopAsyncIteration
                future = wakeup.arm()
                hub.readers_waiting.append(wakeup)
                if not items and hub.open_feeders and not crew.stopping:
                    await asyncio.wait({future}, timeout=POLL_SECONDS)
        except BaseException:
            crew.stop()
            raise
        item = items.popleft()
        if hub.feeders_waiting:
            hub.after_take()
        return item  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        """Stop the pipeline and wait, without blocking the loop, for its threads."""
        crew = self._crew
        crew.stop()
        self._items.clear()
        if self._wakeup is not None:
            await asyncio.to_thread(crew.join)

    def __del__(self) -> None:
        self._crew.stop()
