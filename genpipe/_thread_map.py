"""thread_map: call a function on many items at once in worker threads.

One feeder thread reads upstream (so it is only ever advanced by one thread)
into a deque; workers take whatever is there in contiguous chunks, call the
function, and hand back each chunk of results under a sequence number; the
consumer yields chunks in sequence order (or in completion order). Chunks
adapt to the function's speed: a slow, I/O-bound function gets one item per
chunk so every worker stays busy, a fast one gets up to `MAX_CHUNK` items so
the per-chunk locking is paid rarely.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Literal, TypeVar

from genpipe._core import Stage, call_repr
from genpipe._errors import SKIPPED, Policy, RetryOn
from genpipe._threads import (
    POLL_SECONDS,
    ConcurrentIterator,
    Crew,
    as_error,
    item_note,
)
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")

#: The most items one worker takes at once.
MAX_CHUNK = 256
#: Default ``maxsize`` per worker: room for two full chunks each.
MAXSIZE_PER_WORKER = 2 * MAX_CHUNK
#: How long a worker aims to spend on one chunk; sets the chunk size.
CHUNK_SECONDS = 0.0005


class _Chunk:
    __slots__ = ("error", "results", "size")

    def __init__(self, size: int, results: list[Any], error: BaseException | None):
        self.size = size
        self.results = results
        self.error = error


class _Run:
    """State shared by the feeder, the workers and the consumer of one run."""

    def __init__(
        self,
        crew: Crew,
        fn: Callable[[Any], Any],
        *,
        workers: int,
        maxsize: int,
        ordered: bool,
        drops_items: bool,
    ) -> None:
        self.crew = crew
        self.fn = fn
        self.workers = workers
        self.maxsize = maxsize
        self.ordered = ordered
        self.drops_items = drops_items
        self.max_chunk = max(1, min(MAX_CHUNK, maxsize // (2 * workers)))
        self.todo: deque[Any] = deque()
        # Items read from upstream minus items the consumer has finished with;
        # the feeder pauses while it is at maxsize.
        self.pulled = 0
        self.released = 0
        self.feed_done = False
        self.feed_error: BaseException | None = None
        self.next_seq = 0
        self.workers_alive = workers
        # Set at the first failure: no new chunk is started after it, since
        # its results could never be yielded (ordered) or would be discarded.
        self.halted = False
        self.done: dict[int, _Chunk] = {}
        self.completed: deque[_Chunk] = deque()
        self.work_ready = crew.condition()
        self.room = crew.condition()
        self.results_ready = crew.condition()
        self.idle_workers = 0
        self.feeder_waiting = False
        self.consumer_waiting = False

    # -- feeder thread ---------------------------------------------------

    def feed(self, upstream: Iterator[Any]) -> None:
        crew, todo, maxsize = self.crew, self.todo, self.maxsize
        append = todo.append
        try:
            for item in upstream:
                append(item)
                self.pulled += 1
                if self.idle_workers:
                    self._wake_idle_workers()
                if self.pulled - self.released >= maxsize:
                    self._wait_for_room()
                if crew.stopping:
                    return
        except BaseException as exc:  # handed to the consumer, never lost
            if crew.upstream_failed(exc):
                self.feed_error = exc
        finally:
            with crew.lock:
                self.feed_done = True
                self.work_ready.notify_all()

    def _wait_for_room(self) -> None:
        crew = self.crew
        with crew.lock:
            self.feeder_waiting = True
            while self.pulled - self.released >= self.maxsize and not crew.stopping:
                self.room.wait(POLL_SECONDS)
            self.feeder_waiting = False

    def _wake_idle_workers(self) -> None:
        # Zeroing the count here means one notify per idle spell, not one per
        # item added before the woken workers get to run.
        with self.crew.lock:
            if self.idle_workers:
                self.idle_workers = 0
                self.work_ready.notify_all()

    # -- worker threads --------------------------------------------------

    def work(self) -> None:
        chunk_size = 1
        try:
            while (claimed := self._take(chunk_size)) is not None:
                seq, items = claimed
                started = time.perf_counter()
                chunk = self._apply(items)
                if items and chunk.error is None:
                    per_item = (time.perf_counter() - started) / len(items)
                    chunk_size = self._chunk_size_for(per_item)
                self._deliver(seq, chunk)
        finally:
            with self.crew.lock:
                self.workers_alive -= 1
                self.results_ready.notify()

    def _chunk_size_for(self, per_item: float) -> int:
        if per_item <= 0:
            return self.max_chunk
        return max(1, min(self.max_chunk, int(CHUNK_SECONDS / per_item)))

    def _take(self, chunk_size: int) -> tuple[int, list[Any]] | None:
        """Claim up to ``chunk_size`` waiting items and a sequence number."""
        crew, todo = self.crew, self.todo
        with crew.lock:
            while not todo:
                if crew.stopping or self.halted:
                    return None
                if self.feed_done:
                    if self.feed_error is None:
                        return None
                    # The upstream's failure comes after every item it gave.
                    error, self.feed_error = self.feed_error, None
                    seq = self.next_seq
                    self.next_seq += 1
                    self._store(seq, _Chunk(0, [], error))
                    return None
                # Raise the flag, then look again: the feeder appends without
                # the lock, then reads the flag, so one of us sees the other.
                self.idle_workers += 1
                if not todo:
                    self.work_ready.wait(POLL_SECONDS)
            if crew.stopping or self.halted:
                return None
            # Leave a share of what is waiting to each of the other workers.
            count = min(chunk_size, max(1, len(todo) // self.workers))
            items = [todo.popleft() for _ in range(count)]
            seq = self.next_seq
            self.next_seq += 1
            return seq, items

    def _apply(self, items: list[Any]) -> _Chunk:
        results: list[Any] = []
        append, fn = results.append, self.fn
        try:
            for item in items:
                append(fn(item))
        except BaseException as exc:  # handed to the consumer, never lost
            failed = items[len(results)]
            error = as_error(exc, self.crew.label)
            error.add_note(item_note(self.crew.label, failed))
            with self.crew.lock:
                self.crew.failures.append(error)
                self.halted = True
            return _Chunk(len(items), self._kept(results), error)
        return _Chunk(len(items), self._kept(results), None)

    def _kept(self, results: list[Any]) -> list[Any]:
        if self.drops_items:
            return [result for result in results if result is not SKIPPED]
        return results

    def _deliver(self, seq: int, chunk: _Chunk) -> None:
        with self.crew.lock:
            self._store(seq, chunk)

    def _store(self, seq: int, chunk: _Chunk) -> None:
        if self.ordered:
            self.done[seq] = chunk
        else:
            self.completed.append(chunk)
        if self.consumer_waiting:
            self.results_ready.notify()

    # -- consumer --------------------------------------------------------

    def next_chunk(self, finished: _Chunk | None, next_out: int) -> _Chunk | None:
        """Release ``finished``'s budget; wait for the next chunk (None: the end)."""
        crew = self.crew
        with crew.lock:
            if finished is not None:
                self.released += finished.size
                if self.feeder_waiting:
                    self.room.notify()
            try:
                while True:
                    if self.ordered:
                        chunk = self.done.pop(next_out, None)
                    else:
                        chunk = self.completed.popleft() if self.completed else None
                    if chunk is not None:
                        return chunk
                    if crew.stopping or (
                        self.workers_alive == 0 and not self.done and not self.completed
                    ):
                        return None
                    self.consumer_waiting = True
                    self.results_ready.wait(POLL_SECONDS)
            finally:
                self.consumer_waiting = False


class _ThreadMapIterator(ConcurrentIterator[U]):
    def __init__(self, run: _Run, upstream: Iterator[Any]) -> None:
        super().__init__(run.crew, [upstream])
        self._run = run
        self._current: Iterator[U] = iter(())
        self._chunk: _Chunk | None = None
        self._next_out = 0

    def _start(self) -> None:
        run = self._run
        run.crew.start("feeder", partial(run.feed, self._upstreams[0]))
        for _ in range(run.workers):
            run.crew.start("worker", run.work)

    def __next__(self) -> U:
        # A loop rather than next() in a try: the slow path must not run
        # inside an `except StopIteration` block, or every exception it
        # raises would carry that StopIteration as its context.
        for result in self._current:
            return result
        return self._wait_for_next(self._next_from_new_chunk)

    def _drop_buffered(self) -> None:
        self._current = iter(())

    def _next_from_new_chunk(self) -> U:
        while True:
            finished = self._chunk
            if finished is not None and finished.error is not None:
                error, finished.error = finished.error, None
                raise error
            chunk = self._run.next_chunk(finished, self._next_out)
            if chunk is None:
                self._raise_if_cancelled()
                self.close()
                raise StopIteration
            self._chunk = chunk
            self._next_out += 1
            self._current = iter(chunk.results)
            for result in self._current:
                return result


def thread_map(
    fn: Callable[[T], U],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    on_error: Literal["raise", "skip"] | Callable[[Exception, T], U] = "raise",
    retries: int = 0,
    backoff: float = 0.0,
    retry_on: RetryOn = Exception,
    sleep: Callable[[float], object] = time.sleep,
) -> Stage[T, U]:
    """Apply ``fn`` to every item in ``workers`` threads at once.

    Use it when ``fn`` waits (network, disk, a database, a C extension that
    releases the GIL): up to ``workers`` calls are in progress at a time.
    For pure-Python CPU work, threads add nothing under the GIL.

    ``ordered=True`` yields results in input order; ``ordered=False`` yields
    them as they complete, which keeps slow items from holding fast ones
    back. ``maxsize`` bounds how many items are read from upstream and not
    yet yielded (default ``512 * workers``): a slow consumer makes the
    stage stop reading, so memory stays bounded on an endless input.

    Error options work as in `map`. An exception raised by ``fn`` reaches the
    consumer as the same object, with a note naming the stage and the item;
    with ``ordered=True`` every earlier result is yielded first. Threads
    start at the first ``next()`` and are joined when the iterator ends or is
    closed.

    Sharp edge: it reads ahead, up to ``maxsize`` items, even when the
    consumer stops early.

    >>> import genpipe as gp
    >>> range(6) | gp.thread_map(lambda n: n * n, workers=3) | gp.to_list()
    [0, 1, 4, 9, 16, 25]
    """
    check_callable("thread_map", "fn", fn)
    check_int("thread_map", "workers", workers, minimum=1)
    if maxsize is None:
        maxsize = MAXSIZE_PER_WORKER * workers
    check_int("thread_map", "maxsize", maxsize, minimum=1)
    policy = Policy(
        "thread_map",
        on_error=on_error,
        retries=retries,
        backoff=backoff,
        retry_on=retry_on,
        sleep=sleep,
    )
    options: dict[str, object] = {}
    if workers != 4:
        options["workers"] = workers
    if not ordered:
        options["ordered"] = False
    if maxsize != MAXSIZE_PER_WORKER * workers:
        options["maxsize"] = maxsize
    label = call_repr("thread_map", fn, **options, **policy.options())
    call = fn if policy.is_plain else policy.guard(fn)
    size = maxsize

    def lazy(items: Iterable[T]) -> Iterator[U]:
        run = _Run(
            Crew(label),
            call,
            workers=workers,
            maxsize=size,
            ordered=ordered,
            drops_items=not policy.is_plain,
        )
        return _ThreadMapIterator(run, iter(items))

    def reference(items: list[T]) -> list[U]:
        results = [call(item) for item in items]
        return [r for r in results if r is not SKIPPED]

    return Stage(lazy, reference, label, comparison="exact" if ordered else "multiset")
