"""A live view of a metered run: one line per stage, refreshed while it goes.

`Source.open` with ``progress=`` starts one; it draws tqdm bars where tqdm is
installed and the stream is a terminal, and a plain status line otherwise.
It runs in a thread of its own, and its ``with`` block stops it, so the
terminal is left tidy however the block ends (Ctrl-C included).
"""

from __future__ import annotations

import itertools
import sys
import threading
from typing import Any, TextIO

from genpipe._metrics import Meter, MetricsTable

#: Seconds between two refreshes of the view.
REFRESH_SECONDS = 0.5

_numbers = itertools.count(1)


def stream_for(progress: bool | TextIO) -> TextIO | None:
    """Where ``progress=`` asks the view to draw; None: nowhere.

    ``True`` means standard error, and only when it is a terminal: a run in
    a batch job or a pipe prints nothing unless given a stream explicitly.
    """
    if progress is False:
        return None
    if progress is True:
        stream = sys.stderr
        return stream if _is_terminal(stream) else None
    return progress


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class LiveView:
    """Draws ``meter``'s table on ``stream`` every `REFRESH_SECONDS` until `stop`."""

    def __init__(self, meter: Meter, stream: TextIO) -> None:
        self._meter = meter
        self._stream = stream
        self._stopped = threading.Event()
        self._painter = (
            _TqdmPainter(stream) if _tqdm_fits(stream) else _LinePainter(stream)
        )
        self._thread = threading.Thread(
            target=self._refresh, name=f"genpipe-live-{next(_numbers)}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def _refresh(self) -> None:
        # Ends on its own once the run has ended, even if nobody calls stop.
        while not self._stopped.wait(REFRESH_SECONDS) and not self._meter.finished:
            self._painter.paint(self._meter.table(), self._meter.elapsed())

    def stop(self) -> None:
        """Stop refreshing, draw the final figures and leave the terminal tidy."""
        self._stopped.set()
        if self._thread.ident is not None:
            self._thread.join()
        self._painter.finish(self._meter.table(), self._meter.elapsed())


def _tqdm_fits(stream: TextIO) -> bool:
    if not _is_terminal(stream):
        return False
    try:
        import tqdm  # noqa: F401 - only whether it is there
    except ImportError:
        return False
    return True


class _LinePainter:
    """One status line: redrawn in place on a terminal, appended elsewhere."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._in_place = _is_terminal(stream)

    def _line(self, rows: MetricsTable, elapsed: float) -> str:
        stages = " | ".join(f"{row.label} {row.items_out:,}" for row in rows)
        return f"genpipe {elapsed:6.1f} s: {stages}"

    def paint(self, rows: MetricsTable, elapsed: float) -> None:
        line = self._line(rows, elapsed)
        if self._in_place:
            self._stream.write(f"\r{line}\x1b[K")
        else:
            self._stream.write(f"{line}\n")
        self._stream.flush()

    def finish(self, rows: MetricsTable, elapsed: float) -> None:
        self.paint(rows, elapsed)
        if self._in_place:
            self._stream.write("\n")
            self._stream.flush()


class _TqdmPainter:
    """One tqdm bar per stage, counting the items it yielded."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._bars: list[Any] = []

    def paint(self, rows: MetricsTable, elapsed: float) -> None:
        from tqdm import tqdm

        while len(self._bars) < len(rows):
            row = rows[len(self._bars)]
            self._bars.append(
                tqdm(
                    desc=row.label,
                    position=len(self._bars),
                    file=self._stream,
                    unit="it",
                    leave=True,
                    dynamic_ncols=True,
                )
            )
        for bar, row in zip(self._bars, rows, strict=False):
            bar.n = row.items_out
            bar.refresh()

    def finish(self, rows: MetricsTable, elapsed: float) -> None:
        self.paint(rows, elapsed)
        for bar in reversed(self._bars):
            bar.close()
