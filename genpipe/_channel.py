"""A bounded hand-off from producer threads to one consumer, one item at a time.

Items travel through a `collections.deque`, whose ``append`` and ``popleft``
are atomic, so the hot path takes no lock: a side takes the lock only to
sleep, or to wake the other side when a flag says it sleeps. That makes the
hand-off adaptive without batching: a waiting consumer gets each item at
once, and while it is busy items simply pile up (up to ``maxsize``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from genpipe._threads import POLL_SECONDS, Crew

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
    """

    def __init__(self, crew: Crew, maxsize: int, producers: int) -> None:
        self._crew = crew
        #: The items in transit; consumers may ``popleft`` directly, then
        #: call `after_take` if `producers_waiting`.
        self.items: deque[T] = deque()
        self._maxsize = maxsize
        # Producers resume only once the consumer has taken half the items,
        # so a full channel costs one wake-up per maxsize / 2 items.
        self._resume_at = maxsize // 2
        self._open_producers = producers
        self._failure: BaseException | None = None
        self._ready = crew.condition()
        self._room = crew.condition()
        # Read without the lock on the hot path; written under it. With the
        # GIL, "set flag, then re-check" on one side and "change the deque,
        # then read the flag" on the other cannot both miss each other.
        self._consumer_waiting = False
        self.producers_waiting = 0

    def pump(self, upstream: Iterator[T], label: str) -> None:
        """Producer thread body: move ``upstream``'s items in until it ends or stops."""
        crew, items, maxsize = self._crew, self.items, self._maxsize
        append = items.append
        try:
            for item in upstream:
                append(item)
                if self._consumer_waiting:
                    self._wake_consumer()
                if len(items) >= maxsize:
                    self._wait_for_room()
                if crew.stopping:
                    return
        except BaseException as exc:  # handed to the consumer, never lost
            exc.add_note(f"raised by the upstream of {label}, read in a thread")
            with crew.lock:
                crew.failures.append(exc)
                if self._failure is None:
                    self._failure = exc
                crew.stopping = True
                self._room.notify_all()
        finally:
            with crew.lock:
                self._open_producers -= 1
                self._ready.notify()

    def _wait_for_room(self) -> None:
        crew = self._crew
        with crew.lock:
            while len(self.items) > self._resume_at and not crew.stopping:
                self.producers_waiting += 1
                self._room.wait(POLL_SECONDS)

    def _wake_consumer(self) -> None:
        # Clearing the flag here, not when the consumer wakes, means one
        # notify per wait rather than one per item added meanwhile.
        with self._crew.lock:
            if self._consumer_waiting:
                self._consumer_waiting = False
                self._ready.notify()

    def _wake_producers(self) -> None:
        with self._crew.lock:
            if self.producers_waiting:
                self.producers_waiting = 0
                self._room.notify_all()

    def get(
        self,
        deadline: float | None = None,
        clock: Callable[[], float] | None = None,
    ) -> T:
        """The next item, `END` when all producers are done, or `TIMEOUT`.

        ``deadline`` is on ``clock``'s scale. Raises a producer's exception
        once the items that arrived before it are taken.
        """
        try:
            item = self.items.popleft()
        except IndexError:
            item = self._wait_for_item(deadline, clock)
        if self.producers_waiting:
            self.after_take()
        return item

    def after_take(self) -> None:
        """Let waiting producers go on once the consumer has made enough room."""
        if len(self.items) <= self._resume_at:
            self._wake_producers()

    def _wait_for_item(
        self, deadline: float | None, clock: Callable[[], float] | None
    ) -> T:
        crew = self._crew
        with crew.lock:
            try:
                while not self.items:
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
                    self._ready.wait(timeout)
            finally:
                self._consumer_waiting = False
            return self.items.popleft()
