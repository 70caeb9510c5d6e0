"""The mapping engine: every ``*_map`` stage is this, with a different backend.

A feeder thread reads upstream into a `Hub`. Items leave it in *chunks*:
contiguous runs of items with a sequence number, claimed under the crew's
lock. A `Backend` turns each chunk into results — genpipe's own threads call
the function right there and publish each result as it is ready; an
executor's tasks hand a whole chunk back through a future's callback — and
the consumer takes results in sequence order (or in completion order).

The engine alone decides how much is read ahead (`Window`), how big chunks
are, in what order results are delivered, how failures reach the consumer
and how the run ends; a backend only runs chunks.
"""

from __future__ import annotations

import statistics
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, NamedTuple, NoReturn, TypeVar

from genpipe._concurrent._feeder import Hub
from genpipe._concurrent._lifecycle import (
    POLL_SECONDS,
    Crew,
    Worker,
    as_error,
    item_note,
)
from genpipe._concurrent._outlet import StageOutlet
from genpipe._core import Stage, call_repr
from genpipe._errors import SKIPPED, Policy
from genpipe._metrics import Figures
from genpipe._validate import check_int, check_seconds

T = TypeVar("T")

#: The most items in one chunk of genpipe's own workers (`Backend.max_chunk`).
MAX_CHUNK = 256
#: How long one chunk should take, so its hand-off cost is paid rarely.
CHUNK_SECONDS = 0.0005
#: A pool's chunk runs this many times as long as one task's measured
#: overhead, so that overhead is under 5 %.
AMORTISE = 50
#: ... but no longer than this, overhead included, so that an overhead that
#: grows with the chunk (big items to pickle) cannot make chunks grow
#: without end, and an uneven last chunk costs little.
LONGEST_TASK_SECONDS = 0.1
#: How many recent overhead measurements the estimate is the median of.
OVERHEAD_SAMPLES = 9
#: A pool gets at most this many tasks per worker at once: one running, one
#: ready to start the moment it ends.
TASKS_PER_WORKER = 2
#: The adaptive read-ahead starts at this many items per worker ...
START_PER_WORKER = 2
#: ... and never goes past this many of the backend's largest chunks.
CHUNKS_PER_WORKER = 2


class Chunk:
    """Contiguous items claimed together, and what became of them."""

    __slots__ = (
        "done",
        "error",
        "expired",
        "fed",
        "items",
        "results",
        "seq",
        "submitted",
    )

    def __init__(self, seq: int, items: list[Any]) -> None:
        self.seq = seq
        self.items = items
        #: Whether its items were waiting for a pool's worker when it was
        #: claimed, rather than the worker waiting for the upstream.
        self.fed = False
        #: With a ``timeout``: when it went to a pool (`time.monotonic`), and
        #: whether the watchdog gave up on it.
        self.submitted = 0.0
        self.expired = False
        #: Results so far (ordered runs); the consumer takes from the left.
        self.results: deque[Any] = deque()
        #: Set under the crew's lock once every item was dealt with.
        self.done = False
        self.error: BaseException | None = None


class TaskTiming(NamedTuple):
    """When a pool's task ran, as the task measured it where it ran.

    ``started`` and ``ended`` are `time.perf_counter` readings, compared only
    with each other and with other tasks of the same ``worker`` (a hashable
    naming the process and thread), so clocks need not agree across machines.
    """

    worker: Hashable
    started: float
    ended: float


class Settled:
    """In an unordered run's output queue: a chunk is done (``error``: it failed)."""

    __slots__ = ("chunk", "error")

    def __init__(self, chunk: Chunk, error: BaseException | None) -> None:
        self.chunk = chunk
        self.error = error


def take_error(holder: Chunk | Settled) -> BaseException:
    """The holder's error, forgotten by it.

    Raise it as ``raise take_error(x)``: bound to a local, it would stay in a
    frame that its own traceback keeps, a cycle that holds the run's items.
    """
    error, holder.error = holder.error, None
    assert error is not None
    return error


class Backend(ABC):
    """How chunks of items become results; the rest is the engine's.

    `start` creates the crew threads that drive it: genpipe's workers call
    `MapEngine.work`; a backend with its own pool runs `MapEngine.dispatch`
    in one thread and settles each chunk from its future's callback.
    """

    #: How many calls can run at once; sizes the read-ahead and the chunks.
    workers: int
    #: True when a chunk's items run side by side (coroutines on one loop)
    #: rather than one after another: then a chunk's size is bounded by the
    #: read-ahead, not by how long one call takes, and one chunk feeds many
    #: calls, so the one claimer takes everything waiting.
    spreads_chunks: bool = False
    #: The most items in one chunk, which also caps the adaptive read-ahead
    #: (`CHUNKS_PER_WORKER` of them per worker). Threads hand results over
    #: one by one, so a chunk saves only a claim; a pool pays a round trip
    #: per chunk and allows far more (sized by the overhead it measures).
    max_chunk: int = MAX_CHUNK

    @abstractmethod
    def start(self, engine: MapEngine) -> None:
        """Add the crew threads (`Crew.add`) that run chunks; they start after."""

    def stop(self) -> None:  # noqa: B027 - a hook: most backends hold nothing
        """Cancel what has not started. Never blocks: a finaliser may call it."""

    def join(self) -> None:  # noqa: B027 - a hook: most backends hold nothing
        """Release what the backend holds once its crew is stopped (consumer only)."""

    def started_at(self, chunk: Chunk) -> float | None:
        """When ``chunk``'s call started (`time.monotonic`), None if not yet.

        A backend that cannot tell answers when it was submitted, which then
        counts the time it waited for a worker too.
        """
        return chunk.submitted

    def expire(self, chunk: Chunk, error: TimeoutError) -> None:
        """Give up on ``chunk``, whose call is late: abandon the call and settle
        the chunk with ``error`` (through ``on_error``), unless its outcome came
        first. Called by the engine's watchdog, for a run with a ``timeout``.
        """
        raise NotImplementedError(f"{type(self).__name__} has no timeout")


class MapEngine:
    """State shared by the feeder, the backend's threads and the consumer of one run."""

    def __init__(
        self,
        crew: Crew,
        backend: Backend,
        fn: Callable[[Any], Any],
        *,
        ordered: bool,
        maxsize: int | None,
        chunksize: int | None = None,
        expand: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.crew = crew
        #: Each call gives an iterable of results (a flat map), not one.
        self.expand = expand
        self.backend = backend
        self.fn = fn
        self.ordered = ordered
        workers = backend.workers
        self.workers = workers
        #: Seconds a pool's call may take; then its item fails (`watch`). A
        #: task then holds one item, so that the late one is known, and each
        #: worker one task, so that a task starts as it is submitted.
        self.timeout = timeout
        if timeout is not None:
            chunksize = 1
        self.chunksize = chunksize
        self.adaptive = maxsize is None
        # A fixed chunk size needs room for a chunk per worker and one more each.
        least = 0 if chunksize is None else 2 * workers * chunksize
        widest = CHUNKS_PER_WORKER * workers * backend.max_chunk
        self.cap = max(widest, least) if maxsize is None else maxsize
        window = max(START_PER_WORKER * workers, least) if maxsize is None else maxsize
        self.hub = Hub(crew, limit=self.cap, feeders=1)
        self.hub.window = window
        self.max_chunk = self._max_chunk_for(window)
        #: Seconds per call, as last measured; 0 until a chunk was timed.
        self.per_item = 0.0
        #: A pool's cost per task beyond its calls (the median of recent
        #: tasks), and the least a task has cost per item, overhead included
        #: (the chunk size that got it is as good as any); 0 until measured.
        self.task_overhead = 0.0
        self.task_per_item = 0.0
        self._overheads: deque[float] = deque(maxlen=OVERHEAD_SAMPLES)
        self._task_per_items: deque[float] = deque(maxlen=OVERHEAD_SAMPLES)
        #: When each of a pool's workers ended its last task, on its clock,
        #: and this process's CPU time when the last task settled.
        self._last_ended: dict[Hashable, float] = {}
        self._cpu_at_settle = time.process_time()
        #: A pool's tasks submitted and not yet settled, and their bound.
        self.tasks = 0
        self.max_tasks = (1 if timeout is not None else TASKS_PER_WORKER) * workers
        #: With a ``timeout``: the chunks a pool has, by sequence number.
        self.in_flight: dict[int, Chunk] = {}
        self._dispatcher: Worker | None = None
        self.next_seq = 0
        self.settled = 0
        #: For a metered run: failures handed over, time the consumer
        #: waited, and time a pool's tasks took where they ran.
        self.failures = 0
        self.waited = 0.0
        self.remote_busy = 0.0
        #: Set at the first failure: no chunk is claimed after it, since its
        #: results could never be yielded (ordered) or would be discarded.
        self.halted = False
        self.chunks: dict[int, Chunk] = {}
        self.outputs: deque[Any] = deque()
        self.consumer_wakeup = crew.wakeup()
        self.consumer_waiting = False
        crew.on_stop(self._on_stop)

    def _on_stop(self) -> None:
        self.hub.wake_readers()
        self.hub.wake_feeders()
        self.backend.stop()

    def _max_chunk_for(self, window: int) -> int:
        if self.chunksize is not None:
            return max(1, min(self.chunksize, window))
        # Room for at least two chunks per worker, or, when one chunk feeds
        # every worker, for four chunks in all, so a chunk that waits on its
        # slowest item never leaves the workers without the next one.
        per_chunk = 4 if self.backend.spreads_chunks else 2 * self.workers
        return max(1, min(self.backend.max_chunk, window // per_chunk))

    # -- claiming work ----------------------------------------------------

    def claim(self, worker: Worker, size: int, idle: int | None = None) -> Chunk | None:
        """Wait for items, then claim up to ``size`` of them; None: stop.

        ``idle``: how many workers have nothing to do (default: all of them);
        each is left a share of the items waiting.
        """
        crew, hub = self.crew, self.hub
        todo = hub.items
        wakeup = worker.wakeup
        while True:
            with crew.lock:
                if crew.stopping or self.halted:
                    return None
                if todo:
                    # Leave a share of what is waiting to each other worker.
                    claimers = 1 if self.backend.spreads_chunks else idle
                    share = max(1, len(todo) // (claimers or self.workers))
                    count = min(size, self.max_chunk, share)
                    items = [todo.popleft() for _ in range(count)]
                    chunk = Chunk(self.next_seq, items)
                    self.next_seq += 1
                    if self.ordered:
                        self.chunks[chunk.seq] = chunk
                    break
                if hub.open_feeders == 0:
                    return None
                self._widen_if_starved()
                hub.readers_waiting.append(wakeup)
            # Look again after registering: the feeder appends without the
            # lock and wakes whoever is registered when it looks.
            if not todo and not crew.stopping:
                wakeup.wait()
        if hub.feeders_waiting:
            hub.after_take()
        return chunk

    def _widen_if_starved(self) -> None:
        # Called with the lock held by a worker with nothing to do: if the
        # read-ahead, not the upstream, is what starves it, widen the window
        # to what chunks of this function's speed need.
        if self.hub.feeders_waiting and self.per_item != 0:  # 0: not timed yet
            self._widen_for(self.chunk_size_for(self.per_item))

    def _widen_for(self, size: int) -> None:
        # With the lock held: widen the adaptive window to what chunks of
        # ``size`` items need, up to the cap.
        hub = self.hub
        if not self.adaptive or hub.window >= self.cap:
            return
        wanted = 2 * self.workers * size
        if wanted > hub.window:
            hub.window = min(self.cap, wanted)
            self.max_chunk = self._max_chunk_for(hub.window)
            hub.wake_feeders()

    def chunk_size_for(self, per_item: float) -> int:
        """Items per chunk for calls of ``per_item`` seconds.

        A chunk's calls take `CHUNK_SECONDS`, or `AMORTISE` times a pool's
        measured overhead per task if that is longer, but the whole task no
        more than `LONGEST_TASK_SECONDS`; ``chunksize=`` fixes it instead.
        """
        if self.chunksize is not None:
            return self.chunksize
        size = self.backend.max_chunk
        if per_item > 0:
            seconds = max(CHUNK_SECONDS, AMORTISE * self.task_overhead)
            size = min(size, int(seconds / per_item))
        if self.task_per_item > 0:
            size = min(size, int(LONGEST_TASK_SECONDS / self.task_per_item))
        return max(1, size)

    # -- running chunks here (genpipe's worker threads) -------------------

    def work(self, worker: Worker, fn: Callable[[Any], Any] | None = None) -> None:
        """A worker thread's body: claim chunks, call the function, publish results.

        ``fn`` replaces the engine's function for this worker (one bound to
        the worker's own resource).
        """
        call = self.fn if fn is None else fn
        size = 1
        try:
            while (chunk := self.claim(worker, size)) is not None:
                started = time.perf_counter()
                worker.busy = True
                error = self._apply(chunk, call)
                worker.busy = False
                took = time.perf_counter() - started
                worker.busy_seconds += took
                if error is None:
                    self.per_item = took / len(chunk.items)
                    size = self.chunk_size_for(self.per_item)
                self._settle(chunk, error)
                # The traceback reaches this frame (through its callee's), so
                # the error must not stay in it: that would be a cycle.
                error = None
        finally:
            worker.busy = False
            self._wake_consumer()

    def fail_first_claim(self, worker: Worker, exc: BaseException, why: str) -> None:
        """A worker that cannot work fails the first chunk it claims with ``exc``."""
        exc.add_note(f"a worker of {self.crew.label} could not start: {why}")
        chunk = self.claim(worker, 1)
        if chunk is not None:
            self._settle(chunk, self._failed(exc, chunk.items[0]))

    def _apply(self, chunk: Chunk, fn: Callable[[Any], Any]) -> BaseException | None:
        publish = chunk.results.append if self.ordered else self.outputs.append
        expand = self.expand
        done = 0
        try:
            for item in chunk.items:
                result = fn(item)
                done += 1
                if result is not SKIPPED:
                    if expand:
                        for each in result:
                            publish(each)
                    else:
                        publish(result)
                    if self.consumer_waiting:
                        self._wake_consumer()
        except BaseException as exc:  # handed to the consumer, never lost
            return self._failed(exc, chunk.items[done])
        return None

    def _failed(self, exc: BaseException, item: Any) -> BaseException:
        error = as_error(exc, self.crew.label)
        error.add_note(item_note(self.crew.label, item))
        with self.crew.lock:
            self.halted = True
            self.failures += 1
        return error

    # -- running chunks elsewhere (a pool) --------------------------------

    def dispatch(self, worker: Worker, submit: Callable[[Chunk], Any]) -> None:
        """A dispatcher thread's body: claim chunks and ``submit`` each to the pool.

        ``submit`` must arrange for `settle_outcomes` to be called with the
        chunk's outcomes when the pool is done with it.
        """
        self._dispatcher = worker
        crew = self.crew
        size = 1
        try:
            while True:
                while self.tasks >= self.max_tasks and not crew.stopping:
                    worker.wakeup.wait()
                fed = bool(self.hub.items)
                # Growing by doubling, so early round trips (a worker's
                # start-up) cannot make the first chunks too big to share.
                wanted = self.chunk_size_for(self.per_item)
                if wanted > self.max_chunk and self.per_item != 0:
                    # The window, not the upstream, keeps chunks too short
                    # to amortise a task's overhead.
                    with crew.lock:
                        self._widen_for(wanted)
                size = min(wanted, 2 * size, self.max_chunk)
                if self.chunksize is not None:
                    size = min(self.chunksize, self.max_chunk)
                elif self.backend.spreads_chunks:
                    size = self.max_chunk
                self._gather(worker, size)
                idle = max(1, self.workers - self.tasks)
                chunk = self.claim(worker, size, idle)
                if chunk is None:
                    break
                chunk.fed = fed
                with crew.lock:
                    self.tasks += 1
                    if self.timeout is not None:
                        chunk.submitted = time.monotonic()
                        self.in_flight[chunk.seq] = chunk
                worker.busy = True
                submit(chunk)
                worker.busy = False
        finally:
            worker.busy = False
            self._wake_consumer()

    def watch(self, worker: Worker) -> None:
        """A watchdog thread's body, in a run with a ``timeout``: expire late calls.

        The backend says when each call started and abandons a late one
        (`Backend.expire`); its item fails with `TimeoutError`, which
        ``on_error`` handles like any failure.
        """
        crew, backend, timeout = self.crew, self.backend, self.timeout
        assert timeout is not None
        error = f"{crew.label}: the call took longer than {timeout:g} s"
        # Late by a quarter of the timeout at most, and by POLL_SECONDS.
        tick = min(timeout / 4, POLL_SECONDS)
        while not crew.stopping:
            with crew.lock:
                chunks = [c for c in self.in_flight.values() if not c.expired]
            now = time.monotonic()
            for chunk in chunks:
                started = backend.started_at(chunk)
                if started is not None and now - started >= timeout:
                    chunk.expired = True
                    backend.expire(chunk, TimeoutError(error))
            worker.wakeup.wait(tick)

    def _gather(self, worker: Worker, size: int) -> None:
        # While every worker has a task, the dispatcher can wait for a full
        # chunk: a short one would pay a task's overhead for fewer items.
        # Never past that, so a slow upstream's items do not wait for more.
        crew, hub = self.crew, self.hub
        while True:
            with crew.lock:
                if (
                    len(hub.items) >= size
                    or self.tasks < self.workers
                    or hub.open_feeders == 0
                    or hub.feeders_waiting  # the window is full
                    or crew.stopping
                ):
                    return
                hub.readers_waiting.append(worker.wakeup)
            worker.wakeup.wait()

    def settle_outcomes(
        self,
        chunk: Chunk,
        results: list[Any],
        failure: BaseException | None,
        timing: TaskTiming | None = None,
        *,
        skips: bool = True,
    ) -> None:
        """A pool finished ``chunk``: ``results`` in order, then maybe a ``failure``.

        The failure belongs to the item after the last result. ``timing``,
        if known, measures the calls and the pool's cost per task, which
        sizes later chunks. ``skips=False`` says that no result is `SKIPPED`,
        which spares looking at each.
        """
        if timing is not None and results and failure is None:
            self._timed(chunk, timing)  # it takes the lock itself
        with self.crew.lock:
            self.tasks -= 1
            self.in_flight.pop(chunk.seq, None)
            if timing is not None:
                self.remote_busy += timing.ended - timing.started
        if self._dispatcher is not None:
            self._dispatcher.wakeup.wake()
        error = None
        if failure is not None:
            done = len(results)
            error = self._failed(
                failure, chunk.items[done] if done < len(chunk.items) else None
            )
        if skips:
            results = [result for result in results if result is not SKIPPED]
        if self.expand:
            results = [each for result in results for each in result]
        (chunk.results if self.ordered else self.outputs).extend(results)
        self._settle(chunk, error)

    def _timed(self, chunk: Chunk, timing: TaskTiming) -> None:
        # A task costs what its worker spends between two chunks (receiving
        # one, sending the other back; waiting, while chunks are too short
        # to hide a round trip) and this process's CPU time per task. Left
        # out: a worker's first task (its start-up is paid once), and one
        # whose items came late (the worker waited for the upstream).
        count = len(chunk.items)
        seconds = timing.ended - timing.started
        self.per_item = seconds / count
        cpu = time.process_time()
        # Under the lock: a thread pool settles from several threads at once.
        with self.crew.lock:
            here, self._cpu_at_settle = cpu - self._cpu_at_settle, cpu
            previous = self._last_ended.get(timing.worker)
            self._last_ended[timing.worker] = timing.ended
            if previous is None or timing.started < previous or not chunk.fed:
                return
            cost = timing.started - previous + here
            self._overheads.append(cost)
            self._task_per_items.append((seconds + cost) / count)
            self.task_overhead = statistics.median(self._overheads)
            self.task_per_item = min(self._task_per_items)

    # -- handing over -----------------------------------------------------

    def _settle(self, chunk: Chunk, error: BaseException | None) -> None:
        with self.crew.lock:
            chunk.error = error
            chunk.done = True
            self.settled += 1
            if not self.ordered:
                self.outputs.append(Settled(chunk, error))
        if error is not None:
            self.crew.failed(error)
        self._wake_consumer()

    def _wake_consumer(self) -> None:
        # Clearing the flag here, not when the consumer wakes, means one wake
        # per wait rather than one per result published meanwhile.
        self.consumer_waiting = False
        self.consumer_wakeup.wake()

    def has_chunk_or_finished(self, seq: int) -> bool:
        return seq in self.chunks or self.finished(seq)

    def finished(self, consumed_seq: int) -> bool:
        """With the lock held: True when nothing more can come (read, all settled)."""
        return (
            self.hub.open_feeders == 0
            and not self.hub.items
            and self.settled == self.next_seq
            and consumed_seq >= self.next_seq
        )


class _MapOutlet(StageOutlet[T], Generic[T]):
    """The consumer's end of a mapping run."""

    def __init__(self, engine: MapEngine) -> None:
        super().__init__(engine.crew)
        self._engine = engine

    def _start(self, segment: list[Iterator[Any]]) -> None:
        engine = self._engine
        engine.crew.add("feeder", partial(engine.hub.feed, segment))
        engine.backend.start(engine)
        if engine.timeout is not None:
            engine.crew.add("watchdog", engine.watch)
        engine.crew.start()

    def _join(self) -> None:
        super()._join()
        self._engine.backend.join()

    def _wait(self, ready: Callable[[], bool]) -> None:
        engine = self._engine
        engine.consumer_waiting = True
        if not ready():
            started = time.perf_counter()
            engine.consumer_wakeup.wait()
            engine.waited += time.perf_counter() - started
        engine.consumer_waiting = False
        self._begin()  # raises once cancelled

    def _figures(self) -> Figures:
        engine = self._engine
        busy = engine.crew.busy_seconds() + engine.remote_busy
        return Figures(busy, engine.waited, engine.hub.high, engine.failures)

    def _end_or_upstream_failure(self) -> NoReturn:
        """Everything was delivered: raise the upstream's failure, if any, or end."""
        hub = self._engine.hub
        if hub.failure is not None:
            raise hub.take_failure()
        self._ended()


class OrderedOutlet(_MapOutlet[T]):
    """Results in input order, each as soon as it and those before it are ready."""

    def __init__(self, engine: MapEngine) -> None:
        super().__init__(engine)
        self._results: deque[Any] = deque()
        self._chunk: Chunk | None = None
        self._next_seq = 0

    def _drop_buffered(self) -> None:
        self._results = deque()
        self._chunk = None

    def __next__(self) -> T:
        results = self._results
        if results:
            return results.popleft()  # type: ignore[no-any-return]
        return self._slow_next()

    def _slow_next(self) -> T:
        self._begin()
        engine = self._engine
        crew = engine.crew
        while True:
            chunk = self._chunk
            if chunk is not None:
                with crew.lock:
                    done = chunk.done
                if chunk.results:
                    return chunk.results.popleft()  # type: ignore[no-any-return]
                if not done:
                    if crew.stopping:  # a pool drops the chunks it was running
                        self._ended()
                    self._wait(partial(_has_news, chunk))
                    continue
                if chunk.error is not None:
                    raise take_error(chunk)
                engine.hub.release(len(chunk.items))
                self._chunk = None
            with crew.lock:
                if crew.stopping:
                    self._ended()
                chunk = engine.chunks.pop(self._next_seq, None)
                finished = chunk is None and engine.finished(self._next_seq)
            if chunk is not None:
                self._next_seq += 1
                self._chunk = chunk
                self._results = chunk.results
            elif finished:
                self._end_or_upstream_failure()
            else:
                self._wait(partial(engine.has_chunk_or_finished, self._next_seq))


class CompletionOrderOutlet(_MapOutlet[T]):
    """Results as they are ready, whatever their input order."""

    def __init__(self, engine: MapEngine) -> None:
        super().__init__(engine)
        self._outputs = engine.outputs

    def _drop_buffered(self) -> None:
        self._outputs.clear()

    def __next__(self) -> T:
        outputs = self._outputs
        if outputs:
            output = outputs.popleft()
            if output.__class__ is not Settled:
                return output  # type: ignore[no-any-return]
            self._settle(output)
        return self._slow_next()

    def _slow_next(self) -> T:
        self._begin()
        engine, outputs = self._engine, self._outputs
        crew = engine.crew
        while True:
            while outputs:
                output = outputs.popleft()
                if output.__class__ is not Settled:
                    return output  # type: ignore[no-any-return]
                self._settle(output)
            with crew.lock:
                if crew.stopping:
                    self._ended()
                finished = engine.finished(engine.next_seq) and not outputs
            if finished:
                self._end_or_upstream_failure()
            self._wait(lambda: bool(outputs) or engine.finished(engine.next_seq))

    def _settle(self, settled: Settled) -> None:
        self._engine.hub.release(len(settled.chunk.items))
        if settled.error is not None:
            raise take_error(settled)


def _has_news(chunk: Chunk) -> bool:
    return bool(chunk.results) or chunk.done


def open_map(engine: MapEngine) -> StageOutlet[Any]:
    """The consumer's end for ``engine``'s run, ordered or not."""
    return OrderedOutlet(engine) if engine.ordered else CompletionOrderOutlet(engine)


def map_stage(
    factory: str,
    fn: Callable[..., Any],
    backend: Callable[[], Backend],
    *,
    ordered: bool,
    maxsize: int | None,
    policy: Policy,
    call: Callable[[Any], Any] | None = None,
    reference_call: Callable[[Any], Any] | None = None,
    chunksize: int | None = None,
    timeout: float | None = None,
    options: dict[str, object] | None = None,
    expand: bool = False,
    eager: Callable[[list[Any]], list[Any]] | None = None,
) -> Stage[Any, Any]:
    """A ``*_map`` stage: its checks, its repr, a fresh engine per run, its eager face.

    ``call`` is what the backend runs per item (default: ``fn`` under
    ``policy``'s guard) and ``reference_call`` what the eager face runs
    (default: ``call``); ``timeout`` is enforced by the engine's watchdog
    (`MapEngine.watch`); ``options`` are the factory's own non-default
    options, shown first in the repr. With ``expand``, each call gives an
    iterable whose items are the results. ``eager`` replaces the whole
    eager face (for calls that need a resource made once).
    """
    if maxsize is not None:
        check_int(factory, "maxsize", maxsize, minimum=1)
    if chunksize is not None:
        check_int(factory, "chunksize", chunksize, minimum=1)
    if timeout is not None:
        timeout = check_seconds(factory, "timeout", timeout, allow_zero=False)
        if chunksize is not None:
            raise ValueError(
                f"{factory}() sends one item per task when given a timeout (so "
                "that a late call is known), so it takes timeout or chunksize, "
                "not both"
            )
    shown = dict(options or {})
    if not ordered:
        shown["ordered"] = False
    if maxsize is not None:
        shown["maxsize"] = maxsize
    if chunksize is not None:
        shown["chunksize"] = chunksize
    if timeout is not None:
        shown["timeout"] = timeout
    label = call_repr(factory, fn, **shown, **policy.options())
    run_call = call if call is not None else fn if policy.is_plain else policy.guard(fn)
    one = run_call if reference_call is None else reference_call

    def lazy(items: Iterable[Any]) -> Iterator[Any]:
        engine = MapEngine(
            Crew(label),
            backend(),
            run_call,
            ordered=ordered,
            maxsize=maxsize,
            chunksize=chunksize,
            expand=expand,
            timeout=timeout,
        )
        return open_map(engine)

    def reference(items: list[Any]) -> list[Any]:
        results = [r for r in map(one, items) if r is not SKIPPED]
        return [each for r in results for each in r] if expand else results

    return Stage(
        lazy,
        reference if eager is None else eager,
        label,
        comparison="exact" if ordered else "multiset",
        policy=policy,
        concurrent=True,
    )
