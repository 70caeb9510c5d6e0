"""The thread backend: genpipe's own worker threads run the chunks.

`thread_map`, `thread_filter` and `thread_flat_map` are this backend with a
different call per item; with ``on_start=``, each worker thread also owns a
resource for its whole life.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, Unpack, overload

from genpipe._concurrent._engine import Backend, MapEngine, map_stage
from genpipe._concurrent._lifecycle import Worker
from genpipe._core import Stage
from genpipe._errors import SKIPPED, ErrorOptions, Policy
from genpipe._validate import check_callable, check_int

T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")


class Resources:
    """Per-worker resources: ``on_start()`` makes one, ``fn(item, it)`` uses it,
    ``on_done(it)`` releases it — once per worker, however the run ends.
    """

    def __init__(
        self,
        fn: Callable[[Any, Any], Any],
        on_start: Callable[[], Any],
        on_done: Callable[[Any], object] | None,
        policy: Policy,
    ) -> None:
        self.fn = fn
        self.on_start = on_start
        self.on_done = on_done
        self.policy = policy

    def bound(self, resource: Any) -> Callable[[Any], Any]:
        """The call per item of a worker that holds ``resource``."""
        fn = self.fn
        return self.policy.wrap(lambda item: fn(item, resource))

    def run_worker(self, engine: MapEngine, worker: Worker) -> None:
        """A worker's body: make its resource, work with it, release it."""
        worker.busy = True
        try:
            resource = self.on_start()
        except BaseException as exc:  # reaches the consumer at the first item
            worker.busy = False
            engine.fail_first_claim(worker, exc, "its on_start() failed")
            return
        worker.busy = False
        try:
            engine.work(worker, self.bound(resource))
        finally:
            if self.on_done is not None:
                worker.busy = True
                try:
                    self.on_done(resource)
                except BaseException as exc:  # after the run: logged, not lost
                    engine.crew.failed(exc)
                finally:
                    worker.busy = False

    def eagerly(self, items: list[Any]) -> list[Any]:
        """The eager face: one resource, in this thread, for every item."""
        resource = self.on_start()
        try:
            call = self.bound(resource)
            return [r for r in map(call, items) if r is not SKIPPED]
        finally:
            if self.on_done is not None:
                self.on_done(resource)


class ThreadBackend(Backend):
    """``workers`` crew threads, each claiming chunks and calling the function itself.

    The fast path: no future and no queue per item, only a deque append per
    result and a lock per chunk.
    """

    def __init__(self, workers: int, resources: Resources | None = None) -> None:
        self.workers = workers
        self._resources = resources

    def start(self, engine: MapEngine) -> None:
        resources = self._resources
        for _ in range(self.workers):
            if resources is None:
                engine.crew.add("worker", engine.work)
            else:
                engine.crew.add(
                    "worker", lambda worker: resources.run_worker(engine, worker)
                )


def _thread_stage(
    factory: str,
    fn: Callable[..., Any],
    workers: int,
    *,
    ordered: bool,
    maxsize: int | None,
    errors: ErrorOptions[Any],
    call: Callable[[Policy], Callable[[Any], Any]],
    expand: bool = False,
    on_start: Callable[[], Any] | None = None,
    on_done: Callable[[Any], object] | None = None,
) -> Stage[Any, Any]:
    """What every thread-backed factory does: checks, policy, resources, stage."""
    check_callable(factory, "fn", fn)
    check_int(factory, "workers", workers, minimum=1)
    policy = Policy(factory, **errors)
    options: dict[str, object] = {} if workers == 4 else {"workers": workers}
    resources = None
    if on_start is not None:
        check_callable(factory, "on_start", on_start)
        if on_done is not None:
            check_callable(factory, "on_done", on_done)
        resources = Resources(fn, on_start, on_done, policy)
        options["on_start"] = on_start
        if on_done is not None:
            options["on_done"] = on_done
    elif on_done is not None:
        raise ValueError(
            f"{factory}() takes on_done= only with on_start=, which makes the "
            "resource that on_done releases"
        )
    return map_stage(
        factory,
        fn,
        lambda: ThreadBackend(workers, resources),
        ordered=ordered,
        maxsize=maxsize,
        policy=policy,
        call=call(policy),
        options=options,
        expand=expand,
        eager=None if resources is None else resources.eagerly,
    )


@overload
def thread_map(
    fn: Callable[[T], U],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    **errors: Unpack[ErrorOptions[U]],
) -> Stage[T, U]: ...
@overload
def thread_map(
    fn: Callable[[T, R], U],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    on_start: Callable[[], R],
    on_done: Callable[[R], object] | None = None,
    **errors: Unpack[ErrorOptions[U]],
) -> Stage[T, U]: ...
def thread_map(
    fn: Callable[..., Any],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    on_start: Callable[[], Any] | None = None,
    on_done: Callable[[Any], object] | None = None,
    **errors: Unpack[ErrorOptions[Any]],
) -> Stage[Any, Any]:
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

    ``on_start=`` gives each worker a resource of its own (a session, a
    connection): each worker calls ``on_start()`` once, then
    ``fn(item, resource)`` for its items, and ``on_done(resource)`` when it
    ends — exactly once, however the run ends. A failing ``on_start()``
    reaches the consumer like a failing call.

    The `ErrorOptions` (``on_error``, ``retries``, ...) work as in `map`. An
    exception raised by ``fn`` reaches the consumer as the same object, with
    a note naming the stage and the item; with ``ordered=True`` every earlier
    result is yielded first. Threads start at the first ``next()`` and end
    with the run.

    Sharp edge: a call stuck in ``fn`` cannot be interrupted; when the run
    ends it is abandoned, and its thread ends once the call returns.

    >>> import genpipe as gp
    >>> range(6) | gp.thread_map(lambda n: n * n, workers=3) | gp.to_list()
    [0, 1, 4, 9, 16, 25]
    >>> opened = []
    >>> def connect():
    ...     opened.append("connection")
    ...     return len(opened)
    >>> tagged = gp.thread_map(lambda n, conn: n, workers=2, on_start=connect)
    >>> sorted(range(4) | tagged | gp.to_list()), len(opened)
    ([0, 1, 2, 3], 2)
    """
    return _thread_stage(
        "thread_map",
        fn,
        workers,
        ordered=ordered,
        maxsize=maxsize,
        errors=errors,
        call=lambda policy: policy.wrap(fn),
        on_start=on_start,
        on_done=on_done,
    )


def thread_filter(
    predicate: Callable[[T], object],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    **errors: Unpack[ErrorOptions[object]],
) -> Stage[T, T]:
    """Keep the items for which ``predicate`` holds, deciding in ``workers`` threads.

    `filter` for a predicate that waits (an existence check against a
    service, a lookup): up to ``workers`` calls at once, with `thread_map`'s
    ordering, read-ahead and lifecycle. With error options, what the policy
    makes of a failing call stands in for the verdict (``"skip"`` drops it).

    >>> import genpipe as gp
    >>> range(10) | gp.thread_filter(lambda n: n % 3 == 0) | gp.to_list()
    [0, 3, 6, 9]
    """
    return _thread_stage(
        "thread_filter",
        predicate,
        workers,
        ordered=ordered,
        maxsize=maxsize,
        errors=errors,
        call=lambda policy: policy.selector(predicate),
    )


def thread_flat_map(
    fn: Callable[[T], Iterable[U]],
    workers: int = 4,
    *,
    ordered: bool = True,
    maxsize: int | None = None,
    **errors: Unpack[ErrorOptions[Iterable[U]]],
) -> Stage[T, U]:
    """Yield every item of ``fn(item)``, with the calls made in ``workers`` threads.

    `flat_map` for a function that waits (a paginated API, a directory
    listing): ``fn``'s iterable is read to the end in the worker, so a
    generator's work happens there too. Results keep input order unless
    ``ordered=False``.

    Sharp edge: each call's iterable is held whole before its items are
    yielded, so it must fit in memory.

    >>> import genpipe as gp
    >>> ["ab", "c"] | gp.thread_flat_map(list, workers=2) | gp.to_list()
    ['a', 'b', 'c']
    """
    return _thread_stage(
        "thread_flat_map",
        fn,
        workers,
        ordered=ordered,
        maxsize=maxsize,
        errors=errors,
        call=lambda policy: policy.wrap(fn, collect=True),
        expand=True,
    )
