"""The three core types — Stage, Source, Sink — and how they compose with ``|``."""

from __future__ import annotations

import inspect
import reprlib
import threading
import types
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import (
    TYPE_CHECKING,
    Any,
    Generic,
    Literal,
    TextIO,
    TypeVar,
    get_args,
    overload,
)

from genpipe._diagram import mermaid
from genpipe._live import LiveView, stream_for
from genpipe._metrics import MetricsTable
from genpipe._run import Run, open_run
from genpipe._validate import check_bool, check_callable

if TYPE_CHECKING:
    from genpipe._errors import Policy

In = TypeVar("In", contravariant=True)
Out = TypeVar("Out", covariant=True)
T = TypeVar("T")
U = TypeVar("U")
R = TypeVar("R")

Lazy = Callable[[Iterable[Any]], Iterator[Any]]
Eager = Callable[[list[Any]], list[Any]]

#: How a stage's lazy output may legitimately differ from its eager output:
#: ``"exact"`` (identical lists), ``"multiset"`` (same items, any order) or
#: ``"regrouped"`` (same items in the same order, grouped differently).
Comparison = Literal["exact", "multiset", "regrouped"]


class _CodeRepr(reprlib.Repr):
    """Truncated reprs that name functions and classes as code does, nested too."""

    def repr1(self, x: Any, level: int) -> str:
        name = getattr(x, "__qualname__", None)
        if callable(x) and isinstance(name, str):
            # A function defined inside another is `outer.<locals>.fn` to
            # Python, but the code that uses it calls it `fn`.
            return name.rpartition("<locals>.")[2]
        return super().repr1(x, level)


_short = _CodeRepr()
_short.maxlist = _short.maxtuple = _short.maxset = _short.maxdict = 5
_short.maxstring = _short.maxother = 40


def describe(value: object) -> str:
    """A short repr: functions and classes by name, everything else truncated."""
    return _short.repr(value)


def call_repr(name: str, *args: object, **kwargs: object) -> str:
    """``name(arg, key=value)`` — how a factory call reads in code."""
    shown = [describe(a) for a in args]
    shown += [f"{key}={describe(value)}" for key, value in kwargs.items()]
    return f"{name}({', '.join(shown)})"


def not_a_stage(other: object) -> Any:
    """What ``flow | other`` does when ``other`` is neither a stage nor a sink.

    A genpipe factory or a plain function there is a mistake worth naming
    (Python's own message only says the operand types); anything else gets
    `NotImplemented`, so that its own ``__ror__`` may still handle the ``|``.
    """
    if not inspect.isroutine(other):
        return NotImplemented
    name = other.__name__
    if inspect.isfunction(other) and other.__module__ == "genpipe":
        signature = inspect.signature(other)
        # "Stage[T, U]", or "genpipe.Stage[~T, ~U]" where annotations are evaluated.
        makes = str(signature.return_annotation).partition("[")[0].rpartition(".")[2]
        if makes not in ("Stage", "Sink"):
            raise TypeError(
                f"cannot pipe into gp.{name}: only stages and sinks go after |"
            )
        positional = (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
        )
        required = [
            parameter.name
            for parameter in signature.parameters.values()
            if parameter.default is parameter.empty and parameter.kind in positional
        ]
        raise TypeError(
            f"cannot pipe into the factory gp.{name} itself: call it to make the "
            f"{makes.lower()}; did you mean gp.{name}({', '.join(required)})?"
        )
    if inspect.isgeneratorfunction(other):
        advice = f"gp.stage({name}) to run it over the whole stream"
    else:
        advice = (
            f"gp.map({name}) to call it on each item, or gp.stage({name}) if "
            "it takes the whole stream and yields the output"
        )
    raise TypeError(f"cannot pipe into the function {name}; wrap it as {advice}")


def loosest(kinds: Iterable[Comparison]) -> Comparison:
    """The weakest of several comparisons: multiset, then regrouped, then exact."""
    seen = set(kinds)
    if "multiset" in seen:
        return "multiset"
    if "regrouped" in seen:
        return "regrouped"
    return "exact"


class Stage(Generic[In, Out]):
    """A reusable transform from a stream of ``In`` to a stream of ``Out``.

    Calling a stage on an iterable gives a one-shot lazy iterator; piping an
    iterable into it (``items | stage``) gives a re-iterable `Source`;
    ``stage.eager(items)`` computes the same result list-at-a-time with an
    independent reference implementation. Stages compose left to right with
    ``|`` and are immutable, so one stage can serve many pipelines.

    >>> import genpipe as gp
    >>> double_odds = gp.filter(lambda n: n % 2) | gp.map(lambda n: n * 2)
    >>> list(double_odds([1, 2, 3]))
    [2, 6]
    >>> double_odds.eager([1, 2, 3])
    [2, 6]
    >>> double_odds
    filter(<lambda>) | map(<lambda>)
    """

    __slots__ = (
        "_comparison",
        "_concurrent",
        "_eager",
        "_label",
        "_lazy",
        "_parts",
        "_policy",
    )

    _parts: tuple[Stage[Any, Any], ...]

    def __init__(
        self,
        lazy: Lazy,
        eager: Eager,
        label: str,
        *,
        comparison: Comparison = "exact",
        policy: Policy | None = None,
        concurrent: bool = False,
    ) -> None:
        self._lazy = lazy
        self._eager = eager
        self._label = label
        self._comparison: Comparison = comparison
        #: The error options it calls its function under, for metered runs.
        self._policy = policy
        #: Whether its runs have threads of their own, for `Source.to_mermaid`.
        self._concurrent = concurrent
        self._parts = (self,)

    @classmethod
    def _chain(cls, parts: tuple[Stage[Any, Any], ...]) -> Stage[Any, Any]:
        if len(parts) == 1:
            return parts[0]
        chained: Stage[Any, Any] = cls.__new__(cls)
        chained._parts = parts
        return chained

    @property
    def parts(self) -> tuple[Stage[Any, Any], ...]:
        """The single stages this one is made of, in order (itself if single)."""
        return self._parts

    @property
    def comparison(self) -> Comparison:
        """How this single stage's lazy output may differ from its eager one.

        ``"exact"`` for most stages; ``"multiset"`` for stages that emit in
        completion order (``thread_map(ordered=False)``, ``merge``);
        ``"regrouped"`` for stages whose grouping depends on timing
        (``batch(max_wait=...)``). `genpipe.testing` uses it to choose the
        comparison; a chained stage reports the loosest of its parts.
        """
        return loosest(part._comparison for part in self._parts)

    def __call__(self, items: Iterable[In]) -> Run[Out]:
        return open_run(items, self._parts)

    def eager(self, items: Iterable[In]) -> list[Out]:
        """Compute the stage's output list-at-a-time: the reference result.

        Every single stage materialises its whole output before the next one
        starts, and concurrent stages run sequentially, so the result does not
        depend on timing. It needs a finite input.

        >>> import genpipe as gp
        >>> (gp.map(str) | gp.batch(2)).eager([1, 2, 3])
        [['1', '2'], ['3']]
        """
        data: list[Any] = list(items)
        for part in self._parts:
            data = part._eager(data)
        return data

    @overload
    def __or__(self, other: Stage[Out, T]) -> Stage[In, T]: ...
    @overload
    def __or__(self, other: Sink[Out, R]) -> Sink[In, R]: ...
    def __or__(
        self, other: Stage[Any, Any] | Sink[Any, Any]
    ) -> Stage[Any, Any] | Sink[Any, Any]:
        if isinstance(other, Stage):
            return Stage._chain(self._parts + other._parts)
        if isinstance(other, Sink):
            prefix = self if other._prefix is None else self | other._prefix
            return Sink(other._consume, other._label, prefix=prefix)
        return not_a_stage(other)

    @overload
    def then(self, other: Stage[Out, T]) -> Stage[In, T]: ...
    @overload
    def then(self, other: Sink[Out, R]) -> Sink[In, R]: ...
    def then(
        self, other: Stage[Any, Any] | Sink[Any, Any]
    ) -> Stage[Any, Any] | Sink[Any, Any]:
        """``a.then(b)`` is ``a | b``, spelled so that pyright infers ``b``'s types.

        Pyright types each side of ``|`` on its own, so in ``a | gp.take(3)``
        it cannot tell what ``take`` receives; a method argument gets its type
        from ``a``. mypy infers both spellings.

        >>> import genpipe as gp
        >>> gp.map(len).then(gp.take(1)).then(gp.to_list())(["ab", "c"])
        [2]
        """
        return self | other

    def __ror__(self, items: Iterable[In]) -> Source[Out]:
        return source(items) | self

    def __repr__(self) -> str:
        # Joined here, not at each `|`, so building a long chain stays linear.
        return " | ".join(part._label for part in self._parts)


class Sink(Generic[In, R]):
    """A terminal consumer: it pulls a whole stream and returns one result.

    ``items | sink`` and ``sink(items)`` both run the stream to the end (or as
    far as the sink needs, for `first`) and close every iterator they opened.

    >>> import genpipe as gp
    >>> [3, 1, 2] | gp.map(lambda n: n * 10) | gp.to_list()
    [30, 10, 20]
    >>> total = gp.map(len) | gp.reduce(lambda a, b: a + b)
    >>> total(["ab", "cde"])
    5
    """

    __slots__ = ("_consume", "_label", "_prefix")

    def __init__(
        self,
        consume: Callable[[Iterator[Any]], R],
        label: str,
        *,
        prefix: Stage[Any, Any] | None = None,
    ) -> None:
        self._consume = consume
        self._label = label
        self._prefix = prefix

    def __call__(self, items: Iterable[In]) -> R:
        return consume_run(open_run(items, parts_of(self._prefix)), self._consume)

    def __ror__(self, items: Iterable[In]) -> R:
        return self(items)

    def __repr__(self) -> str:
        if self._prefix is None:
            return self._label
        return f"{self._prefix!r} | {self._label}"


class Source(Generic[Out]):
    """A lazy, re-iterable description of a stream.

    Each ``iter()`` runs the whole pipeline afresh from its base; nothing runs
    before that. Build one with `source`, with a source factory such as
    `count`, or with ``iterable | stage``.

    >>> import genpipe as gp
    >>> squares = gp.source(range(4)) | gp.map(lambda n: n * n)
    >>> list(squares), list(squares)
    ([0, 1, 4, 9], [0, 1, 4, 9])
    >>> squares | gp.to_list()
    [0, 1, 4, 9]
    >>> squares
    source(range(0, 4)) | map(<lambda>)
    """

    __slots__ = ("_base", "_stage")

    def __init__(self, base: Base, stage: Stage[Any, Out] | None = None) -> None:
        self._base = base
        self._stage = stage

    def _open(
        self, then: Stage[Any, Any] | None = None, *, metered: bool = False
    ) -> Run[Any]:
        parts = parts_of(self._stage)
        if then is not None:
            parts += then._parts
        label = self._base.label if metered else None
        return open_run(self._base.open(), parts, metered_as=label)

    def __iter__(self) -> Run[Out]:
        return self._open()

    def __aiter__(self) -> AsyncIterator[Out]:
        """Consume the pipeline from a coroutine: ``async for item in source``.

        The pipeline runs in a thread of its own and its items reach the
        coroutine in chunks, so the event loop keeps serving other tasks
        while the sync stages work. Leaving the loop early (``break``, an
        exception, the task being cancelled) stops the run, whose threads
        then end on their own; ``aclose()`` on the iterator also waits for
        them.

        >>> import asyncio
        >>> import genpipe as gp
        >>> async def main():
        ...     return [n async for n in gp.source(range(3)) | gp.map(str)]
        >>> asyncio.run(main())
        ['0', '1', '2']
        """
        # Imported here: the engine is built on this module.
        from genpipe._concurrent._asyncio import AsyncRun

        return AsyncRun(self)

    def open(
        self, *, metrics: bool = False, progress: bool | TextIO = False
    ) -> AbstractContextManager[Run[Out]]:
        """Iterate inside a ``with`` block that closes the whole pipeline.

        The block gets the pipeline's `Run`. Leaving it — normally, by
        ``break`` or by an exception — closes the run: concurrent stages stop
        and join their threads and generators run their ``finally`` blocks
        right away, instead of at garbage collection.

        ``metrics=True`` counts every stage (see `Run.metrics`), at a few
        nanoseconds per item per stage; without it nothing is counted.
        ``progress=True`` also shows the counts live on standard error while
        the block runs — tqdm bars where tqdm is installed, a status line
        otherwise — but only when standard error is a terminal; pass a stream
        (``progress=sys.stdout``) to draw there in any case. Sharp edge: the
        view refreshes twice a second, so a run shorter than that shows only
        its final figures.

        >>> import genpipe as gp
        >>> with (gp.count() | gp.map(str)).open() as it:
        ...     next(it), next(it)
        ('0', '1')
        """
        check_bool("open", "metrics", metrics)
        if not isinstance(progress, bool) and not callable(
            getattr(progress, "write", None)
        ):
            raise TypeError(
                "open() needs True, False or a stream with write() for progress, "
                f"got {describe(progress)}"
            )
        stream = stream_for(progress)
        metered = metrics or progress is not False
        return _closing(lambda: self._open(metered=metered), stream)

    def to_mermaid(self, metrics: MetricsTable | None = None) -> str:
        """The pipeline as a Mermaid flowchart, for docs, notebooks and reports.

        Sources are rounded, stages square, stages with threads of their own
        double-edged, and a merge draws its sources feeding it. With a run's
        ``metrics`` (see `Run.metrics`), each stage shows its counts and each
        arrow how many items crossed it and how fast.

        >>> import genpipe as gp
        >>> print((gp.source([1, 2]) | gp.thread_map(str)).to_mermaid(), end="")
        flowchart LR
            n0(["source([1, 2])"])
            n1[["thread_map(str)"]]
            n0 --> n1
        """
        return mermaid(self, metrics)

    @property
    def comparison(self) -> Comparison:
        """Like `Stage.comparison`, for the base and every stage together.

        >>> import genpipe as gp
        >>> (gp.merge([1], [2]) | gp.map(str)).comparison
        'multiset'
        """
        parts = parts_of(self._stage)
        return loosest([self._base.comparison, *(p._comparison for p in parts)])

    def eager(self) -> list[Out]:
        """The reference result: the base as a list, then every stage's `Stage.eager`.

        >>> import genpipe as gp
        >>> (gp.source("abc") | gp.map(str.upper)).eager()
        ['A', 'B', 'C']
        """
        data = self._base.materialise()
        return data if self._stage is None else self._stage.eager(data)

    @overload
    def __or__(self, other: Stage[Out, T]) -> Source[T]: ...
    @overload
    def __or__(self, other: Sink[Out, R]) -> R: ...
    def __or__(self, other: Stage[Any, Any] | Sink[Any, Any]) -> Source[Any] | Any:
        if isinstance(other, Stage):
            stage = other if self._stage is None else self._stage | other
            return Source(self._base, stage)
        if isinstance(other, Sink):
            return consume_run(self._open(other._prefix), other._consume)
        return not_a_stage(other)

    @overload
    def then(self, other: Stage[Out, T]) -> Source[T]: ...
    @overload
    def then(self, other: Sink[Out, R]) -> R: ...
    def then(self, other: Stage[Any, Any] | Sink[Any, Any]) -> Source[Any] | Any:
        """``source.then(b)`` is ``source | b``; see `Stage.then` for why it exists.

        >>> import genpipe as gp
        >>> gp.source([1, 2]).then(gp.map(lambda n: n + 1)).then(gp.to_list())
        [2, 3]
        """
        return self | other

    def __repr__(self) -> str:
        if self._stage is None:
            return self._base.label
        return f"{self._base.label} | {self._stage!r}"


class Base:
    """Where a `Source` gets a fresh iterator from, each time it is iterated."""

    __slots__ = (
        "_lock",
        "_materialise",
        "_used",
        "comparison",
        "endless",
        "label",
        "one_shot",
        "open_fresh",
        "sources",
    )

    def __init__(
        self,
        open_fresh: Callable[[], Iterator[Any]],
        label: str,
        *,
        one_shot: bool,
        materialise: Callable[[], list[Any]] | None = None,
        comparison: Comparison = "exact",
        endless: bool = False,
        sources: tuple[Source[Any], ...] = (),
    ) -> None:
        self.open_fresh = open_fresh
        #: The sources it reads at once (a merge's), for `Source.to_mermaid`.
        self.sources = sources
        self.label = label
        self.one_shot = one_shot
        self.endless = endless
        self.comparison: Comparison = comparison
        self._materialise = materialise
        self._used = False
        self._lock = threading.Lock()

    def open(self) -> Iterator[Any]:
        if self.one_shot:
            with self._lock:
                if self._used:
                    raise RuntimeError(
                        f"{self.label} wraps a one-shot iterator that was already "
                        "iterated; pass a re-iterable (a list, a range, a file "
                        "source) to iterate it again, or build a new source"
                    )
                self._used = True
                # The run becomes the iterator's only owner, so that dropping
                # the run finalises it (and whatever it runs) at once.
                opener, self.open_fresh = self.open_fresh, _used_up
                return opener()
        return self.open_fresh()

    def materialise(self) -> list[Any]:
        """The whole base as a list, computed the reference (sequential) way."""
        if self.endless:
            raise ValueError(
                f"{self.label} never ends, so it has no eager result; "
                "evaluate a finite source instead, e.g. source(range(n))"
            )
        if self._materialise is not None:
            return self._materialise()
        return list(self.open())


def _used_up() -> Iterator[Any]:
    raise AssertionError("a one-shot base is opened once")


def source_parts(flow: Source[Any]) -> tuple[Base, tuple[Stage[Any, Any], ...]]:
    """A source's base and the single stages applied to it, for `genpipe.testing`."""
    return flow._base, parts_of(flow._stage)


def parts_of(stage: Stage[Any, Any] | None) -> tuple[Stage[Any, Any], ...]:
    """The single stages of ``stage``; none for no stage."""
    return () if stage is None else stage._parts


def source(items: Iterable[T] | AsyncIterable[T]) -> Source[T]:
    """Make a `Source` from any iterable, or async iterable.

    A re-iterable base (list, tuple, range, set, another source) is re-read on
    every iteration. A one-shot base (a generator, a file object, any
    iterator) can be iterated once; a second iteration raises `RuntimeError`
    rather than silently yielding nothing.

    >>> import genpipe as gp
    >>> letters = gp.source(["a", "b"])
    >>> list(letters) == list(letters) == ["a", "b"]
    True
    >>> once = gp.source(c for c in "ab")
    >>> list(once)
    ['a', 'b']
    >>> list(once)
    Traceback (most recent call last):
    ...
    RuntimeError: source(<generator ...>) wraps a one-shot iterator that was ...

    An async iterable (an async generator, anything with ``__aiter__``) is
    drained by a thread of the run with an event loop of its own, lazily and
    at most 64 items ahead of the consumer.
    """
    if isinstance(items, Source):
        return items
    if not isinstance(items, Iterable) and isinstance(items, AsyncIterable):
        from genpipe._concurrent._asyncio import async_source

        return async_source(items, f"source({_base_repr(items)})")
    if not isinstance(items, Iterable):
        raise TypeError(
            "source() needs an iterable (a list, a generator, ...), "
            f"got {describe(items)}"
        )
    label = f"source({_base_repr(items)})"
    one_shot = isinstance(items, Iterator)
    return Source(Base(items.__iter__, label, one_shot=one_shot))


def _base_repr(items: object) -> str:
    if isinstance(items, Iterator | AsyncIterator):
        return f"<{type(items).__name__} ...>"
    return describe(items)


@overload
def pipeline(*stages: Stage[Any, Any]) -> Stage[Any, Any]: ...
@overload
def pipeline(
    *stages: Stage[Any, Any] | Sink[Any, Any],
) -> Stage[Any, Any] | Sink[Any, Any]: ...
def pipeline(
    *stages: Stage[Any, Any] | Sink[Any, Any],
) -> Stage[Any, Any] | Sink[Any, Any]:
    """Chain stages left to right: ``pipeline(a, b, c)`` is ``a | b | c``.

    Handy when the stages come from a list. A `Sink` may come last, and then
    the result is a sink that runs the stages first. The result is typed
    ``Stage[Any, Any]`` (or a union with ``Sink[Any, Any]`` when a sink may be
    among the arguments); write ``a | b | c`` to keep element types.

    >>> import genpipe as gp
    >>> gp.pipeline(gp.map(abs), gp.take(2)).eager([-1, -2, -3])
    [1, 2]
    >>> [-1, -2, -3] | gp.pipeline(gp.map(abs), gp.take(2), gp.to_list())
    [1, 2]
    """
    if not stages:
        raise ValueError("pipeline() needs at least one stage")
    *leading, last = stages
    parts: list[Stage[Any, Any]] = []
    for each in leading:
        if isinstance(each, Sink):
            raise TypeError(
                f"pipeline() takes a sink only as its last argument, got {each!r} "
                "before other stages"
            )
        if not isinstance(each, Stage):
            raise TypeError(f"pipeline() takes stages, got {describe(each)}")
        parts += each._parts
    if not isinstance(last, Stage | Sink):
        raise TypeError(f"pipeline() takes stages and a sink, got {describe(last)}")
    return Stage._chain(tuple(parts)) | last if parts else last


def stage_of(element_type: type[T]) -> Stage[T, T]:
    """A stage that passes items on unchanged, typed as a stream of ``element_type``.

    Start a chain with it when its first stage is generic — `filter` with a
    lambda, `sort`, `take`, `batch` — and so has nothing to learn its input
    type from: ``gp.stage_of(int) | gp.filter(lambda n: n > 0)`` is a
    ``Stage[int, int]`` with no annotation written. It costs nothing per item.
    Sharp edge: it checks nothing at run time, so ``stage_of(int)`` lets a
    string through; it is for the type checker only.

    >>> import genpipe as gp
    >>> small = gp.stage_of(int) | gp.filter(lambda n: n < 3)
    >>> [1, 5, 2] | small | gp.to_list()
    [1, 2]
    >>> small
    stage_of(int) | filter(<lambda>)
    """
    if not isinstance(element_type, type | types.GenericAlias):
        raise TypeError(
            "stage_of() needs the type of the items, such as int or "
            f"dict[str, str], got {describe(element_type)}"
        )
    shown = (
        element_type.__qualname__
        if isinstance(element_type, type)
        else repr(element_type)
    )
    # iter() of an iterator is the iterator itself: nothing is added per item.
    return Stage(iter, list, f"stage_of({shown})")


def stage(
    fn: Callable[[Iterable[T]], Iterator[U]],
    *,
    eager: Callable[[list[T]], list[U]] | None = None,
    name: str | None = None,
    comparison: Comparison = "exact",
) -> Stage[T, U]:
    """Turn a generator function ``Iterable[T] -> Iterator[U]`` into a `Stage`.

    ``eager`` is its reference implementation, used by `Stage.eager` and
    `genpipe.testing`; without it the eager face runs ``fn`` over a list,
    which makes the lazy == eager check vacuous for this stage. ``name``
    overrides the name shown by ``repr``. ``comparison`` says how the lazy
    output may legitimately differ from the eager one (see
    `Stage.comparison`): ``"multiset"`` for a stage that yields in an order
    of its own making, ``"regrouped"`` for one that yields groups (lists, or
    ``(key, list)`` pairs) cut by timing.

    >>> import genpipe as gp
    >>> def running_max(items):
    ...     best = None
    ...     for item in items:
    ...         best = item if best is None else max(best, item)
    ...         yield best
    >>> clamp = gp.stage(running_max)
    >>> [3, 1, 4, 1, 5] | clamp | gp.to_list()
    [3, 3, 4, 4, 5]
    >>> clamp
    running_max
    >>> def evens_first(items):
    ...     held = list(items)
    ...     yield from (n for n in held if n % 2 == 0)
    ...     yield from (n for n in held if n % 2)
    >>> gp.stage(evens_first, eager=sorted, comparison="multiset").comparison
    'multiset'
    """
    check_callable("stage", "fn", fn)
    if eager is not None:
        check_callable("stage", "eager", eager)
    if name is not None and not isinstance(name, str):
        raise TypeError(f"stage() needs a str for name, got {describe(name)}")
    if comparison not in get_args(Comparison):
        raise ValueError(
            f"stage() needs comparison='exact', 'multiset' or 'regrouped', "
            f"got {describe(comparison)}"
        )
    label = name if name is not None else describe(fn)

    def lazy(items: Iterable[T]) -> Iterator[U]:
        return _iterator_of(label, fn, fn(items))

    reference = eager if eager is not None else (lambda items: list(lazy(items)))
    return Stage(lazy, reference, label, comparison=comparison)


def _iterator_of(
    label: str, fn: Callable[..., object], result: object
) -> Iterator[Any]:
    """``result``, the return value of a user's generator function, as an iterator."""
    if isinstance(result, Iterator):
        return result
    if isinstance(result, Iterable):
        return iter(result)
    raise TypeError(
        f"stage {label}: {describe(fn)}(items) returned {describe(result)}, not "
        "an iterator; gp.stage() takes a generator function that yields the "
        "output items. To turn a stream into one value, use a sink such as "
        "gp.reduce(fn)"
    )


@contextmanager
def _closing(
    open_run: Callable[[], Run[Any]], progress: TextIO | None = None
) -> Iterator[Run[Any]]:
    run = open_run()
    view = None
    if progress is not None and run._meter is not None:
        view = LiveView(run._meter, progress)
        view.start()
    try:
        yield run
    finally:
        try:
            run.close()
        finally:
            if view is not None:
                view.stop()


def consume_run(run: Run[Any], consume: Callable[[Iterator[Any]], R]) -> R:
    try:
        return consume(run)
    finally:
        run.close()
