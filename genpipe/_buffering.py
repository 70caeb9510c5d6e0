"""Producer threads apart from the consumer: buffer, merge, timed batch, group_by."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, NoReturn, TypeVar

from genpipe._buckets import Buckets
from genpipe._channel import END, TIMEOUT, Channel
from genpipe._core import Base, Source, Stage, call_repr, source
from genpipe._threads import ConcurrentIterator, Crew
from genpipe._validate import check_callable, check_int, check_seconds

T = TypeVar("T")
K = TypeVar("K")
Out = TypeVar("Out")

#: How many items the timed ``group_by`` reads ahead of its buckets, without size.
GROUP_READ_AHEAD = 64


class _Pumped(ConcurrentIterator[Out], Generic[T, Out]):
    """One producer thread per upstream pumps items into a `Channel`."""

    def __init__(self, label: str, upstreams: list[Iterator[T]], maxsize: int):
        crew = Crew(label)
        super().__init__(crew, upstreams)
        self._channel: Channel[T] = Channel(crew, maxsize, len(upstreams))

    def _start(self) -> None:
        for upstream in self._upstreams:
            self._crew.start("producer", partial(self._channel.pump, upstream))

    def _end(self) -> NoReturn:
        """The channel is drained: close, and say why the stream ended."""
        self._raise_if_cancelled()
        self.close()
        raise StopIteration


class _ChannelIterator(_Pumped[T, T]):
    """Yields the channel's items as they come."""

    def __init__(self, label: str, upstreams: list[Iterator[T]], maxsize: int):
        super().__init__(label, upstreams, maxsize)
        self._items = self._channel.items

    def __next__(self) -> T:
        # The hot path: one atomic popleft, no lock, no extra call. Only this
        # thread takes items, so a non-empty deque cannot empty under us.
        items = self._items
        if not items:
            return self._wait_for_next(self._wait_for_item)
        item = items.popleft()
        if self._channel.producers_waiting:
            self._channel.after_take()
        return item

    def _wait_for_item(self) -> T:
        item = self._channel.get()
        if item is END:
            self._end()
        return item

    def _drop_buffered(self) -> None:
        # The hot path reads this deque; an empty one sends it to the slow
        # path, which reports the end or the cancellation.
        self._items = deque()


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
        lambda items: _ChannelIterator(label, [iter(items)], maxsize), list, label
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

    def open_merged() -> Iterator[T]:
        return _ChannelIterator(label, [iter(part) for part in parts], maxsize)

    def merged_eagerly() -> list[T]:
        return [item for part in parts for item in part.eager()]

    return Source(
        Base(
            open_merged,
            label,
            one_shot=False,
            materialise=merged_eagerly,
            comparison="multiset",
        )
    )


class _TimedBatchIterator(_Pumped[T, list[T]]):
    """Yields lists of up to ``size`` items, cut short ``max_wait`` after the first."""

    def __init__(
        self,
        label: str,
        upstream: Iterator[T],
        size: int,
        max_wait: float,
        clock: Callable[[], float],
    ):
        super().__init__(label, [upstream], maxsize=size)
        self._size = size
        self._max_wait = max_wait
        self._clock = clock
        self._held_error: BaseException | None = None

    def __next__(self) -> list[T]:
        return self._wait_for_next(self._next_batch)

    def _next_batch(self) -> list[T]:
        if self._held_error is not None:
            error, self._held_error = self._held_error, None
            raise error
        batch: list[T] = []
        deadline = None
        while len(batch) < self._size:
            try:
                item = self._channel.get(deadline, self._clock)
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
                self._end()
            if deadline is None:
                deadline = self._clock() + self._max_wait
            batch.append(item)
        return batch


def timed_batches(
    fixed: Stage[T, list[T]], size: int, max_wait: float, clock: Callable[[], float]
) -> Stage[T, list[T]]:
    """`batch` with ``max_wait``: a producer thread feeds a deadline-aware consumer.

    ``fixed`` is the plain ``batch(size)``, whose eager face it shares: the
    reference result groups by size alone.
    """
    max_wait = check_seconds("batch", "max_wait", max_wait, allow_zero=False)
    check_callable("batch", "clock", clock)
    label = call_repr("batch", size, max_wait=max_wait)
    return Stage(
        lambda items: _TimedBatchIterator(label, iter(items), size, max_wait, clock),
        fixed._eager,
        label,
        comparison="regrouped",
    )


class _TimedGroupIterator(_Pumped[tuple[T, K], tuple[K, list[T]]]):
    """Yields ``(key, items)`` buckets as `Buckets` hands them back, on ``clock``.

    The producer thread reads ``(item, key)`` pairs, so a bucket can expire
    while upstream is silent. ``sleep`` (None: wait on the channel, which an
    arriving item interrupts) is how the consumer waits for a deadline when
    nothing has arrived.
    """

    def __init__(
        self,
        label: str,
        pairs: Iterator[tuple[T, K]],
        buckets: Buckets[K, T],
        read_ahead: int,
        clock: Callable[[], float],
        sleep: Callable[[float], object] | None,
    ):
        super().__init__(label, [pairs], maxsize=read_ahead)
        self._buckets = buckets
        self._clock = clock
        self._sleep = sleep
        self._ready: deque[tuple[K, list[T]]] = deque()
        self._ended = False
        self._held_error: BaseException | None = None

    def __next__(self) -> tuple[K, list[T]]:
        return self._wait_for_next(self._next_group)

    def _next_group(self) -> tuple[K, list[T]]:
        ready, buckets, clock = self._ready, self._buckets, self._clock
        while not ready:
            if self._ended:
                if self._held_error is not None:
                    error, self._held_error = self._held_error, None
                    raise error
                self._end()
            ready.extend(buckets.expired(clock()))
            if ready:
                break
            try:
                arrival = self._arrival(buckets.deadline())
                if arrival is END:
                    if self._crew.cancelled:
                        self._end()
                    self._ended = True
                    ready.extend(buckets.rest())
                elif arrival is not TIMEOUT:
                    item, key = arrival
                    full = buckets.add(key, item, clock())
                    if full is not None:
                        ready.append((key, full))
            except Exception as exc:
                self._held_error = exc  # raised after the buckets held
                self._ended = True
                ready.extend(buckets.rest())
        return ready.popleft()

    def _arrival(self, deadline: float | None) -> Any:
        """The next pair, `END`, or `TIMEOUT` once ``deadline`` passed."""
        channel = self._channel
        if deadline is not None and self._sleep is not None and not channel.items:
            remaining = deadline - self._clock()
            if remaining > 0:
                self._sleep(remaining)
        return channel.get(deadline, self._clock)


def timed_groups(
    label: str,
    keyed: Callable[[Iterable[T]], Iterator[tuple[T, K]]],
    size: int | None,
    max_wait: float,
    clock: Callable[[], float],
    sleep: Callable[[float], object],
    reference: Callable[[list[T]], list[tuple[K, list[T]]]],
) -> Stage[T, tuple[K, list[T]]]:
    """`group_by` with ``max_wait``: ``keyed`` pairs read in a producer thread.

    ``reference`` is the eager face: it groups by size alone. The default
    `time.sleep` is replaced by a wait that an arriving item interrupts.
    """
    wait = None if sleep is time.sleep else sleep
    read_ahead = GROUP_READ_AHEAD if size is None else size

    def lazy(items: Iterable[T]) -> Iterator[tuple[K, list[T]]]:
        buckets: Buckets[K, T] = Buckets(size, max_wait)
        pairs = keyed(iter(items))
        return _TimedGroupIterator(label, pairs, buckets, read_ahead, clock, wait)

    return Stage(lazy, reference, label, comparison="regrouped")
