"""The executor backend and `executor_map`: chunks run as tasks of an Executor.

One dispatcher thread submits each chunk as one task. The task runs the
calls (and their retries) where the executor runs it and sends back plain
data: the results, and a `RemoteFailure` for an item that failed. The done
callback applies ``on_error`` here, in this process, and settles the chunk.
"""

from __future__ import annotations

import concurrent.futures
import itertools
import os
import pickle
import platform
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from functools import partial
from typing import Any, NamedTuple, TypeVar, Unpack

from genpipe._concurrent._engine import (
    Backend,
    Chunk,
    MapEngine,
    TaskTiming,
    map_stage,
)
from genpipe._core import Stage, describe
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable

T = TypeVar("T")
U = TypeVar("U")

#: A chunk's task returns its outcomes (a `RemoteFailure` for a failed item),
#: the positions of the failures among them, and when and where it ran.
TaskResult = tuple[list[Any], list[int], TaskTiming]


class RemoteTracebackError(Exception):
    """The traceback of an exception raised in another process, as text."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


class RemoteFailure:
    """An exception raised where a task ran, in a form that survives pickling.

    An exception that pickles faithfully travels as itself. One that does not
    (a custom ``__init__`` whose ``args`` do not rebuild it) travels as its
    class, ``args`` and attributes, and is rebuilt without calling
    ``__init__`` — so it keeps its type and message either way.
    """

    __slots__ = ("args", "kind", "message", "state", "text", "whole")

    def __init__(self, exc: Exception) -> None:
        self.text = "".join(traceback.format_exception(exc))
        self.message = f"{type(exc).__qualname__}: {exc}"
        self.whole: Exception | None = exc if _round_trips(exc) else None
        self.kind: type[Exception] | None = None
        self.args: tuple[Any, ...] = ()
        self.state: dict[str, Any] = {}
        if self.whole is None:
            self.kind = type(exc) if _pickles(type(exc)) else None
            self.args = exc.args if _pickles(exc.args) else (str(exc),)
            self.state = {k: v for k, v in vars(exc).items() if _pickles(v)}

    def __getstate__(self) -> tuple[Any, ...]:
        return (self.text, self.message, self.whole, self.kind, self.args, self.state)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        self.text, self.message, self.whole, self.kind, self.args, self.state = state

    def rebuild(self) -> Exception:
        """The exception again, its remote traceback text as the ``__cause__``."""
        exc = self.whole if self.whole is not None else self._without_init()
        exc.__cause__ = RemoteTracebackError(self.text)
        return exc

    def _without_init(self) -> Exception:
        kind = self.kind
        if kind is not None:
            try:
                exc = kind.__new__(kind, *self.args)
                exc.args = self.args
                vars(exc).update(self.state)
            except Exception:  # a class that refuses: say what it was
                pass
            else:
                return exc
        return RuntimeError(self.message)


def _pickles(value: object) -> bool:
    try:
        pickle.dumps(value)
    except Exception:
        return False
    return True


def _round_trips(exc: Exception) -> bool:
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        return False
    return type(copy) is type(exc) and str(copy) == str(exc)


#: In a worker process of `process_map`: where its tasks say when they
#: start (two numbers per worker: the task's number, then the time), and
#: which two are this process's. Set by `report_starts`.
_starts: Any = None
_slot = 0


def report_starts(starts: Any, workers: Any) -> None:
    """A pool's initializer: this process's tasks will write their starts in ``starts``.

    ``workers`` (a shared ``multiprocessing.Value``) counts the processes so
    far, which gives each its own slot.
    """
    global _starts, _slot
    with workers.get_lock():
        _slot = workers.value
        workers.value += 1
    _starts = starts


def run_chunk(
    call: Callable[[Any], Any],
    items: list[Any],
    keep_going: bool,
    ticket: tuple[str, int],
) -> TaskResult:
    """A task's body: ``call`` each item; on a failure stop, unless ``keep_going``.

    ``ticket`` (the run, the task's number) is unique per task, so an
    executor that caches by arguments (Dask's ``pure=True``) never takes two
    calls of an impure function for one.
    """
    if _starts is not None:
        # The time first: a reader that sees this task's number sees its time.
        _starts[2 * _slot + 1] = time.monotonic()
        _starts[2 * _slot] = ticket[1]
    outcomes: list[Any] = []
    failed: list[int] = []
    started = time.perf_counter()
    for item in items:
        try:
            outcomes.append(call(item))
        except Exception as exc:
            failed.append(len(outcomes))
            outcomes.append(RemoteFailure(exc))
            if not keep_going:
                break
    ended = time.perf_counter()
    worker = (platform.node(), os.getpid(), threading.get_ident())
    return outcomes, failed, TaskTiming(worker, started, ended)


class Task(NamedTuple):
    """A chunk submitted as a task: to which executor, with which number."""

    chunk: Chunk
    executor: Executor
    number: int


class ExecutorBackend(Backend):
    """Chunks as tasks of an executor; no more than two per worker in flight.

    The executor belongs to whoever passed it: `stop` cancels the tasks that
    have not started, and nothing here shuts it down.
    """

    # A round trip costs 0.1 ms (a thread pool) to 10 ms (a cluster): on
    # trivial calls a chunk needs thousands of items to amortise it.
    max_chunk = 8192

    def __init__(
        self, executor: Executor | None, workers: int, fn: Any, policy: Policy
    ) -> None:
        self.workers = workers
        #: None until a subclass that owns its executor starts it.
        self._executor = executor
        self._call = policy.retrying(fn)
        self._policy = policy
        self._keep_going = policy.on_error != "raise"
        self._run = f"genpipe-{uuid.uuid4().hex}"
        self._numbers = itertools.count(1)
        #: Each task not yet done: its chunk, the executor it went to and its
        #: number; it is taken out by whoever settles its chunk (`_done`,
        #: `expire`).
        self._futures: dict[Future[TaskResult], Task] = {}
        #: Tasks being submitted, not yet in ``_futures``.
        self._submitting = 0
        # Reentrant: a finaliser that stops the run may run in a thread that
        # holds it.
        self._lock = threading.RLock()
        self._engine: MapEngine | None = None

    def start(self, engine: MapEngine) -> None:
        self._engine = engine
        engine.crew.add("dispatcher", partial(engine.dispatch, submit=self._submit))

    def _submit(self, chunk: Chunk) -> None:
        engine = self._engine
        assert engine is not None
        with self._lock:
            executor = self._executor
            if executor is None:  # a pool of our own, and the run stopped
                return
            self._submitting += 1
        number = next(self._numbers)
        try:
            future = executor.submit(
                run_chunk,
                self._call,
                chunk.items,
                self._keep_going,
                (self._run, number),
            )
        except Exception as exc:  # a shut-down or broken executor
            with self._lock:
                self._submitting -= 1
            engine.settle_outcomes(chunk, [], exc)
            return
        with self._lock:
            self._submitting -= 1
            self._futures[future] = Task(chunk, executor, number)
        future.add_done_callback(partial(self._done, chunk))

    def _done(self, chunk: Chunk, future: Future[TaskResult]) -> None:
        with self._lock:
            if self._futures.pop(future, None) is None:
                return  # its chunk was given up on (`expire`)
        engine = self._engine
        assert engine is not None
        if future.cancelled() or engine.crew.stopping:
            return
        try:
            results, failed, timing = future.result()
        # The pool failed, not the function (or a worker got a Ctrl-C of its
        # own): the consumer gets it, and this callback's thread goes on.
        except BaseException as exc:
            engine.settle_outcomes(chunk, [], exc)
            return
        failure: BaseException | None = None
        recover = self._policy.recover
        for index in failed:
            outcome = results[index]
            try:
                results[index] = recover(outcome.rebuild(), chunk.items[index])
            except Exception as exc:
                failure = exc
                del results[index:]
                break
        engine.settle_outcomes(chunk, results, failure, timing, skips=bool(failed))

    def expire(self, chunk: Chunk, error: TimeoutError) -> None:
        engine = self._engine
        assert engine is not None
        with self._lock:
            found = [f for f, task in self._futures.items() if task.chunk is chunk]
            if not found:
                return  # its outcome came first
            executor = self._futures.pop(found[0]).executor
        found[0].cancel()
        self._abandoned(executor)
        try:
            outcome = self._policy.recover(error, chunk.items[0])
        except Exception as exc:
            engine.settle_outcomes(chunk, [], exc)
        else:
            engine.settle_outcomes(chunk, [outcome], None)

    def _abandoned(self, executor: Executor) -> None:
        """A call on ``executor`` was given up on; it runs on, there, to its end."""

    def stop(self) -> None:
        with self._lock:
            pending = list(self._futures)
        for future in pending:
            future.cancel()

    def running(self, executor: Executor | None = None) -> bool:
        """True while a task (on ``executor``) that was not cancelled still runs."""
        with self._lock:
            return any(executor in (None, t.executor) for t in self._futures.values())

    def tasks_on(self, executor: Executor) -> list[Future[Any]] | None:
        """The tasks on ``executor`` not done yet, except those given up on;
        None while a task is being submitted (to it, perhaps)."""
        with self._lock:
            if self._submitting:
                return None
            return [f for f, t in self._futures.items() if t.executor is executor]

    def task_of(self, chunk: Chunk) -> Task | None:
        """``chunk``'s task, unless it is done or given up on."""
        with self._lock:
            return next((t for t in self._futures.values() if t.chunk is chunk), None)


class _Shown:
    """An executor as a stage's repr shows it: its class and its size."""

    def __init__(self, executor: Executor) -> None:
        count = getattr(executor, "_max_workers", None)
        size = "" if count is None else f"max_workers={count}"
        self._text = f"{type(executor).__name__}({size})"

    def __repr__(self) -> str:
        return self._text


def check_picklable(factory: str, fn: Callable[..., Any], policy: Policy) -> None:
    """Fail now, not in a worker, if ``fn`` (or retries' ``sleep``) does not pickle."""
    sleep = policy.sleep if policy.retries else None
    for param, value in (("fn", fn), ("sleep", sleep)):
        try:
            pickle.dumps(value)
        except Exception as exc:
            raise TypeError(
                f"{factory}() sends {param} to worker processes, so it must pickle, "
                f"but {describe(value)} does not ({exc}); use a function defined "
                "at module level (not a lambda, a nested function or a bound "
                "method of an object that does not pickle)"
            ) from None


def workers_of(executor: Executor) -> int:
    """How many calls ``executor`` runs at once, as far as it says."""
    count = getattr(executor, "_max_workers", None)
    if isinstance(count, int) and count > 0:
        return count
    client = getattr(executor, "_client", None)  # Dask's ClientExecutor
    nthreads = getattr(client, "nthreads", None)
    if callable(nthreads):
        total = sum(nthreads().values())
        if total > 0:
            return int(total)
    return os.cpu_count() or 1


def executor_map(
    fn: Callable[[T], U],
    executor: Executor,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    chunksize: int | None = None,
    timeout: float | None = None,
    **errors: Unpack[ErrorOptions[U]],
) -> Stage[T, U]:
    """Apply ``fn`` to every item as tasks of a `concurrent.futures.Executor` you own.

    Any executor works: a ``ThreadPoolExecutor``, a ``ProcessPoolExecutor``
    shared by several stages, loky, or Dask's ``client.get_executor()`` to
    run on a cluster. Items travel in chunks, one task each; chunks grow
    until the measured cost of a task is amortised (``chunksize=`` fixes
    it). Unlike ``Executor.map``, it reads ahead only a bounded window
    (``maxsize`` as in `thread_map`) and at most two tasks per worker are
    in flight.

    Error options work as in `map`: retries run in the task, next to the
    call; ``on_error`` runs here, so a handler such as `DeadLetters` needs
    not pickle. A failure arrives with its type and message, the remote
    traceback text as its ``__cause__`` and a note naming the item.

    ``timeout`` (seconds) bounds each item's task from its submission, which
    then holds one item, with one task per worker: a task that takes longer
    fails its item with `TimeoutError`, which ``on_error`` handles. The call
    is abandoned, not stopped: it runs on in the executor, whose worker stays
    busy until it returns.

    Sharp edge: genpipe never shuts the executor down. When the run ends,
    tasks not yet started are cancelled; a task already running finishes
    in the executor and its result is dropped.

    >>> import genpipe as gp
    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(2) as pool:
    ...     range(5) | gp.executor_map(abs, pool) | gp.to_list()
    [0, 1, 2, 3, 4]
    """
    check_callable("executor_map", "fn", fn)
    if not isinstance(executor, concurrent.futures.Executor):
        raise TypeError(
            "executor_map() needs executor to be a concurrent.futures.Executor "
            f"(a ThreadPoolExecutor, a ProcessPoolExecutor, client.get_executor() "
            f"of Dask), got {describe(executor)}"
        )

    policy = Policy("executor_map", **errors)
    stage = map_stage(
        "executor_map",
        fn,
        lambda: ExecutorBackend(executor, workers_of(executor), fn, policy),
        ordered=ordered,
        maxsize=maxsize,
        policy=policy,
        chunksize=chunksize,
        timeout=timeout,
        options={"executor": _Shown(executor)},
    )
    if isinstance(executor, ProcessPoolExecutor):
        check_picklable("executor_map", fn, policy)
    return stage
