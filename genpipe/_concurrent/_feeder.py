"""The feeder: the one thread that reads a concurrent stage's upstream.

A feeder moves items from its upstream into a `Hub`, a bounded deque that
readers (worker threads, or the consumer itself) take them from. Items travel
through a `collections.deque`, whose ``append`` and ``popleft`` are atomic on
every build, so the hot path takes no lock: a side that finds nothing to do
registers its `Wakeup` and sleeps, and the other side wakes it when it sees a
registered sleeper. A waiting reader therefore gets each item at once, and
while readers are busy items pile up, up to the bound, at no cost per item.

The feeder owns its upstream: it is the only thread that advances it, and it
closes it (every plain stage between this concurrent stage and the previous
one, and that one's run) when it stops, so no generator is ever closed from a
thread that is executing it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any

from genpipe._concurrent._lifecycle import POLL_SECONDS, Crew, Wakeup, Worker
from genpipe._run import close_chain


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: What a reader gets from `Hub.take` once every feeder is done and drained.
END: Any = _Signal("END")
#: What a reader gets from `Hub.take` when its deadline passed first.
TIMEOUT: Any = _Signal("TIMEOUT")


class Hub:
    """Items in transit from feeders to readers, and who waits for whom.

    Two bounds pause a feeder: ``limit`` items waiting in ``items``, and
    ``window`` items read but not yet ``released`` by the reader (the mapping
    engine's read-ahead, which counts items being worked on too).
    """

    def __init__(self, crew: Crew, *, limit: int, feeders: int) -> None:
        self.crew = crew
        self.items: deque[Any] = deque()
        self.limit = limit
        # Feeders resume once the waiting items fall to half the bound, so a
        # full hub costs one wake-up per limit / 2 items.
        self.resume_at = limit // 2
        self.window: float = limit
        self.released = 0
        self.open_feeders = feeders
        #: An upstream's exception, raised to readers once the items before it
        #: are taken. Only the first is kept here; every one is in the crew.
        self.failure: BaseException | None = None
        #: The most items held at once: waiting here or, with a window, read
        #: and not yet released.
        self.high = 0
        #: Time the reader spent waiting for items.
        self.waited = 0.0
        self.readers_waiting: deque[Wakeup] = deque()
        self.feeders_waiting: deque[Wakeup] = deque()

    def take_failure(self) -> BaseException:
        """The upstream's failure, forgotten here (raise it without binding it)."""
        failure, self.failure = self.failure, None
        assert failure is not None
        return failure

    def wake_readers(self) -> None:
        waiting = self.readers_waiting
        while waiting:
            try:
                wakeup = waiting.popleft()
            except IndexError:  # another thread woke the last one
                return
            wakeup.wake()

    def wake_feeders(self) -> None:
        waiting = self.feeders_waiting
        while waiting:
            try:
                wakeup = waiting.popleft()
            except IndexError:
                return
            wakeup.wake()

    def after_take(self) -> None:
        """Let waiting feeders go on once readers have made enough room."""
        if len(self.items) <= self.resume_at:
            self.wake_feeders()

    def release(self, count: int) -> None:
        """``count`` items read ahead are done with: room for the feeder's window."""
        self.released += count
        if self.feeders_waiting:
            self.wake_feeders()

    def feed(self, segment: list[Iterator[Any]], worker: Worker) -> None:
        """A feeder thread's body: move the segment's items in until it ends or stops.

        ``segment`` is every iterator between the previous concurrent stage
        (or the base) and this one, newest last; the feeder reads the last and
        closes them all when it is done.
        """
        crew, items, upstream = self.crew, self.items, segment[-1]
        append = items.append
        windowed = self.window != float("inf")
        pulled = 0
        worker.busy = True
        try:
            for item in upstream:
                append(item)
                pulled += 1
                if self.readers_waiting:
                    self.wake_readers()
                held = pulled - self.released if windowed else len(items)
                if held > self.high:
                    self.high = held
                if len(items) >= self.limit or held >= self.window:
                    self._wait_for_room(worker, pulled)
                if crew.stopping:
                    return
        except BaseException as exc:  # handed to the readers, never lost
            self._upstream_failed(exc)
        finally:
            worker.busy = False
            with crew.lock:
                self.open_feeders -= 1
            self.wake_readers()
            close_chain(segment)

    def _full(self, pulled: int) -> bool:
        return len(self.items) > self.resume_at or pulled - self.released >= self.window

    def _wait_for_room(self, worker: Worker, pulled: int) -> None:
        crew, wakeup = self.crew, worker.wakeup
        worker.busy = False
        while not crew.stopping and self._full(pulled):
            self.feeders_waiting.append(wakeup)
            # Look again after registering: a reader that made room before it
            # could see us registered would otherwise never wake us.
            if self._full(pulled) and not crew.stopping:
                wakeup.wait()
        worker.busy = True

    def _upstream_failed(self, exc: BaseException) -> None:
        crew = self.crew
        # Stopping an upstream concurrent stage makes it raise this; it is
        # ours, not a failure.
        if crew.stopping and isinstance(exc, CancelledError):
            return
        exc.add_note(f"raised by the upstream of {crew.label}, read in a thread")
        crew.failed(exc)
        with crew.lock:
            if self.failure is None:
                self.failure = exc

    def take(self, wakeup: Wakeup) -> Any:
        """The next item for the one reader that sleeps on ``wakeup``; `END`, or raises.

        An upstream's exception is raised once the items that arrived before
        it are taken.
        """
        items = self.items
        item = items.popleft() if items else self.wait_for_item(wakeup)
        if self.feeders_waiting:
            self.after_take()
        return item

    def wait_for_item(
        self,
        wakeup: Wakeup,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
    ) -> Any:
        """Wait until an item has arrived, then take it; or `END`, `TIMEOUT`, raise.

        ``deadline`` is on ``clock``'s scale. Without ``sleep`` the wait is in
        real time and an arriving item ends it at once; with it, the reader
        calls ``sleep`` to let the deadline come, which is how a fake clock
        keeps tests from waiting.
        """
        crew, items = self.crew, self.items
        while not items:
            if self.failure is not None:
                raise self.take_failure()
            if self.open_feeders == 0 or crew.stopping:
                return END
            timeout = POLL_SECONDS
            if deadline is not None:
                remaining = deadline - clock()
                if remaining <= 0:
                    return TIMEOUT
                if sleep is not None:
                    # Let the injected clock's time pass, then wait (in real
                    # time, woken by an arrival) only for items.
                    sleep(remaining)
                    if deadline - clock() <= 0:
                        return TIMEOUT
                else:
                    timeout = min(timeout, remaining)
            self.readers_waiting.append(wakeup)
            if not items and self.open_feeders and not crew.stopping:
                started = time.perf_counter()
                wakeup.wait(timeout)
                self.waited += time.perf_counter() - started
        return items.popleft()
