"""``cpu_bound``: pure-Python arithmetic per item, on 2 worker threads.

Each item is a sum of squares in a Python loop, which never waits. With the
GIL, two threads take turns and cannot beat a sequential ``map``; on a
free-threaded build (3.13t, which ``make test-ft`` builds) they compute at
once, and the ideal on 2 cores is half the sequential time, 0.50x. The second
ratio column prices genpipe against ``ThreadPoolExecutor(2).map`` doing the
same work.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator

import genpipe as gp
from benchmarks.flows import EXECUTOR_BASELINE, Flow, executor_map, timed_flow
from benchmarks.harness import Settings, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main

WORKERS = 2
SEQUENTIAL_BASELINE = "sequential map()"


def sum_of_squares(n: int) -> int:
    return sum(i * i for i in range(n))


def sequential(fn: Callable[[int], int]) -> Callable[[Iterable[int]], Iterator[int]]:
    return lambda items: map(fn, items)


def run(settings: Settings) -> Report:
    items = settings.size(400, 20)
    squares = settings.size(20_000, 2_000)
    data = [squares] * items
    flows = [
        Flow(SEQUENTIAL_BASELINE, lambda: sequential(sum_of_squares)),
        Flow(EXECUTOR_BASELINE, lambda: executor_map(sum_of_squares, WORKERS)),
        Flow(
            f"genpipe thread_map(workers={WORKERS})",
            lambda: gp.thread_map(sum_of_squares, workers=WORKERS),
        ),
    ]
    measured = measure([timed_flow(f, data) for f in flows], settings.runs)
    # At run time, since a 3.13t turns the GIL back on for an unready extension.
    gil = "enabled" if getattr(sys, "_is_gil_enabled", lambda: True)() else "disabled"
    return Report(
        workload="cpu_bound",
        summary=(
            f"{items} sums of {squares:,} squares in a Python loop, on {WORKERS} "
            f"worker threads; this interpreter's GIL is {gil}. "
            f"Baseline: {SEQUENTIAL_BASELINE}, in the caller's thread."
        ),
        tables=(
            speed_table(
                "Per-item cost",
                measured,
                items,
                [SEQUENTIAL_BASELINE, EXECUTOR_BASELINE],
            ),
        ),
        raw={
            "items": items,
            "squares": squares,
            "gil": gil,
            "runs": raw_runs(measured),
        },
        baseline=SEQUENTIAL_BASELINE,
        ratios=ratios_to(measured, SEQUENTIAL_BASELINE),
    )


if __name__ == "__main__":
    main({"cpu_bound": run})
