"""``thread_map``: a trivial function mapped by 4 worker threads.

With almost no work per item, this prices the machinery: handing items to
workers, collecting results, keeping order. The baseline is
``ThreadPoolExecutor(4).map``.
"""

from __future__ import annotations

from benchmarks.flows import EXECUTOR_BASELINE, mapping_flows, timed_flow
from benchmarks.harness import Settings, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main
from benchmarks.streams import add_one

WORKERS = 4


def run(settings: Settings) -> Report:
    items = settings.size(50_000, 2_000)
    data = range(items)
    flows = mapping_flows(add_one, WORKERS)
    measured = measure([timed_flow(f, data) for f in flows], settings.runs)
    return Report(
        workload="thread_map",
        summary=(
            f"{items:,} ints through x + 1 on {WORKERS} worker threads. "
            f"Baseline: {EXECUTOR_BASELINE}."
        ),
        tables=(speed_table("Per-item cost", measured, items, [EXECUTOR_BASELINE]),),
        raw={"items": items, "runs": raw_runs(measured)},
        baseline=EXECUTOR_BASELINE,
        ratios=ratios_to(measured, EXECUTOR_BASELINE),
    )


if __name__ == "__main__":
    main({"thread_map": run})
