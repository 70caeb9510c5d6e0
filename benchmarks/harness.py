"""Timing: every variant of a workload measured in one process, interleaved.

Runs go A B C A B C ... rather than A A A B B B, so a slow stretch of the
machine (another process, thermal throttling) hits every variant alike, and
each variant's median is compared with a baseline measured in the same process.
"""

from __future__ import annotations

import gc
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Settings:
    """How a benchmark run is sized: the full run or a quick smoke check."""

    smoke: bool
    runs: int

    def size(self, full: int, smoke: int) -> int:
        """The workload size to use: ``full`` normally, ``smoke`` in smoke mode."""
        return smoke if self.smoke else full


@dataclass(frozen=True)
class Variant:
    """One way of doing a workload's job.

    ``setup`` imports what the variant needs and returns the function to time;
    an `ImportError` there marks the variant "not installed", so peers stay
    optional.
    """

    name: str
    setup: Callable[[], Callable[[], object]]


@dataclass(frozen=True)
class Measured:
    """A variant's timed runs, or why it could not run."""

    name: str
    seconds: tuple[float, ...] = ()
    #: What the untimed warm-up run returned, for workloads that check output.
    sample: object = None
    missing: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def measure(variants: Sequence[Variant], runs: int) -> list[Measured]:
    """Time each variant ``runs`` times, interleaved, after one warm-up run each.

    The garbage collector is paused during each timed run (as `timeit` does),
    after a full collection, so one variant's garbage is never collected on
    another variant's clock.
    """
    ready: list[tuple[str, Callable[[], object]]] = []
    missing: dict[str, str] = {}
    for variant in variants:
        try:
            ready.append((variant.name, load(variant.setup)))
        except ImportError as exc:
            missing[variant.name] = not_installed(exc)
    samples = {name: run() for name, run in ready}
    seconds: dict[str, list[float]] = {name: [] for name, _ in ready}
    for _ in range(runs):
        for name, run in ready:
            seconds[name].append(timed(run))
    return [
        Measured(variant.name, missing=missing[variant.name])
        if variant.name in missing
        else Measured(
            variant.name,
            tuple(seconds[variant.name]),
            samples[variant.name],
        )
        for variant in variants
    ]


def load(setup: Callable[[], T]) -> T:
    """Run a variant's setup (which imports its peer) with warnings silenced.

    Some peers warn on import about their own dependencies (pypeln about
    ``pkg_resources``); that noise says nothing about the benchmark.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return setup()


def not_installed(exc: ImportError) -> str:
    """How a table shows a variant whose peer (or one of its imports) is missing."""
    return f"not installed ({exc.name or exc})"


def timed(run: Callable[[], object]) -> float:
    """Seconds one call of ``run`` takes, with the garbage collector paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        gc.enable()
