"""``early_stop``: take 10 items from an infinite source, then ``break``.

Leaving a loop early must stop the pipeline: the ``break`` returns promptly,
every thread the variant started ends, and the source stops being read. Each
attempt runs in a fresh process, and a watchdog kills one still running
`TIME_LIMIT` seconds after start-up. An attempt passes when the ``break``
returned within `TIME_LIMIT` seconds, its threads were gone within `SETTLE`
seconds, and it read at most `READ_BOUND` items; a variant passes when all
its attempts (as many as timed runs) do.

``ThreadPoolExecutor.map`` would submit an infinite source forever, so it gets
a finite one it can survive, and fails all the same.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from benchmarks.flows import (
    READ_BOUND,
    Row,
    Through,
    every_flow,
    genpipe_failures,
    judge_every_flow,
)
from benchmarks.harness import Settings, load, not_installed
from benchmarks.isolated import run_isolated
from benchmarks.report import Report, Table
from benchmarks.runner import main
from benchmarks.streams import CountingSource

TAKE = 10
TIME_LIMIT = 10.0
#: A smoke run only checks that the probes work; a hang need not cost 10 s.
SMOKE_TIME_LIMIT = 2.0
SETTLE = 2.0
PROBE = "benchmarks.early_stop:probe"


def take_then_break(through: Through, source: CountingSource) -> None:
    """Take `TAKE` results and break, as a consumer loop would.

    The output iterator lives only in this frame, so returning drops the last
    reference to it, as leaving a function that looped over it does.
    """
    for taken, _ in enumerate(through(source), start=1):
        if taken == TAKE:
            break


def threads_left_after(baseline: int, grace: float) -> int:
    """Threads still running beyond ``baseline`` once ``grace`` seconds passed."""
    deadline = time.monotonic() + grace
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.01)
    return threading.active_count() - baseline


def probe(flow: str, limit: int | None) -> dict[str, object]:
    """Child side: take and break; report the time, leftover threads and reads."""
    try:
        through = load(every_flow()[flow].build)
    except ImportError as exc:
        return {"missing": not_installed(exc)}
    source = CountingSource(limit)
    threads = threading.active_count()
    start = time.perf_counter()
    take_then_break(through, source)
    returned = time.perf_counter() - start
    left = threads_left_after(threads, SETTLE)
    return {"returned": returned, "threads_left": left, "read": source.read}


def passes(result: Mapping[str, Any], seconds: float) -> bool:
    return bool(
        result["returned"] <= seconds
        and result["threads_left"] == 0
        and result["read"] <= READ_BOUND
    )


def attempts(
    name: str, limit: int | None, tries: int, seconds: float
) -> list[dict[str, Any] | None]:
    """Up to ``tries`` fresh-process runs of one variant, up to its first failure.

    Races make stopping flaky (a variant may hang one time in several), so one
    passing run proves little; a failed or killed run settles it.
    """
    results: list[dict[str, Any] | None] = []
    for _ in range(tries):
        result = run_isolated(PROBE, {"flow": name, "limit": limit}, seconds)
        results.append(result)
        if result is None or "missing" in result or not passes(result, seconds):
            break
    return results


def row(
    name: str,
    limit: int | None,
    results: list[dict[str, Any] | None],
    tries: int,
    seconds: float,
) -> Row:
    source = "infinite" if limit is None else f"{limit:,} items"
    last = results[-1]
    if last is not None and "missing" in last:
        return (name, source, last["missing"], "—", "—", "—", "—")
    finished = [result for result in results if result is not None]
    passed = sum(passes(result, seconds) for result in finished)
    slowest = max((result["returned"] for result in finished), default=None)
    return (
        name,
        source,
        f"{passed} of {len(results)}",
        "killed by the watchdog" if last is None else f"{slowest:.3f}",
        str(max((result["threads_left"] for result in finished), default="—")),
        f"{max(result['read'] for result in finished):,}" if finished else "—",
        "yes" if passed == tries else "no",
    )


def run(settings: Settings) -> Report:
    tries = settings.size(settings.runs, 1)
    seconds = SMOKE_TIME_LIMIT if settings.smoke else TIME_LIMIT

    def judge(name: str, limit: int | None) -> tuple[Row, object]:
        results = attempts(name, limit, tries, seconds)
        found = {"limit": limit, "attempts": results}
        return row(name, limit, results, tries, seconds), found

    rows, raw = judge_every_flow(settings, None, judge)
    table = Table(
        f"Take {TAKE}, then break",
        (
            "variant",
            "source",
            "attempts passed",
            "slowest break (s)",
            "most threads left",
            "most items read",
            "passes",
        ),
        rows,
    )
    return Report(
        workload="early_stop",
        summary=(
            f"Take {TAKE} results from an infinite source through each concurrent "
            f"variant, then break. Attempts per variant: up to {tries}, each in a "
            "fresh process, stopping at the first failure. An attempt passes when "
            f"the break returned within {seconds:.0f} s, no thread was left "
            f"{SETTLE:.0f} s later, and at most {READ_BOUND:,} items were read."
        ),
        tables=(table,),
        raw=raw,
        failed=genpipe_failures(rows),
    )


if __name__ == "__main__":
    main({"early_stop": run})
