"""``readahead``: how far each mapper reads ahead of its consumer.

For a trivial function and for a 5 ms (I/O-bound) one, at 4 and 16 workers:
how many items the source had handed out when the first result arrived, and
the most ever read and not yet consumed. genpipe's adaptive read-ahead
should stay within ``4 x workers`` for the slow function and still widen
for the trivial one. ``ThreadPoolExecutor.map`` submits its whole input
before yielding; streamable is shown where installed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

import genpipe as gp
from benchmarks.harness import Settings
from benchmarks.report import Report, Table
from benchmarks.runner import main
from benchmarks.streams import add_one

Mapper = Callable[[Callable[[int], int], int, Iterable[int]], Iterator[int]]


def slow(n: int) -> int:
    threading.Event().wait(0.005)
    return n


class Counted:
    """A source that records how far ahead of the consumer it was read."""

    def __init__(self, items: int) -> None:
        self._items = iter(range(items))
        self.pulls = 0
        self.consumed = 0
        self.max_ahead = 0

    def __iter__(self) -> Iterator[int]:
        return self

    def __next__(self) -> int:
        item = next(self._items)
        self.pulls += 1
        self.max_ahead = max(self.max_ahead, self.pulls - self.consumed)
        return item


def genpipe_mapper(
    fn: Callable[[int], int], workers: int, items: Iterable[int]
) -> Iterator[int]:
    return iter(gp.source(items) | gp.thread_map(fn, workers=workers))


def executor_mapper(
    fn: Callable[[int], int], workers: int, items: Iterable[int]
) -> Iterator[int]:
    pool = ThreadPoolExecutor(workers)
    try:
        yield from pool.map(fn, items)
    finally:
        pool.shutdown(cancel_futures=True)


def streamable_mapper(
    fn: Callable[[int], int], workers: int, items: Iterable[int]
) -> Iterator[int]:
    from streamable import stream

    results: Iterator[int] = iter(stream(items).map(fn, concurrency=workers))
    return results


MAPPERS: dict[str, Mapper] = {
    "genpipe thread_map()": genpipe_mapper,
    "ThreadPoolExecutor.map": executor_mapper,
    "streamable .map(concurrency=)": streamable_mapper,
}


def probe(mapper: Mapper, fn: Callable[[int], int], workers: int, items: int) -> str:
    source = Counted(items)
    try:
        results = mapper(fn, workers, source)
        first = next(results)
    except ImportError:
        return "not installed"
    at_first = source.pulls
    source.consumed = 1
    for _ in results:
        source.consumed += 1
    assert first == 0 or fn is add_one
    return f"{at_first:,} / {source.max_ahead:,}"


def run(settings: Settings) -> Report:
    rows = []
    raw: dict[str, object] = {}
    for fn, name, items in (
        (add_one, "trivial", settings.size(100_000, 5_000)),
        (slow, "5 ms", settings.size(400, 80)),
    ):
        for workers in (4, 16):
            cells = [probe(m, fn, workers, items) for m in MAPPERS.values()]
            rows.append((f"{name}, {workers} workers, {items:,} items", *cells))
            raw[f"{name}/{workers}"] = dict(zip(MAPPERS, cells, strict=True))
    return Report(
        workload="readahead",
        summary=(
            "Items read before the first result / most items read and not yet "
            "consumed. Target for genpipe with the 5 ms function: at most "
            "4 x workers for both."
        ),
        tables=(Table("Read-ahead", ("function", *MAPPERS), tuple(rows)),),
        raw=raw,
    )


if __name__ == "__main__":
    main({"readahead": run})
