"""The consumer's end of a concurrent stage: start, stop, join, hand over failures."""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Iterator
from concurrent.futures import CancelledError
from typing import Any, NoReturn, TypeVar

from genpipe._concurrent._lifecycle import Crew, log
from genpipe._metrics import Figures
from genpipe._run import Concurrent, Outlet, close_chain, is_concurrent

T = TypeVar("T")


class StageOutlet(Outlet, Iterator[T]):
    """Threads start at the first ``next()``; `Run` stops and joins them.

    A finaliser only stops (`_stop`), so dropping an outlet anywhere is safe.
    """

    def __init__(self, crew: Crew) -> None:
        self._crew = crew
        self._segment: list[Iterator[Any]] = []
        #: The concurrent parts of the segment, found once: a finaliser at
        #: interpreter exit may find this module's globals already gone.
        self._upstream_members: list[Concurrent] = []
        self._started = False
        self._consumer: threading.Thread | None = None

    def _adopt(self, segment: list[Iterator[Any]]) -> None:
        self._segment = segment
        self._upstream_members = [it for it in segment if is_concurrent(it)]

    def __iter__(self) -> StageOutlet[T]:
        return self

    @abstractmethod
    def _start(self, segment: list[Iterator[Any]]) -> None:
        """Create and start the crew's threads; called once, at the first ``next()``."""

    def _figures(self) -> Figures:
        """What this stage measured of itself, for a metered run."""
        return Figures()

    def _drop_buffered(self) -> None:
        """Forget results not yet taken (on cancel), so memory is freed at once."""

    def _begin(self) -> None:
        """The slow path's first step: start if needed, fail fast if the run is over."""
        crew = self._crew
        if not self._started:
            if crew.stopping:
                self._ended()
            self._started = True
            self._consumer = threading.current_thread()
            self._start(self._segment)
            log.debug("%s started", crew.label)
        elif crew.forked_away():
            raise RuntimeError(
                f"{crew.label} was started before os.fork(); its threads do not "
                "exist in this process: start a new run in the child instead"
            )
        if crew.cancelled:
            raise CancelledError("the run was cancelled")

    def _ended(self) -> NoReturn:
        """The stage has nothing more: say why."""
        if self._crew.cancelled:
            raise CancelledError("the run was cancelled")
        raise StopIteration

    def _stop(self, *, cancel: bool) -> None:
        self._crew.stop(cancel=cancel)
        if cancel:
            self._drop_buffered()
        for upstream in self._upstream_members:
            upstream._stop(cancel=False)

    def _join(self) -> None:
        if self._started:
            self._crew.join()
        else:
            # No feeder ever read the segment, so it is ours to close.
            segment, self._segment = self._segment, []
            close_chain(segment)

    def _take_failures(self) -> list[BaseException]:
        return self._crew.take_failures()

    @property
    def _owner(self) -> threading.Thread | None:
        return self._consumer

    def close(self) -> None:
        """Stop and join this stage's threads (how a feeder closes its upstream)."""
        self._stop(cancel=False)
        self._join()

    def __del__(self) -> None:
        self._crew.stop()
