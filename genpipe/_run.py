"""`Run`: one run of a pipeline, owning every iterator of its chain.

``iter(source)``, ``stage(items)`` and ``source.open()`` all give a `Run`. It
holds each iterator the pipeline opened, so however many plain stages sit
between concurrent ones, closing the run, an exception leaving ``next()``,
``cancel()``, garbage collection and interpreter exit reach every concurrent
stage of the chain.
"""

from __future__ import annotations

import itertools
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, TypeGuard, TypeVar

from genpipe._concurrent._lifecycle import log
from genpipe._metrics import (
    Figures,
    Meter,
    MetricsTable,
    Observed,
    Tally,
    counted,
)

if TYPE_CHECKING:
    from genpipe._core import Stage

T = TypeVar("T")


class Concurrent(ABC):
    """What a run needs of a part of its chain that has threads of its own."""

    __slots__ = ()

    @abstractmethod
    def _stop(self, *, cancel: bool) -> None:
        """Ask the threads to finish, here and upstream. Never blocks; safe anywhere."""

    @abstractmethod
    def _join(self) -> None:
        """Wait for the stopped threads, except those stuck in a user call."""

    @abstractmethod
    def _take_failures(self) -> list[BaseException]:
        """Failures recorded by the threads and not yet handed over."""

    @property
    @abstractmethod
    def _owner(self) -> threading.Thread | None:
        """The thread that started consuming it, if any."""


class Outlet(Concurrent):
    """The consumer's end of one concurrent stage, as `open_run` wires it."""

    __slots__ = ()

    @abstractmethod
    def _adopt(self, segment: list[Iterator[Any]]) -> None:
        """Take the iterators this stage's feeder reads (the last) and closes (all)."""

    @abstractmethod
    def _figures(self) -> Figures:
        """What the stage measured of itself so far, for a metered run."""


# The chain's C-level next() is the whole per-item cost of a plain run.
class Run(itertools.chain[T], Concurrent):
    """One run of a pipeline: what ``iter(source)`` and ``stage(items)`` give.

    ``close()`` (from the consuming thread) stops and joins every concurrent
    stage and closes every generator the run opened; ``cancel()`` (from any
    thread) stops the run and makes its consumer's next or current
    ``next()`` raise `concurrent.futures.CancelledError`. Leaving a ``for``
    loop, an exception and garbage collection close it too. A run of plain
    stages costs nothing per item on top of the stages themselves.

    Sharp edge: a thread stuck inside a user function is not waited for; it
    finishes that call in the background, drops the result and ends.

    >>> import genpipe as gp
    >>> run = iter(gp.count() | gp.thread_map(lambda n: n * n))
    >>> next(run), next(run), next(run)
    (0, 1, 4)
    >>> run.close()
    >>> next(run, "closed")
    'closed'
    """

    __slots__ = ("_iterators", "_members", "_meter", "_own_from")

    _iterators: list[Iterator[Any]]
    #: The concurrent parts of the chain, in pipeline order.
    _members: Sequence[Concurrent]
    #: Index of the first iterator that this run's consumer reads and closes;
    #: the ones before it are closed by a feeder thread.
    _own_from: int
    _meter: Meter | None

    def __new__(
        cls, iterators: list[Iterator[Any]], meter: Meter | None = None
    ) -> Run[T]:
        if cls is Run:
            # Reached only once the last iterator is exhausted: a plain run
            # closes its chain then at no cost per item.
            run = super().__new__(cls, iterators[-1], _closing_tail(iterators))
        else:
            run = super().__new__(cls, iterators[-1])
        run._iterators = iterators
        run._meter = meter
        run._members = [it for it in iterators if is_concurrent(it)]
        run._own_from = 0
        for index, it in enumerate(iterators):
            if isinstance(it, Outlet):
                run._own_from = index
        return run

    def metrics(self) -> MetricsTable:
        """Each stage's figures so far, in pipeline order; safe from any thread.

        Only a run opened with ``source.open(metrics=True)`` counts: others
        have no counter, and no cost, so this raises `RuntimeError` for them.
        Figures keep their final values after the run ends.

        >>> import genpipe as gp
        >>> with (gp.count() | gp.take(3)).open(metrics=True) as run:
        ...     print(list(run))
        [0, 1, 2]
        >>> print(run.metrics())  # doctest: +NORMALIZE_WHITESPACE
        stage    in  out  errors  retries  busy s  wait s  held
        count()   3    3       0        0   0.000   0.000     0
        take(3)   3    3       0        0   0.000   0.000     0
        """
        if self._meter is None:
            raise RuntimeError(
                "this run counts nothing: open it with source.open(metrics=True) "
                "to read its metrics"
            )
        return self._meter.table()

    def __reduce__(self) -> Any:
        raise TypeError("a Run cannot be pickled; pickle the Source it came from")

    def close(self) -> None:
        """Stop and join every concurrent stage, then close every iterator.

        Call it from the thread that consumes the run; from other threads use
        `cancel`. Closing twice does nothing; after it, ``next()`` raises
        StopIteration.
        """
        owner = self._owner
        if owner is not None:
            current = threading.current_thread()
            if owner is not current and owner.is_alive():
                raise ValueError(
                    "close() must be called by the thread that iterates the run; "
                    "call cancel() from other threads"
                )
        self._finish()

    def cancel(self) -> None:
        """Stop the run from any thread; its consumer gets CancelledError.

        A consumer blocked in ``next()`` wakes at once; results not yet
        taken are dropped.
        """
        self.__class__ = _CancelledRun
        for member in reversed(self._members):
            member._stop(cancel=True)

    def _finish(self, failure: BaseException | None = None) -> None:
        """Stop, join and close everything; give ``failure`` the others as notes."""
        members, iterators = self._members, self._iterators
        if not iterators:
            return
        self._members, self._iterators = (), []
        if self._meter is not None:
            self._meter.finish()
        for member in reversed(members):
            member._stop(cancel=False)
        for member in reversed(members):
            member._join()
        if members:
            log.debug("run stopped: %d concurrent stages joined", len(members))
        close_chain(iterators[self._own_from :])
        for member in members:
            for other in member._take_failures():
                if failure is not None and other is not failure:
                    failure.add_note(f"also failed: {other!r}")
                elif other is not failure:
                    log.warning("failed after the run stopped", exc_info=other)

    def _stop(self, *, cancel: bool) -> None:
        for member in reversed(self._members):
            member._stop(cancel=cancel)

    def _join(self) -> None:
        for member in reversed(self._members):
            member._join()

    def _take_failures(self) -> list[BaseException]:
        return [exc for member in self._members for exc in member._take_failures()]

    @property
    def _owner(self) -> threading.Thread | None:
        return self._members[-1]._owner if self._members else None

    def __del__(self) -> None:
        # A finaliser may run in any thread, even one holding a lock of these
        # stages: it only asks them to stop.
        for member in self._members:
            member._stop(cancel=False)


_chain_next = itertools.chain.__next__


class _GuardedRun(Run[T]):
    """A run with concurrent stages: every way out of ``next()`` shuts them down."""

    __slots__ = ()

    def __next__(self) -> T:
        try:
            # Not super(): cancel() may change this run's class meanwhile.
            return _chain_next(self)
        except BaseException as exc:
            self._finish(None if isinstance(exc, StopIteration) else exc)
            raise


class _CancelledRun(Run[T]):
    __slots__ = ()

    def __next__(self) -> T:
        self._finish()
        raise CancelledError("the run was cancelled")


def _closing_tail(iterators: list[Iterator[Any]]) -> Iterator[Any]:
    close_chain(iterators)
    return
    yield


def open_run(
    items: Iterable[Any],
    parts: Sequence[Stage[Any, Any]],
    *,
    metered_as: str | None = None,
) -> Run[Any]:
    """Apply each stage's lazy face in turn and give the whole chain to a `Run`.

    With ``metered_as`` (the source's label) every boundary is counted and
    the run gets a `Meter`; without, nothing is added to the chain.
    """
    iterators: list[Iterator[Any]] = [iter(items)]
    meter = None
    if metered_as is not None:
        meter = _Metering(metered_as, iterators)
    segment_start = 0
    for part in parts:
        it = part._lazy(iterators[-1])
        if isinstance(it, Outlet):
            it._adopt(iterators[segment_start:])
            segment_start = len(iterators)
        iterators.append(it)
        if meter is not None:
            meter.add(part, iterators)
    guarded = any(is_concurrent(it) for it in iterators)
    return (_GuardedRun if guarded else Run)(
        iterators, None if meter is None else meter.done()
    )


class _Metering:
    """Builds a run's `Meter` while `open_run` builds its chain."""

    def __init__(self, label: str, iterators: list[Iterator[Any]]) -> None:
        self.labels = [label]
        self.countdowns: list[Any] = []
        self.tallies: list[Tally | None] = [None]
        self.figures: list[Callable[[], Figures] | None] = []
        self.watched: list[tuple[Observed, Tally]] = []
        self._count(iterators)

    def _count(self, iterators: list[Iterator[Any]]) -> None:
        last = iterators[-1]
        self.figures.append(last._figures if isinstance(last, Outlet) else None)
        counting, countdown = counted(last)
        iterators.append(counting)
        self.countdowns.append(countdown)

    def add(self, part: Stage[Any, Any], iterators: list[Iterator[Any]]) -> None:
        self.labels.append(part._label)
        policy = part._policy
        if policy is None:
            self.tallies.append(None)
        else:
            tally = Tally()
            policy.observe(tally)
            self.tallies.append(tally)
            self.watched.append((policy, tally))
        self._count(iterators)

    def done(self) -> Meter:
        return Meter(
            self.labels, self.countdowns, self.tallies, self.figures, self.watched
        )


def is_concurrent(it: object) -> TypeGuard[Concurrent]:
    # A nested run of plain stages has nothing to stop.
    return isinstance(it, Outlet | _GuardedRun)


def close_chain(iterators: Sequence[Iterator[Any]]) -> None:
    """Close every iterator of a chain that can be closed, newest first."""
    for iterator in reversed(iterators):
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
