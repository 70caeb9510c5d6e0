"""Per-stage figures of one run: counted where items cross, read from any thread.

A run opened with ``metrics=True`` counts the items at every boundary
between two stages with ``itertools.compress(items, repeat(True, N))``: the
selector counts down once per item that passed, in C, with no Python frame
and no allocation, and its ``repr`` tells how far it got. Runs without
metrics have no counter at all. Concurrent stages add what only they know
(time in workers, time the reader waited, the high-water mark of their
read-ahead); error options add failures and retries.
"""

from __future__ import annotations

import itertools
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple, Protocol

#: Where a boundary's countdown starts: no stream reaches it.
_START = sys.maxsize


class StageMetrics(NamedTuple):
    """What one stage of a run did so far.

    ``items_in`` and ``items_out`` are exact: items the stage read and
    yielded. ``errors`` counts calls that failed for good (after retries)
    and were handled by ``on_error`` or ended the run from a worker;
    ``retries`` the calls made again. ``busy_seconds`` is time spent in the
    stage's workers (summed over workers; 0 for a sequential stage, whose
    time is its reader's), ``wait_seconds`` time the reader waited for it,
    and ``buffered_high`` the most items it held read ahead at once.
    """

    label: str
    items_in: int
    items_out: int
    errors: int
    retries: int
    busy_seconds: float
    wait_seconds: float
    buffered_high: int


class MetricsTable(list[StageMetrics]):
    """The figures of every stage, in pipeline order; ``str()`` is an aligned table.

    >>> import genpipe as gp
    >>> flow = gp.source(range(10)) | gp.filter(lambda n: n % 2) | gp.map(str)
    >>> with flow.open(metrics=True) as run:
    ...     items = list(run)
    >>> [(row.label, row.items_in, row.items_out) for row in run.metrics()]
    [('source(range(0, 10))', 10, 10), ('filter(<lambda>)', 10, 5), ('map(str)', 5, 5)]
    """

    __slots__ = ("elapsed_seconds",)

    #: Seconds from opening the run to these figures (or to its end).
    elapsed_seconds: float

    _HEADERS = ("stage", "in", "out", "errors", "retries", "busy s", "wait s", "held")

    def __str__(self) -> str:
        rows = [self._HEADERS] + [
            (
                _shortened(m.label),
                f"{m.items_in:,}",
                f"{m.items_out:,}",
                f"{m.errors:,}",
                f"{m.retries:,}",
                f"{m.busy_seconds:.3f}",
                f"{m.wait_seconds:.3f}",
                f"{m.buffered_high:,}",
            )
            for m in self
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(self._HEADERS))]
        lines = [
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
            for row in rows
        ]
        return "\n".join(lines)


#: The widest a stage's label gets in the table; the rest is cut.
LABEL_WIDTH = 48


def _shortened(label: str) -> str:
    return label if len(label) <= LABEL_WIDTH else label[: LABEL_WIDTH - 3] + "..."


class Tally:
    """Failures and retries of one stage's error options, for one metered run."""

    __slots__ = ("_lock", "errors", "retries")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.errors = 0
        self.retries = 0

    def failed(self) -> None:
        with self._lock:
            self.errors += 1

    def retried(self) -> None:
        with self._lock:
            self.retries += 1


def counted(items: Iterator[Any]) -> tuple[Iterator[Any], itertools.repeat[bool]]:
    """``items`` unchanged, and the countdown that `passed` reads."""
    countdown = itertools.repeat(True, _START)
    return itertools.compress(items, countdown), countdown


def passed(countdown: itertools.repeat[bool]) -> int:
    """How many items went through `counted`'s iterator so far."""
    shown = repr(countdown)  # "repeat(True, <left>)"
    return _START - int(shown[shown.rindex(" ") + 1 : -1])


class Figures(NamedTuple):
    """What a concurrent stage measures of itself."""

    busy_seconds: float = 0.0
    wait_seconds: float = 0.0
    buffered_high: int = 0
    #: Failures its workers handed over (those the error options did not).
    errors: int = 0


def table(
    labels: Sequence[str],
    countdowns: Sequence[itertools.repeat[bool]],
    tallies: Sequence[Tally | None],
    figures: Sequence[Figures],
    elapsed: float = 0.0,
) -> MetricsTable:
    """One row per stage; ``countdowns[k]`` counts what stage ``k`` yielded.

    Row 0 is the source: what it yielded is both its count in and out.
    """
    counts = [passed(countdown) for countdown in countdowns]
    rows = MetricsTable()
    rows.elapsed_seconds = elapsed
    for index, label in enumerate(labels):
        tally, own = tallies[index], figures[index]
        rows.append(
            StageMetrics(
                label,
                counts[index - 1] if index else counts[0],
                counts[index],
                own.errors + (tally.errors if tally is not None else 0),
                tally.retries if tally is not None else 0,
                own.busy_seconds,
                own.wait_seconds,
                own.buffered_high,
            )
        )
    return rows


class Meter:
    """Everything a metered run counts, and how to read it while it runs.

    ``figures[k]`` reads what stage ``k`` measures of itself (None for a
    sequential stage); ``watched`` are the error options whose `Tally` this
    run registered, forgotten by `finish`.
    """

    def __init__(
        self,
        labels: Sequence[str],
        countdowns: Sequence[itertools.repeat[bool]],
        tallies: Sequence[Tally | None],
        figures: Sequence[Callable[[], Figures] | None],
        watched: Sequence[tuple[Observed, Tally]],
    ) -> None:
        self.labels = labels
        self._countdowns = countdowns
        self._tallies = tallies
        self._figures = figures
        self._watched = watched
        self.started = time.monotonic()
        self.ended: float | None = None

    @property
    def finished(self) -> bool:
        return self.ended is not None

    def elapsed(self) -> float:
        """Seconds since the run was opened, until it ended."""
        end = time.monotonic() if self.ended is None else self.ended
        return end - self.started

    def table(self) -> MetricsTable:
        figures = [Figures() if read is None else read() for read in self._figures]
        return table(
            self.labels, self._countdowns, self._tallies, figures, self.elapsed()
        )

    def finish(self) -> None:
        if self.ended is None:
            self.ended = time.monotonic()
            for observed, tally in self._watched:
                observed.forget(tally)


class Observed(Protocol):
    """Error options that count their failures into a `Tally`."""

    def observe(self, tally: Tally) -> None: ...
    def forget(self, tally: Tally) -> None: ...
