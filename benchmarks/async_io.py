"""``async_io``: coroutines that wait, coroutines that don't, and ``async for``.

1. 10,000 calls of ``await asyncio.sleep(0.01)`` at concurrency 1,000: the
   ideal is 10,000 x 10 ms / 1,000 = 100 ms. The baseline is what one would
   write by hand — 1,000 worker coroutines pulling from one shared iterator
   — next to a task per item gated by a ``Semaphore`` in a ``TaskGroup``.
2. The cost per item of a trivial coroutine (``return n``) at the default
   concurrency of 16: everything but the call itself.
3. ``async for`` over a synchronous pipeline, against a plain ``for``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import genpipe as gp
from benchmarks.harness import Measured, Settings, Variant, measure
from benchmarks.report import Report, Table, ratio_text, ratios_to, raw_runs
from benchmarks.runner import main

BASELINE = "hand-written worker coroutines"

Call = Callable[[int], Awaitable[int]]


def by_hand(fn: Call, items: Iterable[int], concurrency: int) -> list[int]:
    """Worker coroutines sharing one iterator; results in completion order."""

    async def run() -> list[int]:
        shared, out = iter(items), []

        async def worker() -> None:
            for item in shared:
                out.append(await fn(item))

        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(worker())
        return out

    return asyncio.run(run())


def task_per_item(fn: Call, items: Iterable[int], concurrency: int) -> list[int]:
    """A task per item, at most ``concurrency`` inside ``fn`` (a Semaphore)."""

    async def run() -> list[int]:
        gate = asyncio.Semaphore(concurrency)

        async def one(item: int) -> int:
            async with gate:
                return await fn(item)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in items]
        return [task.result() for task in tasks]

    return asyncio.run(run())


def variants(fn: Call, items: range, concurrency: int) -> list[Variant]:
    def flow(ordered: bool) -> Callable[[], object]:
        stage = gp.async_map(fn, concurrency, ordered=ordered)
        return lambda: items | stage | gp.to_list()

    return [
        Variant(BASELINE, lambda: lambda: by_hand(fn, items, concurrency)),
        Variant(
            "TaskGroup + Semaphore",
            lambda: lambda: task_per_item(fn, items, concurrency),
        ),
        Variant("genpipe async_map", lambda: flow(True)),
        Variant("genpipe async_map(ordered=False)", lambda: flow(False)),
    ]


def sleeper(seconds: float) -> Call:
    async def sleep(n: int) -> int:
        await asyncio.sleep(seconds)
        return n

    return sleep


async def trivial(n: int) -> int:
    return n


def identity(n: int) -> int:
    return n


def async_for(flow: gp.Source[int]) -> int:
    async def run() -> int:
        count = 0
        async for _ in flow:
            count += 1
        return count

    return asyncio.run(run())


def plain_for(flow: gp.Source[int]) -> int:
    count = 0
    for _ in flow:
        count += 1
    return count


def per_item_rows(measured: list[Measured], count: int) -> tuple[tuple[str, ...], ...]:
    """Microseconds per item, each against the first variant."""
    baseline = measured[0].median
    return tuple(
        (
            each.name,
            f"{each.median / count * 1e6:.2f}",
            ratio_text(each.median, baseline),
        )
        for each in measured
    )


def run(settings: Settings) -> Report:
    items = range(settings.size(10_000, 200))
    concurrency = settings.size(1_000, 50)
    wait = settings.size(10, 1) / 1000
    ideal = len(items) * wait / concurrency
    sleeping = measure(variants(sleeper(wait), items, concurrency), settings.runs)
    baseline = next(m.median for m in sleeping if m.name == BASELINE)
    sleep_table = Table(
        "Sleeping coroutines",
        ("variant", "ms (median)", "efficiency", f"vs {BASELINE}"),
        tuple(
            (
                each.name,
                f"{each.median * 1000:.0f}",
                f"{ideal / each.median:.0%}",
                ratio_text(each.median, baseline),
            )
            for each in sleeping
        ),
    )

    quick = range(settings.size(100_000, 2_000))
    pair = (BASELINE, "genpipe async_map")
    overhead = measure(
        [v for v in variants(trivial, quick, 16) if v.name in pair], settings.runs
    )
    overhead_table = Table(
        "Per item, trivial coroutine (concurrency 16)",
        ("variant", "µs per item", f"vs {BASELINE}"),
        per_item_rows(overhead, len(quick)),
    )

    many = gp.source(range(settings.size(1_000_000, 10_000))) | gp.map(identity)
    consuming = measure(
        [
            Variant("for over the pipeline", lambda: lambda: plain_for(many)),
            Variant("async for over the pipeline", lambda: lambda: async_for(many)),
        ],
        settings.runs,
    )
    consuming_table = Table(
        "Consuming a sync pipeline from a coroutine",
        ("variant", "µs per item", "vs for"),
        per_item_rows(consuming, settings.size(1_000_000, 10_000)),
    )
    return Report(
        workload="async_io",
        summary=(
            f"{len(items)} calls of asyncio.sleep({wait * 1000:g} ms) at concurrency "
            f"{concurrency}; the ideal is {ideal * 1000:.0f} ms. Baseline: {BASELINE} "
            "pulling from one shared iterator."
        ),
        tables=(sleep_table, overhead_table, consuming_table),
        raw={
            "items": len(items),
            "ideal_seconds": ideal,
            "runs": raw_runs(sleeping),
            "overhead_runs": raw_runs(overhead),
            "async_for_runs": raw_runs(consuming),
        },
        baseline=BASELINE,
        ratios=ratios_to(sleeping, BASELINE),
    )


if __name__ == "__main__":
    main({"async_io": run})
