"""Thread lifecycle for every concurrent stage: start, stop, join, hand errors over.

Each run of a concurrent stage owns one `Crew` (its threads, one lock, a stop
flag) and is consumed through a `ConcurrentIterator`, whose `close` stops and
joins the crew. Threads never hold a reference to the iterator, so dropping
the iterator lets the garbage collector close it.

Worker threads are daemon threads: a user function that never returns must
not keep the interpreter alive at exit. Every normal way of finishing —
exhaustion, ``close()``, ``break``, an exception, garbage collection — still
joins them, and an ``atexit`` hook stops the crews a script abandoned.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import reprlib
import sys
import threading
import time
import weakref
from abc import abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any, TypeVar

T = TypeVar("T")

log = logging.getLogger("genpipe")

#: How long a blocked wait sleeps before it re-checks for a stop request. It
#: bounds how stale a missed wake-up can be, and keeps waits interruptible.
POLL_SECONDS = 0.1
#: How long the exit hook waits for one abandoned crew before giving up on it.
EXIT_JOIN_SECONDS = 1.0
#: How long a cancelled consumer waits for threads stuck in user code; they
#: finish that call in the background, then exit.
CANCEL_JOIN_SECONDS = 0.1

_thread_numbers = itertools.count(1)
_live_crews: weakref.WeakSet[Crew] = weakref.WeakSet()
_item_repr = reprlib.Repr()
_item_repr.maxstring = _item_repr.maxother = 60


class Wakeup:
    """A one-slot wake-up call for one waiting thread; far cheaper than a Condition.

    `wait` sleeps until `wake` is called or ``timeout`` passes. A wake with
    nobody waiting is kept for the next `wait`, so a waiter must re-check
    what it waits for in a loop; in exchange, a wake can never be lost.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wait(self, timeout: float) -> None:
        self._lock.acquire(timeout=timeout)

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # already woken
            self._lock.release()


class Crew:
    """The threads of one run of a concurrent stage, and how to stop them."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.lock = threading.Lock()
        self.stopping = False
        self.cancelled = False
        #: Every exception a thread handed over, in the order they happened.
        self.failures: list[BaseException] = []
        self._surfaced = 0
        self._conditions: list[threading.Condition] = []
        self._wakeups: list[Wakeup] = []
        self._threads: list[threading.Thread] = []

    def condition(self) -> threading.Condition:
        """A condition on the crew's lock that `stop` wakes."""
        condition = threading.Condition(self.lock)
        self._conditions.append(condition)
        return condition

    def wakeup(self) -> Wakeup:
        """A `Wakeup` that `stop` wakes."""
        wakeup = Wakeup()
        self._wakeups.append(wakeup)
        return wakeup

    def start(self, role: str, target: Callable[[], None]) -> None:
        """Start a daemon thread named ``genpipe-<role>-<n>`` running ``target``."""
        thread = threading.Thread(
            target=target, name=f"genpipe-{role}-{next(_thread_numbers)}", daemon=True
        )
        self._threads.append(thread)
        _live_crews.add(self)
        thread.start()

    def stop(self, *, cancel: bool = False) -> None:
        """Ask every thread to finish and wake everyone waiting.

        Safe from any thread, even from a signal handler that interrupted a
        thread holding the lock: it then gives up notifying the conditions,
        and their waiters see the flag within `POLL_SECONDS`.
        """
        self.cancelled = self.cancelled or cancel
        self.stopping = True
        for wakeup in list(self._wakeups):
            wakeup.wake()
        if self.lock.acquire(timeout=POLL_SECONDS):
            try:
                for condition in self._conditions:
                    condition.notify_all()
            finally:
                self.lock.release()

    def upstream_failed(self, exc: BaseException) -> bool:
        """Record ``exc``, raised while a crew thread read upstream; False to ignore it.

        The CancelledError that stopping causes in an upstream concurrent
        stage is ours, not a failure.
        """
        if self.stopping and isinstance(exc, CancelledError):
            return False
        exc.add_note(f"raised by the upstream of {self.label}, read in a thread")
        with self.lock:
            self.failures.append(exc)
        return True

    def surface(self, exc: BaseException) -> BaseException:
        """Prepare ``exc`` to be raised in the consumer; the others become notes.

        No failure is silently dropped: those that happen after this call
        are logged by `log_unsurfaced`.
        """
        with self.lock:
            others = [other for other in self.failures if other is not exc]
            self._surfaced = len(self.failures)
        for other in others:
            exc.add_note(f"{self.label} also failed: {other!r}")
        return exc

    def log_unsurfaced(self) -> None:
        with self.lock:
            late = self.failures[self._surfaced :]
            self._surfaced = len(self.failures)
        for exc in late:
            log.warning(
                "%s also failed after the run stopped", self.label, exc_info=exc
            )

    def join(self, timeout: float | None = None) -> bool:
        """Wait for every thread to end (the caller's own excepted); True if all did.

        ``timeout`` bounds the whole wait, not each thread's.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        current = threading.current_thread()
        for thread in self._threads:
            if thread is not current:
                remaining = None if deadline is None else deadline - time.monotonic()
                thread.join(None if remaining is None else max(remaining, 0))
        finished = not any(t.is_alive() for t in self._threads if t is not current)
        if finished:
            _live_crews.discard(self)
        return finished


@atexit.register
def _stop_abandoned_crews() -> None:
    # Runs before daemon threads are frozen, so crews that a script abandoned
    # (e.g. a half-read iterator in a module global) get to stop cleanly.
    crews = list(_live_crews)
    for crew in crews:
        crew.stop()
    for crew in crews:
        crew.join(EXIT_JOIN_SECONDS)


def item_note(label: str, item: object) -> str:
    """The PEP 678 note that names the stage and item behind an exception."""
    return f"raised by {label} for item {_item_repr.repr(item)}"


def as_error(exc: BaseException, label: str) -> BaseException:
    """Turn a StopIteration escaping user code into a RuntimeError, as PEP 479 does.

    A StopIteration travelling to the consumer would end its loop silently.
    """
    if isinstance(exc, StopIteration):
        error = RuntimeError(f"{label}: the function raised StopIteration")
        error.__cause__ = exc
        return error
    return exc


class ConcurrentIterator(Iterator[T]):
    """The consumer's end of a concurrent stage's run.

    Threads start at the first ``next()``. ``close()`` (also on exhaustion,
    error, garbage collection) stops and joins them and closes the upstream
    iterators; ``cancel()`` may be called from any thread and makes a
    consumer blocked in ``next()`` raise `concurrent.futures.CancelledError`.
    """

    def __init__(self, crew: Crew, upstreams: list[Iterator[Any]]) -> None:
        self._crew = crew
        self._upstreams = upstreams
        self._started = False
        self._closed = False
        self._owner: threading.Thread | None = None

    def __iter__(self) -> ConcurrentIterator[T]:
        return self

    @abstractmethod
    def _start(self) -> None:
        """Start the crew's threads; called once, at the first ``next()``."""

    def _begin_wait(self) -> None:
        """Start the threads if needed; fail fast if the run is over."""
        if self._closed:
            raise StopIteration
        if not self._started:
            self._started = True
            self._owner = threading.current_thread()
            self._start()
        self._raise_if_cancelled()

    def _raise_if_cancelled(self) -> None:
        if self._crew.cancelled:
            self._shut_down(CANCEL_JOIN_SECONDS)
            raise CancelledError(f"{self._crew.label} was cancelled")

    def _wait_for_next(self, step: Callable[[], T]) -> T:
        """Run the slow path of ``next()``: start if needed, then ``step()``.

        Any exception but StopIteration — a user's, a cancellation, a
        KeyboardInterrupt while waiting — closes the run before it propagates.
        """
        try:
            self._begin_wait()
            return step()
        except StopIteration:
            raise
        except BaseException as exc:
            self._crew.surface(exc)
            self.close()
            raise

    def cancel(self) -> None:
        """Stop the run from any thread; the consumer's next ``next()`` raises.

        A consumer blocked in ``next()`` wakes at once; results already
        handed over but not yet taken are dropped. Concurrent stages
        upstream are cancelled too.
        """
        self._crew.stop(cancel=True)
        self._drop_buffered()
        self._cancel_upstreams()

    def _drop_buffered(self) -> None:
        """Forget results waiting for the consumer, so the next ``next()`` stops."""

    def _cancel_upstreams(self) -> None:
        # Our threads may be blocked in an upstream concurrent stage's
        # next(); cancelling it wakes them (they ignore the CancelledError).
        for upstream in self._upstreams:
            if isinstance(upstream, ConcurrentIterator):
                upstream.cancel()

    def close(self) -> None:
        """Stop and join every thread of this run and close its upstreams.

        Call it from the consuming thread (use `cancel` from others). It
        returns once each worker has finished the call it is in.
        """
        if self._closed:
            return
        owner = self._owner
        if (
            owner is not None
            and owner is not threading.current_thread()
            and owner.is_alive()
        ):
            raise ValueError(
                f"{self._crew.label}: close() must be called by the thread "
                "that iterates it; call cancel() from other threads"
            )
        self._shut_down(None)

    def _shut_down(self, join_timeout: float | None) -> None:
        self._closed = True
        self._crew.stop()
        self._drop_buffered()
        self._cancel_upstreams()
        # An upstream still being advanced by a stuck thread cannot be closed
        # from here; it is closed when that thread lets go of it.
        if self._crew.join(join_timeout):
            for upstream in self._upstreams:
                close = getattr(upstream, "close", None)
                if close is not None:
                    close()
        self._crew.log_unsurfaced()

    def __del__(self) -> None:
        if not self._started or self._closed:
            return
        if sys.is_finalizing():
            self._crew.stop()
            return
        self._owner = None
        self.close()
