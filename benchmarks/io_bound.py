"""``io_bound``: 400 calls that each wait 10 ms, on 32 worker threads.

Waiting releases the GIL, so 32 threads could finish in 400 x 10 ms / 32 =
125 ms. Efficiency is that ideal divided by the measured time: what fraction
of the available concurrency a variant turns into progress. The table also
says whether the output came back in input order.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks.flows import EXECUTOR_BASELINE, mapping_flows, timed_flow
from benchmarks.harness import Settings, measure
from benchmarks.report import Report, Table, ratio_text, ratios_to, raw_runs
from benchmarks.runner import main

WORKERS = 32


def waiting(seconds: float) -> Callable[[int], int]:
    def wait(x: int) -> int:
        time.sleep(seconds)
        return x

    return wait


def run(settings: Settings) -> Report:
    items = settings.size(400, 64)
    wait = settings.size(10, 1) / 1000
    ideal = items * wait / WORKERS
    data = range(items)
    flows = mapping_flows(waiting(wait), WORKERS)
    measured = measure([timed_flow(f, data, list) for f in flows], settings.runs)
    baseline = next(m.median for m in measured if m.name == EXECUTOR_BASELINE)
    rows = tuple(
        (each.name, each.missing, "—", "—", "—")
        if each.missing
        else (
            each.name,
            f"{each.median * 1000:.0f}",
            f"{ideal / each.median:.0%}",
            ratio_text(each.median, baseline),
            "yes" if each.sample == list(data) else "no",
        )
        for each in measured
    )
    table = Table(
        "Wall time",
        ("variant", "ms (median)", "efficiency", f"vs {EXECUTOR_BASELINE}", "ordered"),
        rows,
    )
    return Report(
        workload="io_bound",
        summary=(
            f"{items} calls of time.sleep({wait * 1000:g} ms) on {WORKERS} worker "
            f"threads; the ideal is {ideal * 1000:.0f} ms. "
            f"Baseline: {EXECUTOR_BASELINE}."
        ),
        tables=(table,),
        raw={"items": items, "ideal_seconds": ideal, "runs": raw_runs(measured)},
        baseline=EXECUTOR_BASELINE,
        ratios=ratios_to(measured, EXECUTOR_BASELINE),
    )


if __name__ == "__main__":
    main({"io_bound": run})
