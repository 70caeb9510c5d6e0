"""Producer threads decoupled from the consumer: `buffer`, `merge`, timed `batch`
and timed `group_by`.

Each upstream gets a feeder thread of its own, and the consumer takes items
straight from the `Hub` the feeders fill.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, TypeVar

from genpipe._buckets import Buckets
from genpipe._concurrent._feeder import END, TIMEOUT, Hub
from genpipe._concurrent._lifecycle import Crew
from genpipe._concurrent._outlet import StageOutlet
from genpipe._core import Base, Source, Stage, call_repr, source
from genpipe._errors import Policy
from genpipe._metrics import Figures
from genpipe._validate import check_callable, check_int, check_seconds

T = TypeVar("T")
K = TypeVar("K")
Out = TypeVar("Out")

#: How many items the timed ``group_by`` reads ahead of its buckets, without size.
GROUP_READ_AHEAD = 64


class _PumpedOutlet(StageOutlet[Out], Generic[T, Out]):
    """Feeders move each upstream into one hub; the consumer takes from it."""

    def __init__(self, label: str, maxsize: int, feeders: int = 1) -> None:
        crew = Crew(label)
        super().__init__(crew)
        self._hub = Hub(crew, limit=maxsize, feeders=feeders)
        self._hub.window = float("inf")
        self._wakeup = crew.wakeup()
        crew.on_stop(self._hub.wake_feeders)

    def _start(self, segment: list[Iterator[Any]]) -> None:
        self._crew.add("producer", partial(self._hub.feed, segment))
        self._crew.start()

    def _drop_buffered(self) -> None:
        self._hub.items.clear()

    def _figures(self) -> Figures:
        return Figures(wait_seconds=self._hub.waited, buffered_high=self._hub.high)


class _BufferOutlet(_PumpedOutlet[T, T]):
    """Yields the hub's items as they come."""

    def __init__(self, label: str, maxsize: int, feeders: int = 1) -> None:
        super().__init__(label, maxsize, feeders)
        self._items = self._hub.items

    def __next__(self) -> T:
        # The hot path: one atomic popleft, no lock. Only this thread takes
        # items, so a non-empty deque cannot empty under us.
        items = self._items
        if not items:
            return self._wait_for_item()
        item = items.popleft()
        if self._hub.feeders_waiting:
            self._hub.after_take()
        return item  # type: ignore[no-any-return]

    def _wait_for_item(self) -> T:
        self._begin()
        item = self._hub.take(self._wakeup)
        if item is END:
            self._ended()
        return item  # type: ignore[no-any-return]

    def _drop_buffered(self) -> None:
        super()._drop_buffered()
        # The hot path reads this deque; an empty one sends it to the slow
        # path, which reports the cancellation.
        self._items = deque()


class _MergeOutlet(_BufferOutlet[T]):
    """One feeder per source; the sources' runs are opened at the first ``next()``."""

    def __init__(self, label: str, sources: list[Source[T]], maxsize: int) -> None:
        super().__init__(label, maxsize, feeders=len(sources))
        self._sources = sources

    def _start(self, segment: list[Iterator[Any]]) -> None:
        runs: list[Iterator[Any]] = [iter(part) for part in self._sources]
        # Adopted as the segment so that stopping the merge stops them too.
        self._adopt(runs)
        for run in runs:
            self._crew.add("producer", partial(self._hub.feed, [run]))
        self._crew.start()


def buffer(maxsize: int = 64) -> Stage[T, T]:
    """Run the upstream in its own producer thread, up to ``maxsize`` items ahead.

    It turns a slow source (a network reader, a parser) into a prefetching
    one: while the consumer works on one item, the next ones are already
    being produced. A bigger ``maxsize`` absorbs burstier producers at the
    cost of memory; when the buffer is full the producer waits. Order is
    kept. A waiting consumer receives each item as soon as it is produced.

    Sharp edge: the upstream is advanced in another thread, so it must not
    rely on thread-local state of the consumer's thread.

    >>> import genpipe as gp
    >>> range(5) | gp.buffer(maxsize=2) | gp.map(str) | gp.to_list()
    ['0', '1', '2', '3', '4']
    """
    check_int("buffer", "maxsize", maxsize, minimum=1)
    label = "buffer()" if maxsize == 64 else call_repr("buffer", maxsize=maxsize)
    return Stage(
        lambda items: _BufferOutlet(label, maxsize), list, label, concurrent=True
    )


def merge(*sources: Iterable[T], maxsize: int = 64) -> Source[T]:
    """Interleave several sources, each read by its own thread, in arrival order.

    The merged stream ends when every source has ended; an exception in any
    source stops the others and reaches the consumer after the items that
    arrived before it. At most ``maxsize`` items (plus one per source) wait
    to be consumed.

    >>> import genpipe as gp
    >>> sorted(gp.merge([1, 2], [10, 20], range(3)) | gp.to_list())
    [0, 1, 1, 2, 2, 10, 20]
    """
    if not sources:
        raise ValueError("merge() needs at least one source")
    check_int("merge", "maxsize", maxsize, minimum=1)
    parts = [source(each) for each in sources]
    options = {"maxsize": maxsize} if maxsize != 64 else {}
    label = call_repr("merge", *parts, **options)

    def merged_eagerly() -> list[T]:
        return [item for part in parts for item in part.eager()]

    return Source(
        Base(
            lambda: _MergeOutlet(label, parts, maxsize),
            label,
            one_shot=False,
            materialise=merged_eagerly,
            comparison="multiset",
            sources=tuple(parts),
        )
    )


class _TimedOutlet(_PumpedOutlet[T, Out]):
    """Groups that a deadline on ``clock`` may cut short while upstream is silent.

    ``sleep`` (None: wait on the hub, which an arriving item interrupts) is
    how the consumer waits for a deadline when nothing has arrived. An
    upstream error is held while the group read before it is yielded.
    """

    def __init__(
        self,
        label: str,
        read_ahead: int,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None,
    ) -> None:
        super().__init__(label, maxsize=read_ahead)
        self._clock = clock
        self._sleep = sleep
        self._held_error: BaseException | None = None

    def _arrival(self, deadline: float | None) -> Any:
        """The next item, `END`, or `TIMEOUT` once ``deadline`` passed."""
        hub = self._hub
        items = hub.items
        if items:
            arrival = items.popleft()
        else:
            arrival = hub.wait_for_item(
                self._wakeup, deadline, self._clock, self._sleep
            )
        if hub.feeders_waiting:
            hub.after_take()
        return arrival

    def _take_held_error(self) -> BaseException:
        error, self._held_error = self._held_error, None
        assert error is not None
        return error


class _TimedBatchOutlet(_TimedOutlet[T, list[T]]):
    """Yields lists of up to ``size`` items, cut short ``max_wait`` after the first."""

    def __init__(
        self,
        label: str,
        size: int,
        max_wait: float,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None,
    ) -> None:
        super().__init__(label, size, clock, sleep)
        self._size = size
        self._max_wait = max_wait

    def __next__(self) -> list[T]:
        self._begin()
        if self._held_error is not None:
            raise self._take_held_error()
        batch = list[T]()
        deadline = None
        while len(batch) < self._size:
            try:
                item = self._arrival(deadline)
            except Exception as exc:
                if not batch:
                    raise
                self._held_error = exc  # raised after the partial batch
                break
            if item is TIMEOUT:
                break
            if item is END:
                if batch and not self._crew.cancelled:
                    break
                self._ended()
            if deadline is None:
                deadline = self._clock() + self._max_wait
            batch.append(item)
        return batch


def timed_batches(
    fixed: Stage[T, list[T]],
    size: int,
    max_wait: float,
    clock: Callable[[], float],
    sleep: Callable[[float], object] | None,
) -> Stage[T, list[T]]:
    """`batch` with ``max_wait``: a producer thread feeds a deadline-aware consumer.

    ``fixed`` is the plain ``batch(size)``, whose eager face it shares: the
    reference result groups by size alone.
    """
    max_wait = check_seconds("batch", "max_wait", max_wait, allow_zero=False)
    check_callable("batch", "clock", clock)
    if sleep is not None:
        check_callable("batch", "sleep", sleep)
    elif clock is not time.monotonic:
        raise ValueError(
            "batch() with a clock= needs sleep= too, to wait on that clock "
            "(e.g. a fake sleep that advances a fake clock)"
        )
    label = call_repr("batch", size, max_wait=max_wait)
    return Stage(
        lambda items: _TimedBatchOutlet(label, size, max_wait, clock, sleep),
        fixed._eager,
        label,
        comparison="regrouped",
        concurrent=True,
    )


class _TimedGroupOutlet(_TimedOutlet[tuple[T, K], tuple[K, list[T]]]):
    """Yields ``(key, items)`` buckets as `Buckets` hands them back, on ``clock``.

    The producer thread reads ``(item, key)`` pairs, so a bucket can expire
    while upstream is silent.
    """

    def __init__(
        self,
        label: str,
        keyed: Callable[[Iterable[T]], Iterator[tuple[T, K]]],
        buckets: Buckets[K, T],
        read_ahead: int,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None,
    ) -> None:
        super().__init__(label, read_ahead, clock, sleep)
        self._keyed = keyed
        self._buckets = buckets
        self._ready: deque[tuple[K, list[T]]] = deque()
        self._upstream_done = False

    def _start(self, segment: list[Iterator[Any]]) -> None:
        # The keys are computed in the feeder thread, next to the reading.
        super()._start([*segment, self._keyed(segment[-1])])

    def __next__(self) -> tuple[K, list[T]]:
        self._begin()
        ready, buckets, clock = self._ready, self._buckets, self._clock
        while not ready:
            if self._upstream_done:
                if self._held_error is not None:
                    raise self._take_held_error()
                self._ended()
            ready.extend(buckets.expired(clock()))
            if ready:
                break
            try:
                arrival = self._arrival(buckets.deadline())
                if arrival is END:
                    if self._crew.cancelled:
                        self._ended()
                    self._upstream_done = True
                    ready.extend(buckets.rest())
                elif arrival is not TIMEOUT:
                    item, key = arrival
                    full = buckets.add(key, item, clock())
                    if full is not None:
                        ready.append((key, full))
            except Exception as exc:
                self._held_error = exc  # raised after the buckets held
                self._upstream_done = True
                ready.extend(buckets.rest())
        return ready.popleft()


def timed_groups(
    label: str,
    keyed: Callable[[Iterable[T]], Iterator[tuple[T, K]]],
    size: int | None,
    max_wait: float,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
    reference: Callable[[list[T]], list[tuple[K, list[T]]]],
    policy: Policy,
) -> Stage[T, tuple[K, list[T]]]:
    """`group_by` with ``max_wait``: ``keyed`` pairs read in a producer thread.

    ``reference`` is the eager face: it groups by size alone. The default
    `time.sleep` is replaced by a wait that an arriving item interrupts.
    """
    wait = None if sleep is time.sleep else sleep
    read_ahead = GROUP_READ_AHEAD if size is None else size

    def lazy(items: Iterable[T]) -> Iterator[tuple[K, list[T]]]:
        buckets: Buckets[K, T] = Buckets(size, max_wait)
        return _TimedGroupOutlet(label, keyed, buckets, read_ahead, clock, wait)

    return Stage(
        lazy,
        reference,
        label,
        comparison="regrouped",
        policy=policy,
        concurrent=True,
    )
