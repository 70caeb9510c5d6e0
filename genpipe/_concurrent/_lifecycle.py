"""How the threads of one concurrent stage start, stop, end and report failures.

Each run of a concurrent stage owns one `Crew`. Stopping a crew never blocks
and never takes a lock, so it is safe from a finaliser, which the garbage
collector may run in any thread at any allocation — including a thread of
this very crew, holding one of its locks. Waiting for the threads to end
(`Crew.join`) is only ever done by the consumer, never by a finaliser.

Worker threads are daemon threads: a user function that never returns must
not keep the interpreter alive. Every exit path of a run stops its crews; a
thread inside a user call is never waited for (it finishes the call in the
background, drops the result and ends), and an ``atexit`` hook stops the
crews that a script abandoned.
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import reprlib
import threading
import time
import weakref
from collections.abc import Callable

log = logging.getLogger("genpipe")
log.addHandler(logging.NullHandler())

#: The longest any wait sleeps before it looks again at what it waits for. A
#: wake-up always comes first; this only bounds the cost of one that a
#: free-threaded build let two threads miss.
POLL_SECONDS = 0.05
#: How long `Crew.join` waits for a thread that is inside a user call before
#: it leaves the thread to finish that call on its own.
BUSY_GRACE_SECONDS = 0.01
#: How long the exit hook waits for the crews a script abandoned.
EXIT_JOIN_SECONDS = 1.0

_thread_numbers = itertools.count(1)
_live_crews: weakref.WeakSet[Crew] = weakref.WeakSet()
#: Bumped in a forked child: a crew started in an older generation has no
#: threads in this process.
_fork_generation = 0
_item_repr = reprlib.Repr()
_item_repr.maxstring = _item_repr.maxother = 60


class Wakeup:
    """A one-slot wake-up call for one waiting thread; far cheaper than a Condition.

    `wait` sleeps until `wake` is called or ``timeout`` passes. A wake with
    nobody waiting is kept for the next `wait`, so a waiter re-checks what it
    waits for in a loop; in exchange a wake is never lost, and `wake` never
    blocks, from any thread, even a finaliser's.
    """

    __slots__ = ("_lock",)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()

    def wait(self, timeout: float = POLL_SECONDS) -> None:
        self._lock.acquire(timeout=timeout)

    def wake(self) -> None:
        # No module global here: a finaliser at interpreter exit may call it.
        try:  # noqa: SIM105 - contextlib may be gone when a finaliser calls this
            self._lock.release()
        except RuntimeError:  # already woken
            pass


class Worker:
    """One thread of a crew, and whether it is inside a user call right now."""

    __slots__ = ("busy", "busy_seconds", "thread", "wakeup")

    def __init__(self, thread: threading.Thread) -> None:
        self.thread = thread
        self.wakeup = Wakeup()
        #: True while the thread runs user code (a function, an upstream's
        #: ``next()``); `Crew.join` does not wait for such a thread for long.
        self.busy = False
        #: Time spent in user calls so far, for a metered run's figures.
        self.busy_seconds = 0.0


class Crew:
    """The threads of one run of a concurrent stage, and the failures they hand over.

    `stop` is the only way to end them; `failed` is the one place where a
    thread records an exception for the consumer.
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.lock = threading.Lock()
        self.stopping = False
        self.cancelled = False
        self.generation = _fork_generation
        self._workers: list[Worker] = []
        self._extra_wakeups: list[Wakeup] = []
        self._stop_hooks: list[Callable[[], None]] = []
        self._failures: list[BaseException] = []

    # -- starting --------------------------------------------------------

    def add(self, role: str, target: Callable[[Worker], None]) -> Worker:
        """Create (not start) a daemon thread ``genpipe-<role>-<n>`` for ``target``."""
        holder: list[Worker] = []
        thread = threading.Thread(
            target=lambda: target(holder[0]),
            name=f"genpipe-{role}-{next(_thread_numbers)}",
            daemon=True,
        )
        worker = Worker(thread)
        holder.append(worker)
        self._workers.append(worker)
        return worker

    def wakeup(self) -> Wakeup:
        """A `Wakeup` for a thread outside the crew (the consumer); `stop` wakes it."""
        wakeup = Wakeup()
        self._extra_wakeups.append(wakeup)
        return wakeup

    def on_stop(self, hook: Callable[[], None]) -> None:
        """Call ``hook`` (it must not block) when the crew is stopped."""
        self._stop_hooks.append(hook)

    def start(self) -> None:
        """Start every thread `add` created."""
        _live_crews.add(self)
        for worker in self._workers:
            worker.thread.start()

    # -- stopping --------------------------------------------------------

    def stop(self, *, cancel: bool = False) -> None:
        """Ask every thread to finish, and wake everyone waiting. Never blocks."""
        if cancel:
            self.cancelled = True
        if self.stopping:
            return
        self.stopping = True
        for worker in self._workers:
            worker.wakeup.wake()
        for wakeup in self._extra_wakeups:
            wakeup.wake()
        for hook in self._stop_hooks:
            hook()

    def join(self) -> None:
        """Wait for the threads to end, except those stuck in a user call.

        A thread inside a user call gets `BUSY_GRACE_SECONDS` in all to come
        out; then it is left to finish that call in the background.
        """
        grace_ends = time.monotonic() + BUSY_GRACE_SECONDS
        current = threading.current_thread()
        for worker in self._workers:
            thread = worker.thread
            if thread is current or thread.ident is None:
                continue
            while thread.is_alive():
                if worker.busy and time.monotonic() >= grace_ends:
                    break
                thread.join(BUSY_GRACE_SECONDS / 4)
        if not any(w.thread.is_alive() for w in self._workers):
            _live_crews.discard(self)

    def busy_seconds(self) -> float:
        """Time the crew's threads spent in user calls so far."""
        return sum(worker.busy_seconds for worker in self._workers)

    def forked_away(self) -> bool:
        """True in a child process forked after this crew started."""
        return self.generation != _fork_generation

    # -- failures --------------------------------------------------------

    def failed(self, exc: BaseException) -> None:
        """Record an exception a thread hands over; the one place that does."""
        with self.lock:
            self._failures.append(exc)

    def take_failures(self) -> list[BaseException]:
        """Every failure recorded so far, forgotten here so no cycle keeps them."""
        with self.lock:
            failures, self._failures = self._failures, []
        return failures


@atexit.register
def _stop_abandoned_crews() -> None:
    # Runs before daemon threads are frozen, so crews a script abandoned (a
    # half-read iterator in a module global) get to close their upstreams.
    crews = list(_live_crews)
    for crew in crews:
        crew.stop()
    deadline = time.monotonic() + EXIT_JOIN_SECONDS
    for crew in crews:
        for worker in crew._workers:
            if worker.thread.ident is not None:
                worker.thread.join(max(deadline - time.monotonic(), 0))


def _after_fork_in_child() -> None:
    global _fork_generation
    _fork_generation += 1
    _live_crews.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


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
