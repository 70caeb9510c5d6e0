"""``memory``: a million items through each concurrent variant, one process each.

A bounded pipeline's memory is O(buffer), never O(stream). Each variant runs
in a fresh process, which reports how much its peak RSS grew while the stream
ran through, and how many items the source had handed out when the first
result arrived. A variant passes when that count stays within `READ_BOUND`
and the growth within `RSS_BOUND`, neither of which depends on the stream's
length.

``ThreadPoolExecutor.map`` submits its whole input before yielding anything,
so it gets a smaller stream it can survive, and fails all the same.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from benchmarks.flows import (
    READ_BOUND,
    Row,
    every_flow,
    genpipe_failures,
    judge_every_flow,
)
from benchmarks.harness import Settings, load, not_installed
from benchmarks.isolated import run_isolated
from benchmarks.report import Report, Table
from benchmarks.runner import main
from benchmarks.streams import CountingSource, drain

RSS_BOUND = 32 * 2**20
#: Generous: a million items through the slowest peer takes about 15 s.
TIME_LIMIT = 120.0
PROBE = "benchmarks.memory:probe"


def reset_peak_rss() -> None:
    """Lower the recorded peak RSS to the current RSS, where the OS allows it.

    Importing the peers leaves a transient peak behind; without the reset a
    stream's growth would hide beneath it. Linux does this through
    ``/proc/self/clear_refs``; elsewhere the peak stays and the growth shown
    may be too low.
    """
    clear_refs = Path("/proc/self/clear_refs")
    if clear_refs.exists():
        clear_refs.write_text("5")


def peak_rss() -> int:
    """This process's peak resident set size, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def probe(flow: str, items: int) -> dict[str, object]:
    """Child side: run ``items`` ints through ``flow``; measure RSS and reads."""
    try:
        through = load(every_flow()[flow].build)
    except ImportError as exc:
        return {"missing": not_installed(exc)}
    source = CountingSource(items)
    reset_peak_rss()
    before = peak_rss()
    outputs = through(source)
    next(outputs)
    read_before_first = source.read
    drain(outputs)
    return {"rss_growth": peak_rss() - before, "read_before_first": read_before_first}


def row(name: str, items: int, result: Mapping[str, Any] | None) -> Row:
    if result is None:
        return (name, f"{items:,}", "killed by the watchdog", "—", "no")
    if "missing" in result:
        return (name, f"{items:,}", str(result["missing"]), "—", "—")
    growth, read = result["rss_growth"], result["read_before_first"]
    bounded = growth <= RSS_BOUND and read <= READ_BOUND
    return (
        name,
        f"{items:,}",
        f"{growth / 2**20:.1f}",
        f"{read:,}",
        "yes" if bounded else "no",
    )


def run(settings: Settings) -> Report:
    items = settings.size(1_000_000, 5_000)

    def judge(name: str, size: int) -> tuple[Row, object]:
        result = run_isolated(PROBE, {"flow": name, "items": size}, TIME_LIMIT)
        return row(name, size, result), {"items": size, "result": result}

    rows, raw = judge_every_flow(settings, items, judge)
    table = Table(
        "Memory and read-ahead",
        (
            "variant",
            "items",
            "peak RSS growth (MiB)",
            "items read before first result",
            "bounded",
        ),
        rows,
    )
    return Report(
        workload="memory",
        summary=(
            f"{items:,} ints through each concurrent variant (x + 1 on 4 workers, "
            "or a single producer thread), each in a fresh process. Bounded "
            f"means at most {READ_BOUND:,} items read before the first result and "
            f"at most {RSS_BOUND // 2**20} MiB of peak RSS growth."
        ),
        tables=(table,),
        raw=raw,
        failed=genpipe_failures(rows),
    )


if __name__ == "__main__":
    main({"memory": run})
