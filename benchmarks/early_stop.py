"""``early_stop``: take 10 items from an infinite source, then ``break``.

Leaving a loop early must stop the pipeline: the ``break`` returns promptly,
every thread the variant started ends, and the source stops being read. Each
variant runs in a fresh process; a watchdog kills one still running
`TIME_LIMIT` seconds after start-up. A variant passes when the ``break``
returned within `TIME_LIMIT` seconds, its threads were gone within `SETTLE`
seconds, and it read at most `READ_BOUND` items.

``ThreadPoolExecutor.map`` would submit an infinite source forever, so it gets
a finite one it can survive, and fails all the same.
"""

from __future__ import annotations

import threading
import time

from benchmarks.flows import EXECUTOR_BASELINE, READ_BOUND, Through, every_flow
from benchmarks.harness import Settings, load, not_installed
from benchmarks.isolated import run_isolated
from benchmarks.report import Report, Table
from benchmarks.runner import main
from benchmarks.streams import CountingSource

TAKE = 10
TIME_LIMIT = 10.0
SETTLE = 2.0


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


def row(
    name: str, limit: int | None, result: dict[str, object] | None
) -> tuple[str, ...]:
    source = "infinite" if limit is None else f"{limit:,} items"
    if result is None:
        return (name, source, "no: killed by the watchdog", "—", "—", "no")
    if "missing" in result:
        return (name, source, str(result["missing"]), "—", "—", "—")
    returned, left, read = result["returned"], result["threads_left"], result["read"]
    assert isinstance(returned, float)
    assert isinstance(left, int)
    assert isinstance(read, int)
    passes = returned <= TIME_LIMIT and left == 0 and read <= READ_BOUND
    return (
        name,
        source,
        f"{returned:.3f}",
        str(left),
        f"{read:,}",
        "yes" if passes else "no",
    )


def run(settings: Settings) -> Report:
    executor_limit = settings.size(100_000, 20_000)
    rows = []
    raw: dict[str, object] = {}
    for name in every_flow():
        limit = executor_limit if name == EXECUTOR_BASELINE else None
        result = run_isolated(
            "benchmarks.early_stop:probe", {"flow": name, "limit": limit}, TIME_LIMIT
        )
        rows.append(row(name, limit, result))
        raw[name] = {"limit": limit, "result": result}
    table = Table(
        f"Take {TAKE}, then break",
        (
            "variant",
            "source",
            "break returned in (s)",
            "threads left",
            "items read",
            "passes",
        ),
        tuple(rows),
    )
    return Report(
        workload="early_stop",
        summary=(
            f"Take {TAKE} results from an infinite source through each concurrent "
            f"variant, then break. Passes: returned within {TIME_LIMIT:.0f} s, no "
            f"thread left {SETTLE:.0f} s later, at most {READ_BOUND:,} items read."
        ),
        tables=(table,),
        raw=raw,
    )


if __name__ == "__main__":
    main({"early_stop": run})
