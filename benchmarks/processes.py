"""``process_map``: CPU-bound pure Python on every core, and a trivial function.

Two workloads, each against a sequential loop and the standard library's
process pools, every variant starting (and ending) its own pool inside the
timed run:

- CPU-bound: the sum of squares up to 20,000 for each of 2,000 items.
  Peers: ``ProcessPoolExecutor.map`` (chunksize 1 and tuned) and
  ``multiprocessing.Pool.imap`` (chunksize 1 and tuned).
genpipe starts its workers with ``forkserver`` (never ``fork`` in a process
that runs threads), which costs more at start-up than the peers' ``fork``;
the ``mp_context='fork'`` row shows the difference.

- Trivial (x + 1 over 100,000 items), which prices chunking: genpipe's
  automatic chunk size against the best hand-tuned ``Pool.imap(chunksize=)``,
  and against ``Pool.imap`` on ``forkserver`` too, which separates what the
  start method costs from what genpipe does.

Both then run on a Dask ``LocalCluster`` of as many worker processes (where
``distributed`` is installed), started before the timed runs as a user's
cluster would be: its per-item overhead against ``process_map``'s, measured
while the cluster runs too.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from typing import Any

import genpipe as gp
from benchmarks.harness import Settings, Variant, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main

WORKERS = os.cpu_count() or 1
SEQUENTIAL = "sequential loop"
PROCESS_MAP = "genpipe process_map()"
TUNED_CHUNKS = (10, 100, 1_000, 5_000)

#: A variant's name and the function that runs it once.
Runner = tuple[str, Callable[[], None]]


class SumOfSquares:
    """A module-level callable, so worker processes can import it."""

    def __init__(self, upto: int) -> None:
        self.upto = upto

    def __call__(self, _: int) -> int:
        return sum(i * i for i in range(self.upto))


def plus_one(n: int) -> int:
    return n + 1


def _drain(results: Iterable[object]) -> None:
    for _ in results:
        pass


def _pool_imap(
    fn: Callable[[int], int], data: range, chunksize: int, method: str | None = None
) -> Runner:
    context = multiprocessing.get_context(method)

    def run() -> None:
        with context.Pool(WORKERS) as pool:
            _drain(pool.imap(fn, data, chunksize=chunksize))

    on = "" if method is None else f" on {method}"
    return (f"Pool.imap(chunksize={chunksize}){on}", run)


def _executor_map(fn: Callable[[int], int], data: range, chunksize: int) -> Runner:
    def run() -> None:
        with ProcessPoolExecutor(WORKERS) as pool:
            _drain(pool.map(fn, data, chunksize=chunksize))

    return (f"ProcessPoolExecutor.map(chunksize={chunksize})", run)


def _process_map(fn: Callable[[int], int], data: range) -> Runner:
    return (PROCESS_MAP, lambda: _drain(data | gp.process_map(fn)))


def _fork_process_map(fn: Callable[[int], int], data: range) -> Runner:
    # The peers' own default start method, for a like-for-like start-up.
    return (
        "genpipe process_map(mp_context='fork')",
        lambda: _drain(data | gp.process_map(fn, mp_context="fork")),
    )


@contextlib.contextmanager
def _dask_cluster() -> Iterator[Any]:
    """A running LocalCluster's client, or None where distributed is missing."""
    try:
        import distributed
    except ImportError:
        yield None
        return
    cluster = distributed.LocalCluster(
        n_workers=WORKERS,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    )
    with cluster, distributed.Client(cluster) as client:
        yield client


def _dask_variant(fn: Callable[[int], int], data: range, client: Any) -> Variant:
    def setup() -> Callable[[], None]:
        if client is None:
            raise ImportError("no distributed", name="distributed")
        executor = client.get_executor()
        return lambda: _drain(data | gp.executor_map(fn, executor))

    return Variant("genpipe executor_map() on a Dask LocalCluster", setup)


def _cpu_bound(fn: Callable[[int], int], data: range, tuned: int) -> list[Runner]:
    return [
        (SEQUENTIAL, lambda: _drain(fn(n) for n in data)),
        _process_map(fn, data),
        _fork_process_map(fn, data),
        _executor_map(fn, data, 1),
        _executor_map(fn, data, tuned),
        _pool_imap(fn, data, 1),
        _pool_imap(fn, data, tuned),
    ]


def _as_variants(runners: list[Runner]) -> list[Variant]:
    return [Variant(name, partial(_ready, run)) for name, run in runners]


def _ready(run: Callable[[], None]) -> Callable[[], None]:
    return run


def run(settings: Settings) -> Report:
    items = settings.size(2_000, 40)
    cpu = SumOfSquares(settings.size(20_000, 2_000))
    tuned = max(1, items // (8 * WORKERS))
    cpu_data = range(items)
    cpu_measured = measure(
        _as_variants(_cpu_bound(cpu, cpu_data, tuned)), settings.runs
    )
    trivial_items = settings.size(100_000, 2_000)
    data = range(trivial_items)
    hand_tuned = [_pool_imap(plus_one, data, size) for size in TUNED_CHUNKS]
    trivial = [_process_map(plus_one, data), _fork_process_map(plus_one, data)]
    trivial += [*hand_tuned, _pool_imap(plus_one, data, 1_000, "forkserver")]
    trivial_measured = measure(_as_variants(trivial), settings.runs)
    # A running cluster takes CPU and the GIL (its scheduler is a thread
    # here) from whatever else runs: process_map is measured again beside it.
    with _dask_cluster() as client:
        dask_cpu = measure(
            [
                *_as_variants([_process_map(cpu, cpu_data)]),
                _dask_variant(cpu, cpu_data, client),
            ],
            settings.runs,
        )
        dask_trivial = measure(
            [
                *_as_variants([_process_map(plus_one, data)]),
                _dask_variant(plus_one, data, client),
            ],
            settings.runs,
        )
    tuned_names = {name for name, _ in hand_tuned}
    best = min(
        (m for m in trivial_measured if m.name in tuned_names),
        key=lambda m: m.median,
    )
    return Report(
        workload="processes",
        summary=(
            f"{items:,} items of CPU-bound pure Python (sum of squares to "
            f"{cpu.upto:,}) on {WORKERS} processes, baseline {SEQUENTIAL}; then "
            f"x + 1 over {trivial_items:,} items, genpipe's automatic chunks "
            f"against Pool.imap at chunk sizes {TUNED_CHUNKS} (best: {best.name}). "
            "Every pool starts and stops inside each timed run. Then both on a "
            f"Dask LocalCluster of {WORKERS} worker processes, started before "
            "the timed runs, against process_map measured beside it."
        ),
        tables=(
            speed_table("CPU-bound", cpu_measured, items, [SEQUENTIAL]),
            speed_table(
                "Trivial work",
                trivial_measured,
                trivial_items,
                [best.name, PROCESS_MAP],
            ),
            speed_table("CPU-bound, on Dask", dask_cpu, items, [PROCESS_MAP]),
            speed_table(
                "Trivial work, on Dask", dask_trivial, trivial_items, [PROCESS_MAP]
            ),
        ),
        raw={
            "items": items,
            "trivial_items": trivial_items,
            "cpu": raw_runs(cpu_measured),
            "trivial": raw_runs(trivial_measured),
            "dask_cpu": raw_runs(dask_cpu),
            "dask_trivial": raw_runs(dask_trivial),
        },
        baseline=SEQUENTIAL,
        ratios=ratios_to(cpu_measured, SEQUENTIAL),
    )


if __name__ == "__main__":
    main({"processes": run})
