"""Doubles for testing concurrent stages: thread-safe instrumented sources.

Everything here orders events with `threading.Event`, never with sleeps.
"""

from __future__ import annotations

import atexit
import functools
import itertools
import multiprocessing
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any, Generic, TypeVar

import genpipe as gp

T = TypeVar("T")

#: Generous bound for "this should happen promptly"; only reached on failure.
PROMPTLY = 2.0


class GuardedSource(Generic[T]):
    """An iterator that records how far ahead of the consumer it was pulled.

    ``pulls`` counts items handed out; the consumer reports what it received
    with `received`; ``max_ahead`` is the most items ever pulled and not yet
    received. A non-blocking lock catches two threads inside ``next()`` at
    once (``overlaps``).
    """

    def __init__(self, items: Iterable[T]) -> None:
        self._items = iter(items)
        self._inside = threading.Lock()
        self.pulls = 0
        self.consumed = 0
        self.max_ahead = 0
        self.overlaps = 0
        self.closed = False

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if not self._inside.acquire(blocking=False):
            self.overlaps += 1
            self._inside.acquire()
        try:
            item = next(self._items)
            self.pulls += 1
            self.max_ahead = max(self.max_ahead, self.pulls - self.consumed)
            return item
        finally:
            self._inside.release()

    def received(self, count: int = 1) -> None:
        self.consumed += count

    def close(self) -> None:
        self.closed = True


class PingPongSource:
    """Yields 0, 1, 2, ... but item n + 1 only after the consumer got item n.

    A stage that held items back to batch them would deadlock on it; the
    wait for the consumer times out (and fails the test) after `PROMPTLY`.
    """

    def __init__(self, count: int) -> None:
        self.count = count
        self.delivered = threading.Semaphore(0)

    def __iter__(self) -> Iterator[int]:
        for n in range(self.count):
            if n:
                assert self.delivered.acquire(timeout=PROMPTLY), (
                    f"{n - 1} was held back"
                )
            yield n

    def got(self) -> None:
        self.delivered.release()


def blocking_source(
    started: threading.Event, release: threading.Event
) -> Iterator[int]:
    """Yields 0, then waits for ``release`` before ending (or 1 s at most)."""
    yield 0
    started.set()
    release.wait(1.0)


def wait_until(condition: Callable[[], bool], timeout: float = PROMPTLY) -> bool:
    """Poll ``condition`` until it holds; return whether it did in time."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def endless() -> Iterator[int]:
    return itertools.count()


def same(n: int) -> int:
    return n


def is_int(n: int) -> bool:
    return isinstance(n, int)


def alone(n: int) -> list[int]:
    return [n]


def same_with(n: int, resource: object) -> int:
    return n


async def async_same(n: int) -> int:
    return n


def flat(outputs: Iterable[Any]) -> list[Any]:
    """The outputs with (nested) batches and groups unpacked, so stages read alike.

    A batch is a list; a group is a ``(key, list)`` pair, whose key is dropped.
    """
    return [x for out in outputs for x in _unpacked(out)]


def _unpacked(out: Any) -> list[Any]:
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], list):
        return flat(out[1])
    return flat(out) if isinstance(out, list) else [out]


@functools.cache
def shared_thread_pool() -> ThreadPoolExecutor:
    """One thread pool for every test that passes a caller-owned executor."""
    pool = ThreadPoolExecutor(3, thread_name_prefix="shared-pool")
    atexit.register(pool.shutdown)
    return pool


@functools.cache
def shared_process_pool() -> ProcessPoolExecutor:
    """One 2-worker process pool for every test that passes one: pools start slowly."""
    pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("forkserver"))
    atexit.register(pool.shutdown)
    return pool


@functools.cache
def shared_dask_client() -> Any:
    """A Dask client of one 2-process LocalCluster for the whole session.

    It starts in about 2 s, so only once, the first time a test asks; the
    session fixture `close_shared_dask_cluster` in conftest closes it.
    """
    import distributed  # only where the genpipe[dask] extra is installed

    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=":0",
    )
    return distributed.Client(cluster)


def close_shared_dask_client() -> None:
    if shared_dask_client.cache_info().currsize:
        client = shared_dask_client()
        cluster = client.cluster
        client.close()
        cluster.close()
        shared_dask_client.cache_clear()


def dask_executor() -> Any:
    """The shared cluster's executor; the test skips where Dask is not installed."""
    import pytest

    pytest.importorskip(
        "distributed", reason="the genpipe[dask] extra (distributed) is not installed"
    )
    return shared_dask_client().get_executor()


def stray_children() -> list[multiprocessing.process.BaseProcess]:
    """Child processes alive now, other than the shared pool's and Dask's workers."""
    shared = set()
    if shared_process_pool.cache_info().currsize:
        shared = {p.pid for p in (shared_process_pool()._processes or {}).values()}
    return [
        p
        for p in multiprocessing.active_children()
        if p.pid not in shared and not p.name.startswith("Dask")
    ]


#: Every concurrent stage over ints, as (id, factory) pairs for parametrize.
#: The timed batch and group_by have size 1 so that they never wait for their
#: deadline; read their output through `flat`. group_by keys by ``repr``, so
#: that it also takes its own groups as items.
CONCURRENT_STAGES: list[tuple[str, Callable[[], gp.Stage[int, object]]]] = [
    ("thread_map", lambda: gp.thread_map(same, workers=3, maxsize=8)),
    (
        "thread_map_unordered",
        lambda: gp.thread_map(same, workers=3, ordered=False, maxsize=8),
    ),
    ("thread_filter", lambda: gp.thread_filter(is_int, workers=3, maxsize=8)),
    ("thread_flat_map", lambda: gp.thread_flat_map(alone, workers=3, maxsize=8)),
    (
        "thread_map_with_resources",
        lambda: gp.thread_map(
            same_with, workers=3, maxsize=8, on_start=object, on_done=id
        ),
    ),
    ("async_map", lambda: gp.async_map(async_same, concurrency=3, maxsize=8)),
    (
        "async_map_unordered",
        lambda: gp.async_map(async_same, concurrency=3, ordered=False, maxsize=8),
    ),
    ("process_map", lambda: gp.process_map(same, workers=2, maxsize=8)),
    (
        "process_map_unordered",
        lambda: gp.process_map(same, workers=1, ordered=False, maxsize=8),
    ),
    (
        "process_map_timeout",
        lambda: gp.process_map(same, workers=2, maxsize=8, timeout=30.0),
    ),
    (
        "executor_map_threads",
        lambda: gp.executor_map(same, shared_thread_pool(), maxsize=8),
    ),
    (
        "executor_map_processes",
        lambda: gp.executor_map(same, shared_process_pool(), maxsize=8),
    ),
    ("executor_map_dask", lambda: gp.executor_map(same, dask_executor(), maxsize=8)),
    ("buffer", lambda: gp.buffer(maxsize=4)),
    ("timed_batch", lambda: gp.batch(1, max_wait=30.0)),
    ("timed_group_by", lambda: gp.group_by(repr, size=1, max_wait=30.0)),
]
#: The entries of `CONCURRENT_STAGES` whose tasks travel through a cluster.
ON_A_CLUSTER = {"executor_map_dask"}
