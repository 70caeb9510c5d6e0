"""The mapping engine's chunk sizing for pools, fed with made-up task timings."""

from __future__ import annotations

from typing import Any

import pytest

from genpipe._concurrent._engine import (
    LONGEST_TASK_SECONDS,
    MAX_CHUNK,
    Backend,
    Chunk,
    MapEngine,
    TaskTiming,
)
from genpipe._concurrent._lifecycle import Crew

POOL_CHUNK = 8192


class PoolDouble(Backend):
    """A pool backend that runs nothing: the test settles chunks itself."""

    max_chunk = POOL_CHUNK

    def __init__(self, workers: int = 2) -> None:
        self.workers = workers

    def start(self, engine: MapEngine) -> None:
        raise AssertionError("not started in these tests")


class Worker:
    """One worker's clock: each task starts ``gap`` seconds after the last ended."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.clock = 100.0

    def run(
        self,
        engine: MapEngine,
        size: int,
        *,
        call: float,
        gap: float,
        fed: bool = True,
    ) -> None:
        chunk = Chunk(0, list(range(size)))
        chunk.fed = fed
        started = self.clock + gap
        self.clock = started + size * call
        engine.tasks += 1
        timing = TaskTiming(self.name, started, self.clock)
        engine.settle_outcomes(chunk, list(chunk.items), None, timing, skips=False)


def pool_engine(**options: Any) -> MapEngine:
    return MapEngine(
        Crew("test"), PoolDouble(), abs, ordered=True, maxsize=None, **options
    )


def test_trivial_calls_on_a_pool_get_chunks_far_past_the_threads_cap() -> None:
    engine = pool_engine()
    worker = Worker("a")
    for _ in range(6):
        worker.run(engine, 256, call=1e-7, gap=0.001)
    assert engine.chunk_size_for(engine.per_item) == POOL_CHUNK > MAX_CHUNK
    assert engine.cap == 2 * engine.workers * POOL_CHUNK


def test_a_short_gap_between_slow_calls_keeps_chunks_small() -> None:
    engine = pool_engine()
    worker = Worker("a")
    for _ in range(6):
        worker.run(engine, 4, call=0.01, gap=0.0001)
    assert engine.chunk_size_for(engine.per_item) <= 2


def test_a_workers_first_task_is_not_taken_for_overhead() -> None:
    engine = pool_engine()
    for name in ("a", "b"):
        Worker(name).run(engine, 1, call=0.001, gap=5.0)  # its start-up
    assert engine.task_overhead == 0
    assert engine.per_item == pytest.approx(0.001)


def test_waiting_for_the_upstream_is_not_taken_for_overhead() -> None:
    engine = pool_engine()
    worker = Worker("a")
    for _ in range(6):
        worker.run(engine, 8, call=0.001, gap=1.0, fed=False)
    assert engine.task_overhead == 0


def test_an_overhead_that_grows_with_the_chunk_cannot_grow_it_without_end() -> None:
    # Big items: the gap (unpickling them) is as long as the calls.
    engine = pool_engine()
    worker = Worker("a")
    size = 1
    for _ in range(12):
        worker.run(engine, size, call=0.001, gap=size * 0.001)
        size = min(2 * size, engine.chunk_size_for(engine.per_item))
    assert size <= LONGEST_TASK_SECONDS / 0.002


def test_a_fixed_chunksize_wins_over_any_measurement() -> None:
    engine = pool_engine(chunksize=7)
    Worker("a").run(engine, 7, call=1e-7, gap=0.01)
    assert engine.chunk_size_for(engine.per_item) == 7
