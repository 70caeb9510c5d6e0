"""A bounded hand-off from producer threads to one consumer, one item at a time.

Items travel through a `collections.deque`, whose ``append`` and ``popleft``
are atomic, so the hot path takes no lock: a side that finds nothing to do
raises a flag and sleeps on a `Wakeup`, and the other side wakes it when it
sees the flag. That makes the hand-off adaptive without batching: a waiting
consumer gets each item at once, and while it is busy items pile up (up to
``maxsize``) at no cost per item.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from genpipe._threads import POLL_SECONDS, Crew, Wakeup

T = TypeVar("T")


class _Signal:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


#: Returned by `Channel.get` when every producer has finished.
END: Any = _Signal("END")
#: Returned by `Channel.get` when its deadline passed first.
TIMEOUT: Any = _Signal("TIMEOUT")


class Channel(Generic[T]):
    """Producers `pump` upstream iterators in; one consumer calls `get`.

    At most ``maxsize`` items wait in the channel (one more per extra
    producer, since producers check the bound after adding). A failing
    producer stops the others; the consumer gets every item that arrived
    before the failure, then the exception.

    The flags are read without the lock. Under the GIL, "raise the flag,
    then re-check" on one side and "change the deque, then read the flag"
    on the other cannot both miss each other, so no wake-up is lost.
    """

    def __init__(self, crew: Crew, maxsize: int, producers: int) -> None:
        self._crew = crew
        #: The items in transit; a consumer may ``popleft`` directly, then
        #: call `after_take` if `producers_waiting` is set.
        self.items: deque[T] = deque()
        self._maxsize = maxsize
        # Producers resume only once the consumer has taken half the items,
        # so a full channel costs one wake-up per maxsize / 2 items.
        self._resume_at = maxsize // 2
        self._open_producers = producers
        self._failure: BaseException | None = None
        self._consumer_wakeup = crew.wakeup()
        self._consumer_waiting = False
        self._waiting_producers: list[Wakeup] = []
        self.producers_waiting = False

    def pump(self, upstream: Iterator[T]) -> None:
        """Producer thread body: move ``upstream``'s items in until it ends or stops."""
        crew, items, maxsize = self._crew, self.items, self._maxsize
        append = items.append
        room = crew.wakeup()
        try:
            for item in upstream:
                append(item)
                if self._consumer_waiting:
                    self._wake_consumer()
                if len(items) >= maxsize:
                    self._wait_for_room(room)
                if crew.stopping:
                    return
        except BaseException as exc:  # handed to the consumer, never lost
            if crew.upstream_failed(exc):
                if self._failure is None:
                    self._failure = exc
                crew.stop()
        finally:
            with crew.lock:
                self._open_producers -= 1
            self._consumer_wakeup.wake()

    def _wait_for_room(self, room: Wakeup) -> None:
        crew = self._crew
        while len(self.items) > self._resume_at and not crew.stopping:
            with crew.lock:
                self._waiting_producers.append(room)
                self.producers_waiting = True
            if len(self.items) > self._resume_at and not crew.stopping:
                room.wait(POLL_SECONDS)

    def _wake_consumer(self) -> None:
        # Clearing the flag here, not when the consumer wakes, means one
        # wake per wait rather than one per item added meanwhile.
        self._consumer_waiting = False
        self._consumer_wakeup.wake()

    def get(
        self,
        deadline: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> T:
        """The next item, `END` when all producers are done, or `TIMEOUT`.

        ``deadline`` is on ``clock``'s scale. Raises a producer's exception
        once the items that arrived before it are taken.
        """
        # Tested rather than caught: raising from inside an `except` block
        # would make the IndexError the context of a producer's exception.
        items = self.items
        item = items.popleft() if items else self._wait_for_item(deadline, clock)
        if self.producers_waiting:
            self.after_take()
        return item

    def after_take(self) -> None:
        """Let waiting producers go on once the consumer has made enough room."""
        if len(self.items) <= self._resume_at:
            with self._crew.lock:
                waiting, self._waiting_producers = self._waiting_producers, []
                self.producers_waiting = False
            for room in waiting:
                room.wake()

    def _wait_for_item(
        self, deadline: float | None, clock: Callable[[], float] | None
    ) -> T:
        crew, items = self._crew, self.items
        try:
            while not items:
                if self._failure is not None:
                    raise self._failure
                if self._open_producers == 0 or crew.stopping:
                    return END  # type: ignore[no-any-return]
                timeout = POLL_SECONDS
                if deadline is not None:
                    assert clock is not None, "a deadline needs its clock"
                    remaining = deadline - clock()
                    if remaining <= 0:
                        return TIMEOUT  # type: ignore[no-any-return]
                    timeout = min(timeout, remaining)
                self._consumer_waiting = True
                if not items:
                    self._consumer_wakeup.wait(timeout)
        finally:
            self._consumer_waiting = False
        return items.popleft()
