"""The concurrent variants: ways to run a stream through threads.

A `Flow` turns a stream of ints into a stream of ints through threads: one
producer thread handing items to the consumer, or a pool of workers applying
a function. The timing workloads (``handoff``, ``thread_map``, ``io_bound``)
time them; ``memory`` and ``early_stop`` run each in a fresh process and look
up the flow by name, so every flow here has a name unique across the module.

Peers get the same bound genpipe has where they offer one (pypeln's
``maxsize=64``); streamable bounds its in-flight items by itself.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import genpipe as gp
from benchmarks.harness import Settings, Variant
from benchmarks.streams import add_one, drain

Through = Callable[[Iterable[int]], Iterator[int]]
Row = tuple[str, ...]
Items = TypeVar("Items", int, None)

QUEUE_BASELINE = "queue.Queue per item"
EXECUTOR_BASELINE = "ThreadPoolExecutor.map"
#: The queue size of every single-producer handoff (genpipe's default).
HANDOFF_MAXSIZE = 64
#: The most items a bounded variant may read ahead of its consumer: 1% of the
#: million-item stream, and more than any variant's declared buffer (genpipe's
#: thread_map reads up to 512 items per worker ahead, to hand out big chunks).
READ_BOUND = 10_000


@dataclass(frozen=True)
class Flow:
    """A named concurrent variant; ``build`` imports what it needs.

    An `ImportError` from ``build`` means the peer is not installed.
    """

    name: str
    build: Callable[[], Through]


def timed_flow(
    flow: Flow,
    data: Sequence[int],
    consume: Callable[[Iterator[int]], object] = drain,
) -> Variant:
    """A timing variant that runs ``data`` through ``flow`` into ``consume``."""

    def setup() -> Callable[[], object]:
        through = flow.build()
        return lambda: consume(through(data))

    return Variant(flow.name, setup)


def identity(x: int) -> int:
    return x


def queue_handoff(items: Iterable[int]) -> Iterator[int]:
    """The hand-written handoff: a producer thread puts, the consumer gets.

    Deliberately naive, as such code usually is: if the consumer stops early,
    the producer stays blocked on a full queue forever.
    """
    handoff: queue.Queue[int | None] = queue.Queue(HANDOFF_MAXSIZE)

    def produce() -> None:
        for item in items:
            handoff.put(item)
        handoff.put(None)

    threading.Thread(target=produce, daemon=True).start()
    while (item := handoff.get()) is not None:
        yield item


def executor_map(fn: Callable[[int], int], workers: int) -> Through:
    """``ThreadPoolExecutor.map``, which submits the whole input before yielding."""

    def through(items: Iterable[int]) -> Iterator[int]:
        with ThreadPoolExecutor(workers) as pool:
            yield from pool.map(fn, items)

    return through


def pypeln_map(
    fn: Callable[[int], int], workers: int, maxsize: int = HANDOFF_MAXSIZE
) -> Through:
    """pypeln's ``thread.map``; its own default ``maxsize=0`` means unbounded."""
    import pypeln

    thread = pypeln.thread
    return lambda items: iter(thread.map(fn, items, workers=workers, maxsize=maxsize))


def streamable_map(fn: Callable[[int], int], workers: int) -> Through:
    from streamable import stream

    return lambda items: iter(stream(items).map(fn, concurrency=workers))


def streamable_buffer() -> Through:
    from streamable import stream

    return lambda items: iter(stream(items).buffer(HANDOFF_MAXSIZE))


def genpipe_buffer() -> Through:
    stage: gp.Stage[int, int] = gp.buffer(maxsize=HANDOFF_MAXSIZE)
    return stage


def handoff_flows() -> list[Flow]:
    """One producer thread handing items to the consumer, baseline first.

    In streamable 2, ``map(concurrency=1)`` runs in the caller's thread, so
    its producer-thread stage is ``.buffer()``.
    """
    return [
        Flow(QUEUE_BASELINE, lambda: queue_handoff),
        Flow("genpipe buffer()", genpipe_buffer),
        Flow("pypeln.thread, 1 worker", lambda: pypeln_map(identity, 1)),
        Flow("streamable .buffer()", streamable_buffer),
    ]


def mapping_flows(fn: Callable[[int], int], workers: int) -> list[Flow]:
    """``workers`` threads applying ``fn``, baseline first.

    pypeln's ``thread.map`` yields in completion order; the others keep the
    input order unless told otherwise. genpipe runs twice in order: with its
    default read-ahead (512 items per worker, so workers take big chunks) and
    with pypeln's 64, which prices that choice.
    """
    return [
        Flow(EXECUTOR_BASELINE, lambda: executor_map(fn, workers)),
        Flow("genpipe thread_map()", lambda: gp.thread_map(fn, workers=workers)),
        Flow(
            "genpipe thread_map(ordered=False)",
            lambda: gp.thread_map(fn, workers=workers, ordered=False),
        ),
        Flow(
            f"genpipe thread_map(maxsize={HANDOFF_MAXSIZE})",
            lambda: gp.thread_map(fn, workers=workers, maxsize=HANDOFF_MAXSIZE),
        ),
        Flow("pypeln.thread.map", lambda: pypeln_map(fn, workers)),
        Flow(
            f"streamable map(concurrency={workers})",
            lambda: streamable_map(fn, workers),
        ),
    ]


def every_flow() -> dict[str, Flow]:
    """Every concurrent variant by name: handoffs, 4-worker maps, ``merge``.

    It adds pypeln with its default unbounded queues, which is how most code
    calls it.
    """
    flows = handoff_flows() + mapping_flows(add_one, workers=4)
    flows += [
        Flow(
            "pypeln.thread.map, default maxsize=0",
            lambda: pypeln_map(add_one, 4, maxsize=0),
        ),
        Flow("genpipe merge()", lambda: lambda items: iter(gp.merge(items))),
    ]
    return {flow.name: flow for flow in flows}


def genpipe_failures(rows: Sequence[Row]) -> tuple[str, ...]:
    """The genpipe variants among ``rows`` whose verdict, the last column, is "no"."""
    return tuple(
        row[0] for row in rows if row[0].startswith("genpipe") and row[-1] == "no"
    )


def judge_every_flow(
    settings: Settings,
    items: Items,
    judge: Callable[[str, int | Items], tuple[Row, object]],
) -> tuple[tuple[Row, ...], dict[str, object]]:
    """Judge each variant on ``items`` items (None: endless): its row and raw result.

    ``ThreadPoolExecutor.map`` submits its whole input before it yields
    anything, so it is judged on a finite stream it can survive instead, and
    fails all the same.
    """
    executor_items = settings.size(100_000, 20_000)
    rows = []
    raw = {}
    for name in every_flow():
        row, raw[name] = judge(
            name, executor_items if name == EXECUTOR_BASELINE else items
        )
        rows.append(row)
    return tuple(rows), raw
