"""``metrics``: what ``open(metrics=True)`` and switched-off progress bars cost.

The chain workload's pipeline (map -> filter -> map over a million ints) run
as a plain iteration, opened without metrics and opened with them, against
the hand-written generator chain; ``thread_map`` over an I/O-bound function
(1 ms per call) with and without metrics; and three ``progress()`` stages
switched off (``disable=True``) against none. Metrics off must cost
nothing; on, the chain should stay within 1.5x and ``thread_map`` within 5 %.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import genpipe as gp
from benchmarks.chain import HAND_WRITTEN, hand_written
from benchmarks.harness import Settings, Variant, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main
from benchmarks.streams import add_one, double, drain, not_multiple_of_3

CHAIN = gp.map(add_one) | gp.filter(not_multiple_of_3) | gp.map(double)
OFF, ON = "genpipe, open()", "genpipe, open(metrics=True)"
WORKERS = 8


def opened(data: list[int], *, metrics: bool) -> Callable[[], None]:
    flow = gp.source(data) | CHAIN

    def run() -> None:
        with flow.open(metrics=metrics) as items:
            drain(items)

    return run


def progress_off(data: list[int], bars: int) -> Callable[[], None]:
    flow = gp.source(data)
    for _ in range(bars):
        flow = flow | gp.progress(disable=True)
    return lambda: drain(flow)


def waits(n: int) -> int:
    threading.Event().wait(0.001)
    return n


def io_bound(data: list[int], *, metrics: bool) -> Callable[[], None]:
    flow = gp.source(data) | gp.thread_map(waits, workers=WORKERS)

    def run() -> None:
        with flow.open(metrics=metrics) as items:
            drain(items)

    return run


def run(settings: Settings) -> Report:
    items = settings.size(1_000_000, 3_000)
    data = list(range(items))
    chain = measure(
        [
            Variant(HAND_WRITTEN, lambda: hand_written(data)),
            Variant(OFF, lambda: opened(data, metrics=False)),
            Variant(ON, lambda: opened(data, metrics=True)),
        ],
        settings.runs,
    )
    none, three = "no progress()", "3 progress(disable=True)"
    bars = measure(
        [
            Variant(none, lambda: progress_off(data, 0)),
            Variant(three, lambda: progress_off(data, 3)),
        ],
        settings.runs,
    )
    calls = settings.size(2_000, 80)
    waiting = list(range(calls))
    threads = measure(
        [
            Variant("thread_map, open()", lambda: io_bound(waiting, metrics=False)),
            Variant(
                "thread_map, open(metrics=True)",
                lambda: io_bound(waiting, metrics=True),
            ),
        ],
        settings.runs,
    )
    return Report(
        workload="metrics",
        summary=(
            f"{items:,} ints through map -> filter -> map, opened with and "
            f"without metrics; {calls:,} calls of a 1 ms function on {WORKERS} "
            "threads; three switched-off progress bars. Ratios below 1 are faster."
        ),
        tables=(
            speed_table("The chain", chain, items, [HAND_WRITTEN, OFF]),
            speed_table("Switched-off progress bars", bars, items, [none]),
            speed_table(
                "thread_map over a 1 ms function",
                threads,
                calls,
                ["thread_map, open()"],
            ),
        ),
        raw={
            "items": items,
            "chain": raw_runs(chain),
            "progress": raw_runs(bars),
            "thread_map": raw_runs(threads),
        },
        baseline=HAND_WRITTEN,
        ratios=ratios_to(chain, HAND_WRITTEN),
    )


if __name__ == "__main__":
    main({"metrics": run})
