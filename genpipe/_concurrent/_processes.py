"""The process backend and `process_map`: a process pool the run owns."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.context import BaseContext
from typing import TypeVar, Unpack

from genpipe._concurrent._engine import MapEngine, map_stage
from genpipe._concurrent._executor import ExecutorBackend, check_picklable
from genpipe._core import Stage, describe
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")


class ProcessBackend(ExecutorBackend):
    """An `ExecutorBackend` over a ``ProcessPoolExecutor`` the run starts and ends."""

    def __init__(
        self, workers: int, context: BaseContext, fn: object, policy: Policy
    ) -> None:
        super().__init__(None, workers, fn, policy)
        self._context = context
        self._pool: ProcessPoolExecutor | None = None
        #: Taken, without waiting, by the one `stop` that starts the reaper,
        #: which sets the event once the reaper is running.
        self._reaping = threading.Lock()
        self._reaper_started = threading.Event()
        self._reaper: threading.Thread | None = None

    def start(self, engine: MapEngine) -> None:
        if self._context.get_start_method() == "forkserver":
            _preload_genpipe()
        self._pool = ProcessPoolExecutor(
            self.workers, mp_context=self._context, initializer=_ignore_ctrl_c
        )
        self._executor = self._pool
        super().start(engine)
        if engine.crew.stopping:  # stopped from another thread meanwhile
            self.stop()

    def stop(self) -> None:
        super().stop()
        # Shutting the pool down blocks, and a finaliser may be calling: a
        # thread of its own does it, which `join` waits for.
        if self._pool is not None and self._reaping.acquire(blocking=False):
            self._reaper = threading.Thread(
                target=self._shut_down, name="genpipe-pool-reaper", daemon=True
            )
            self._reaper.start()
            self._reaper_started.set()

    def join(self) -> None:
        if self._pool is not None:
            # Another thread's `stop` may still be starting the reaper.
            self._reaper_started.wait()
            assert self._reaper is not None
            self._reaper.join()

    def _shut_down(self) -> None:
        pool = self._pool
        assert pool is not None
        # Taken before shutdown(), which forgets them.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        if self.running():
            # A call still running is not waited for: its process goes.
            for process in processes:
                process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)
        for process in processes:
            process.join()


def _ignore_ctrl_c() -> None:
    # Ctrl-C reaches every process of the terminal's group. Here it is the
    # consumer's: it ends the run, which terminates the workers; a worker
    # interrupted on its own would only print a traceback and break the pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


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
    **errors: Unpack[ErrorOptions[T, U]],
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
        options={} if workers is None else {"workers": workers},
    )
    check_picklable("process_map", fn, policy)
    return stage
