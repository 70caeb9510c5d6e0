"""``chain``: map(x + 1) -> filter(x % 3) -> map(x * 2) over a million ints.

Sequential per-item overhead: what a pipeline library adds on top of the work
itself. Every variant calls the same three functions, so only the plumbing
differs. The baseline is the hand-written chain of three generator functions
(``for x in items: yield fn(x)``); builtin ``map``/``filter`` is the second
yardstick, since genpipe's plain ``map``/``filter`` delegate to them. Two more
hand-written rows write the expressions inline instead of calling functions:
they price the function calls themselves, which no library that takes
functions can avoid. Every variant but genpipe is consumed by a zero-length
``deque``, which is exactly what ``gp.drain()`` does.

The second table is the fixed cost of a pipeline: building ten stages on a
source and starting to iterate it (``iter()`` plus the first ``next()``), for
streams of very different lengths, to show it does not grow with the stream.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator

import genpipe as gp
from benchmarks.harness import Settings, Variant, measure
from benchmarks.report import Report, Table, ratios_to, raw_runs, speed_table
from benchmarks.runner import main
from benchmarks.streams import add_one, double, drain, not_multiple_of_3

HAND_WRITTEN = "hand-written generators"
INLINED = "hand-written generators, inlined"
BUILTINS = "builtin map/filter"


def mapped(fn: Callable[[int], int], items: Iterable[int]) -> Iterator[int]:
    for x in items:
        yield fn(x)


def filtered(predicate: Callable[[int], int], items: Iterable[int]) -> Iterator[int]:
    for x in items:
        if predicate(x):
            yield x


def hand_written(data: list[int]) -> Callable[[], None]:
    return lambda: drain(
        mapped(double, filtered(not_multiple_of_3, mapped(add_one, data)))
    )


def inlined(data: list[int]) -> Callable[[], None]:
    def add_ones(items: Iterable[int]) -> Iterator[int]:
        for x in items:
            yield x + 1

    def drop_multiples_of_3(items: Iterable[int]) -> Iterator[int]:
        for x in items:
            if x % 3:
                yield x

    def doubles(items: Iterable[int]) -> Iterator[int]:
        for x in items:
            yield x * 2

    return lambda: drain(doubles(drop_multiples_of_3(add_ones(data))))


def fused(data: list[int]) -> Callable[[], None]:
    def all_three(items: Iterable[int]) -> Iterator[int]:
        for x in items:
            y = x + 1
            if y % 3:
                yield y * 2

    return lambda: drain(all_three(data))


def builtins(data: list[int]) -> Callable[[], None]:
    return lambda: drain(map(double, filter(not_multiple_of_3, map(add_one, data))))


def toolz_pipe(module_name: str, data: list[int]) -> Callable[[], None]:
    curried = importlib.import_module(f"{module_name}.curried")
    steps = (
        curried.map(add_one),
        curried.filter(not_multiple_of_3),
        curried.map(double),
    )
    return lambda: drain(curried.pipe(data, *steps))


def streamable(data: list[int]) -> Callable[[], None]:
    from streamable import stream

    return lambda: drain(
        stream(data).map(add_one).filter(not_multiple_of_3).map(double)
    )


def pypeln_sync(data: list[int]) -> Callable[[], None]:
    import pypeln

    sync = pypeln.sync
    return lambda: drain(
        data | sync.map(add_one) | sync.filter(not_multiple_of_3) | sync.map(double)
    )


def genpipe(data: list[int]) -> Callable[[], None]:
    stages = gp.map(add_one) | gp.filter(not_multiple_of_3) | gp.map(double)
    sink = gp.drain()
    return lambda: data | stages | sink


def variants(data: list[int]) -> list[Variant]:
    return [
        Variant(HAND_WRITTEN, lambda: hand_written(data)),
        Variant(INLINED, lambda: inlined(data)),
        Variant("one fused generator, inlined", lambda: fused(data)),
        Variant(BUILTINS, lambda: builtins(data)),
        Variant("toolz", lambda: toolz_pipe("toolz", data)),
        Variant("cytoolz", lambda: toolz_pipe("cytoolz", data)),
        Variant("streamable", lambda: streamable(data)),
        Variant("pypeln.sync", lambda: pypeln_sync(data)),
        Variant("genpipe", lambda: genpipe(data)),
    ]


def ten_stages(length: int) -> gp.Source[int]:
    pipeline = gp.source(range(length)) | gp.map(add_one)
    for _ in range(4):
        pipeline = pipeline | gp.filter(not_multiple_of_3) | gp.map(double)
    return pipeline | gp.filter(not_multiple_of_3)


def build_variant(length: int, repeats: int) -> Variant:
    def build() -> None:
        for _ in range(repeats):
            ten_stages(length)

    return Variant(f"build {length:,}", lambda: build)


def start_variant(length: int, repeats: int) -> Variant:
    pipeline = ten_stages(length)

    def start() -> None:
        for _ in range(repeats):
            next(iter(pipeline))

    return Variant(f"start {length:,}", lambda: start)


def fixed_costs(settings: Settings) -> tuple[Table, dict[str, object]]:
    """Build and start costs, in µs per pipeline, for short to long streams."""
    lengths = (10, 1_000, settings.size(1_000_000, 10_000))
    repeats = settings.size(2_000, 50)
    measured = measure(
        [build_variant(n, repeats) for n in lengths]
        + [start_variant(n, repeats) for n in lengths],
        settings.runs,
    )
    microseconds = {each.name: each.median / repeats * 1e6 for each in measured}
    rows = tuple(
        (
            f"{n:,}",
            f"{microseconds[f'build {n:,}']:.1f}",
            f"{microseconds[f'start {n:,}']:.1f}",
        )
        for n in lengths
    )
    table = Table(
        "Fixed cost of a 10-stage genpipe pipeline (µs, median)",
        ("stream length", "build: source + 10 stages", "iter() + first next()"),
        rows,
    )
    return table, raw_runs(measured)


def run(settings: Settings) -> Report:
    items = settings.size(1_000_000, 3_000)
    data = list(range(items))
    measured = measure(variants(data), settings.runs)
    costs, raw_costs = fixed_costs(settings)
    return Report(
        workload="chain",
        summary=(
            f"{items:,} ints through map(x + 1) -> filter(x % 3) -> map(x * 2), "
            "consumed to the end. Baseline: three hand-written generator "
            "functions chained, calling the same functions as every other "
            "variant; ratios below 1 are faster."
        ),
        tables=(
            speed_table(
                "Per-item cost", measured, items, baselines=(HAND_WRITTEN, BUILTINS)
            ),
            costs,
        ),
        raw={"items": items, "runs": raw_runs(measured), "fixed_costs": raw_costs},
        baseline=HAND_WRITTEN,
        ratios=ratios_to(measured, HAND_WRITTEN),
    )


if __name__ == "__main__":
    main({"chain": run})
