"""``handoff``: one producer thread passing every item to the consumer.

The cost of crossing a thread boundary per item, with nothing else to do. The
baseline is the hand-written `queue.Queue` handoff (a producer thread putting,
the consumer getting, queue size 64).
"""

from __future__ import annotations

from benchmarks.flows import QUEUE_BASELINE, handoff_flows, timed_flow
from benchmarks.harness import Settings, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main


def run(settings: Settings) -> Report:
    items = settings.size(100_000, 2_000)
    data = range(items)
    measured = measure([timed_flow(f, data) for f in handoff_flows()], settings.runs)
    return Report(
        workload="handoff",
        summary=(
            f"{items:,} ints from a producer thread to the consumer, queue size "
            f"64. Baseline: {QUEUE_BASELINE} (hand-written producer thread)."
        ),
        tables=(speed_table("Per-item cost", measured, items, [QUEUE_BASELINE]),),
        raw={"items": items, "runs": raw_runs(measured)},
        baseline=QUEUE_BASELINE,
        ratios=ratios_to(measured, QUEUE_BASELINE),
    )


if __name__ == "__main__":
    main({"handoff": run})
