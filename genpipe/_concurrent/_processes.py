"""The process backend and `process_map`: a process pool the run owns."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import Any, TypeVar, Unpack

from genpipe._concurrent._engine import Chunk, MapEngine, map_stage
from genpipe._concurrent._executor import (
    ExecutorBackend,
    check_picklable,
    report_starts,
)
from genpipe._concurrent._lifecycle import POLL_SECONDS
from genpipe._core import Stage, describe
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")


class ProcessBackend(ExecutorBackend):
    """An `ExecutorBackend` over a ``ProcessPoolExecutor`` the run starts and ends.

    With a ``timeout``, its workers write when each task starts into memory
    shared with this process, so that the timeout counts from then, not from
    a submission that waited for a worker to start. A late call leaves its
    worker stuck,
    and a pool cannot replace one worker: new chunks go to a new pool, and
    the old one is shut down, its stuck worker terminated, once the chunks
    its other workers run are done.
    """

    def __init__(
        self, workers: int, context: BaseContext, fn: object, policy: Policy
    ) -> None:
        super().__init__(None, workers, fn, policy)
        self._context = context
        #: Taken, without waiting, by the one `stop` that reaps the pool
        #: (once there is one), which sets the event once that reaper is
        #: there to be joined.
        self._stopping = threading.Lock()
        self._stopped = threading.Event()
        #: The threads shutting pools down; `join` waits for them all.
        self._reapers: list[threading.Thread] = []
        #: Each pool's shared record of task starts (`report_starts`).
        self._starts: dict[Executor, Any] = {}

    def start(self, engine: MapEngine) -> None:
        if self._context.get_start_method() == "forkserver":
            _preload_genpipe()
        self._engine = engine  # `_new_pool` looks at its timeout
        self._executor = self._new_pool()
        super().start(engine)
        if engine.crew.stopping:  # stopped from another thread meanwhile
            self.stop()

    def _new_pool(self) -> ProcessPoolExecutor:
        engine = self._engine
        assert engine is not None
        # Only a timeout needs the record, and sharing memory with a worker
        # that is not forked costs a file descriptor passed to each.
        starts = counter = None
        if engine.timeout is not None:
            starts = self._context.RawArray("d", 2 * self.workers)
            counter = self._context.Value("i", 0)
        pool = ProcessPoolExecutor(
            self.workers,
            mp_context=self._context,
            initializer=_start_worker,
            initargs=(starts, counter),
        )
        self._starts[pool] = starts
        return pool

    def started_at(self, chunk: Chunk) -> float | None:
        task = self.task_of(chunk)
        if task is None:
            return None
        starts = self._starts[task.executor]
        for slot in range(self.workers):
            if starts[2 * slot] == task.number:
                started: float = starts[2 * slot + 1]
                return started
        return None

    def stop(self) -> None:
        super().stop()
        with self._lock:
            pool = self._executor
            if pool is None or not self._stopping.acquire(blocking=False):
                return
            self._executor = None  # no pool is started after this
        self._reap(pool, drain=False)
        self._stopped.set()

    def _abandoned(self, executor: Executor) -> None:
        with self._lock:
            if executor is not self._executor:
                return  # already replaced, or the run is stopping
            self._executor = self._new_pool()
        self._reap(executor, drain=True)

    def join(self) -> None:
        if self._engine is not None:  # started
            self._stopped.wait()  # another thread's `stop` may be under way
        for reaper in self._reapers:
            reaper.join()

    def _reap(self, pool: Executor, *, drain: bool) -> None:
        # Shutting a pool down blocks, and a finaliser may be calling `stop`:
        # a thread of its own does it.
        reaper = threading.Thread(
            target=self._shut_down,
            args=(pool, drain),
            name="genpipe-pool-reaper",
            daemon=True,
        )
        with self._lock:
            self._reapers.append(reaper)
        reaper.start()

    def _shut_down(self, pool: Executor, drain: bool) -> None:
        assert isinstance(pool, ProcessPoolExecutor)
        engine = self._engine
        assert engine is not None
        # A pool given up on first finishes what its other workers run,
        # unless the run stops meanwhile.
        while drain and not engine.crew.stopping:
            tasks = self.tasks_on(pool)
            if tasks == []:
                break
            concurrent.futures.wait(tasks or (), timeout=POLL_SECONDS)
            if tasks is None:
                time.sleep(0.001)  # a task is being submitted
        # Taken before shutdown(), which forgets them.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if drain or self.running(pool):
            # A call still running is not waited for: its process goes.
            for process in processes:
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            process.join()


def _start_worker(starts: Any, counter: Any) -> None:
    # Ctrl-C reaches every process of the terminal's group. Here it is the
    # consumer's: it ends the run, which terminates the workers; a worker
    # interrupted on its own would only print a traceback and break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if starts is not None:
        report_starts(starts, counter)


def _preload_genpipe() -> None:
    # Every worker imports genpipe to run its chunks. A fork server that has
    # imported it (it does so when it starts, which is at the first pool's
    # first process) forks workers that have it already, which saves each
    # of them the import: most of a pool's start-up.
    from multiprocessing import forkserver  # POSIX only, like the method

    modules = getattr(
        getattr(forkserver, "_forkserver", None), "_preload_modules", None
    )
    if isinstance(modules, list) and "genpipe" not in modules:
        forkserver.set_forkserver_preload([*modules, "genpipe"])


def _context_of(mp_context: BaseContext | str | None) -> BaseContext:
    if mp_context is None:
        # Never fork by default: this process runs threads (genpipe's own at
        # least), and a forked child inherits their locks in whatever state.
        methods = multiprocessing.get_all_start_methods()
        return multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
    if isinstance(mp_context, str):
        try:
            return multiprocessing.get_context(mp_context)
        except ValueError:
            raise ValueError(
                f"process_map() needs mp_context to be one of "
                f"{multiprocessing.get_all_start_methods()} or a multiprocessing "
                f"context, got {mp_context!r}"
            ) from None
    if isinstance(mp_context, BaseContext):
        return mp_context
    raise TypeError(
        "process_map() needs mp_context to be a multiprocessing context "
        "(multiprocessing.get_context('spawn')) or its name, "
        f"got {describe(mp_context)}"
    )


def process_map(
    fn: Callable[[T], U],
    workers: int | None = None,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    chunksize: int | None = None,
    mp_context: BaseContext | str | None = None,
    timeout: float | None = None,
    **errors: Unpack[ErrorOptions[U]],
) -> Stage[T, U]:
    """Apply ``fn`` to every item in ``workers`` processes, past the GIL.

    Use it for CPU-bound pure-Python work. ``workers=None`` is
    ``os.cpu_count()``. Each run starts its own ``ProcessPoolExecutor`` at the
    first ``next()`` and shuts it down on every way out — exhaustion, break,
    an exception, ``close()``, ``cancel()`` — with no child process left; a
    call still running then is not waited for: its process is terminated.

    Items travel in chunks, which grow until the measured cost of a task
    (pickling, the round trip) is amortised; ``chunksize=`` fixes them.
    ``ordered``, ``maxsize`` and the error options work as in `thread_map`;
    retries run in the worker, ``on_error`` here. A failure arrives with its
    type and message, the remote traceback as its ``__cause__`` and a note
    naming the item. A worker that dies (killed, out of memory) ends the run
    with ``concurrent.futures.process.BrokenProcessPool``.

    ``timeout`` (seconds) bounds each item's call, retries included, from
    the moment a worker starts it: a later one fails with `TimeoutError`,
    which ``on_error`` handles, and its stuck worker is replaced (the pool
    with it, once its other workers are done). Items then travel one per
    task, which costs a round trip each (about 0.1 ms), so it takes no
    ``chunksize``.

    Workers start with ``forkserver`` where there is one, else ``spawn``
    (``mp_context=`` picks another: a context or its name) — never ``fork``,
    which is unsafe in a process that runs threads.

    Sharp edge: ``fn`` and the items go to other processes by pickling, so
    ``fn`` must be a module-level function (checked when the stage is built:
    a lambda or a closure is a ``TypeError``), and the workers import its
    module afresh — module globals set at run time are not there.

    >>> import genpipe as gp
    >>> range(5) | gp.process_map(abs, workers=2) | gp.to_list()
    [0, 1, 2, 3, 4]
    """
    check_callable("process_map", "fn", fn)
    count = (os.cpu_count() or 1) if workers is None else workers
    check_int("process_map", "workers", count, minimum=1)
    context = _context_of(mp_context)

    policy = Policy("process_map", **errors)
    stage = map_stage(
        "process_map",
        fn,
        lambda: ProcessBackend(count, context, fn, policy),
        ordered=ordered,
        maxsize=maxsize,
        policy=policy,
        chunksize=chunksize,
        timeout=timeout,
        options={} if workers is None else {"workers": workers},
    )
    check_picklable("process_map", fn, policy)
    return stage
