"""The thread backend and `thread_map`: genpipe's own worker threads run the chunks."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, Unpack

from genpipe._concurrent._engine import Backend, MapEngine, map_stage
from genpipe._core import Stage
from genpipe._errors import ErrorOptions, Policy
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")


class ThreadBackend(Backend):
    """``workers`` crew threads, each claiming chunks and calling the function itself.

    The fast path: no future and no queue per item, only a deque append per
    result and a lock per chunk.
    """

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def start(self, engine: MapEngine) -> None:
        for _ in range(self.workers):
            engine.crew.add("worker", engine.work)


def thread_map(
    fn: Callable[[T], U],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    **errors: Unpack[ErrorOptions[U]],
) -> Stage[T, U]:
    """Apply ``fn`` to every item in ``workers`` threads at once.

    Use it when ``fn`` waits (network, disk, a database, a C extension that
    releases the GIL): up to ``workers`` calls are in progress at a time.
    For pure-Python CPU work, threads add nothing under the GIL (they do on a
    free-threaded build); use `process_map` there.

    ``ordered=True`` yields results in input order, each as soon as it and
    every earlier one are ready; ``ordered=False`` yields them as they
    complete, which keeps slow items from holding fast ones back.

    ``maxsize=None`` reads ahead adaptively: about two items per worker at
    first, widened (up to ``512 * workers``) only while workers wait for
    items and calls are short — so a slow function never has more than a
    few items per worker in flight, and a fast one still gets large chunks.
    An explicit ``maxsize`` is a hard bound on items read from upstream and
    not yet yielded: a slow consumer makes the stage stop reading.

    The `ErrorOptions` (``on_error``, ``retries``, ...) work as in `map`. An
    exception raised by ``fn`` reaches the
    consumer as the same object, with a note naming the stage and the item;
    with ``ordered=True`` every earlier result is yielded first. Threads
    start at the first ``next()`` and end with the run.

    Sharp edge: a call stuck in ``fn`` cannot be interrupted; when the run
    ends it is abandoned, and its thread ends once the call returns.

    >>> import genpipe as gp
    >>> range(6) | gp.thread_map(lambda n: n * n, workers=3) | gp.to_list()
    [0, 1, 4, 9, 16, 25]
    """
    check_callable("thread_map", "fn", fn)
    check_int("thread_map", "workers", workers, minimum=1)
    return map_stage(
        "thread_map",
        fn,
        lambda: ThreadBackend(workers),
        ordered=ordered,
        maxsize=maxsize,
        policy=Policy("thread_map", **errors),
        options={} if workers == 4 else {"workers": workers},
    )
