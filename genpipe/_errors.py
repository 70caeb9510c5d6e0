"""What happens when a user function fails: error policies, retries, dead letters."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import (
    Any,
    Generic,
    Literal,
    NamedTuple,
    NoReturn,
    TypeAlias,
    TypedDict,
    TypeVar,
    Unpack,
)

from genpipe._core import call_repr, describe
from genpipe._metrics import Tally
from genpipe._validate import check_callable, check_int, check_seconds

log = logging.getLogger("genpipe")

R = TypeVar("R")

OnError: TypeAlias = Literal["raise", "skip"] | Callable[[Exception, Any], Any]
RetryOn: TypeAlias = type[Exception] | tuple[type[Exception], ...]


class Skip(Exception):  # noqa: N818 - a signal, not an error: `raise gp.Skip`
    """Raise from an ``on_error`` handler to drop the item that failed.

    >>> import genpipe as gp
    >>> def only_numbers(exc, item):
    ...     raise gp.Skip
    >>> ["1", "x", "3"] | gp.map(int, on_error=only_numbers) | gp.to_list()
    [1, 3]
    """


class RecordError(ValueError):
    """A malformed input record, named by file and 1-based physical line.

    The parser's own exception is the ``__cause__``.

    >>> import genpipe as gp
    >>> err = gp.RecordError("expected 3 fields, got 2", path="people.csv", line=7)
    >>> str(err), err.line
    ('people.csv:7: expected 3 fields, got 2', 7)
    """

    def __init__(self, message: str, *, path: str, line: int) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[Any, ...]:
        message = str(self).removeprefix(f"{self.path}:{self.line}: ")
        return (_rebuild_record_error, (message, self.path, self.line))


def _rebuild_record_error(message: str, path: str, line: int) -> RecordError:
    return RecordError(message, path=path, line=line)


class DeadLetter(NamedTuple):
    """One failed item: the item, its exception, the stage and how many calls it took.

    ``stage`` is the stage's repr (``map(parse)``); ``attempts`` counts the
    calls made for the item, retries included.
    """

    item: Any
    exception: Exception
    stage: str = ""
    attempts: int = 1

    @property
    def note(self) -> str:
        """Which stage failed for which item, as a concurrent stage's error note says.

        >>> import genpipe as gp
        >>> gp.DeadLetter("x", ValueError("bad"), "map(int)", 3).note
        "raised by map(int) for item 'x' (3 attempts)"
        """
        by = f" by {self.stage}" if self.stage else ""
        tries = "" if self.attempts == 1 else f" ({self.attempts} attempts)"
        return f"raised{by} for item {describe(self.item)}{tries}"


class DeadLetters:
    """An ``on_error`` handler that records every failure and skips the item.

    Use one to let a job run to the end and report what failed. It is safe to
    share between threads (``thread_map`` workers) and between stages; each
    `DeadLetter` names its stage and its number of attempts.

    Letters are recorded as failures happen: in input order for a sequential
    pipeline, but in completion order for ``thread_map``, whose workers
    fail independently (sort by a field of the item if the order matters).

    >>> import genpipe as gp
    >>> rejected = gp.DeadLetters()
    >>> ["1", "x", "3"] | gp.map(int, on_error=rejected) | gp.to_list()
    [1, 3]
    >>> len(rejected), [letter.item for letter in rejected]
    (1, ['x'])
    >>> letter = next(iter(rejected))
    >>> type(letter.exception).__name__, letter.note
    ('ValueError', "raised by map(int) for item 'x'")
    """

    def __init__(self) -> None:
        self._letters: list[DeadLetter] = []
        self._lock = threading.Lock()

    def __call__(self, exc: Exception, item: object) -> NoReturn:
        self.record(DeadLetter(item, exc))

    def record(self, letter: DeadLetter) -> NoReturn:
        """Keep ``letter`` and skip its item (raise `Skip`)."""
        with self._lock:
            self._letters.append(letter)
        log.debug("dead letter: %s", letter.note)
        raise Skip

    def __iter__(self) -> Iterator[DeadLetter]:
        with self._lock:
            return iter(list(self._letters))

    def __len__(self) -> int:
        with self._lock:
            return len(self._letters)

    def __repr__(self) -> str:
        return f"DeadLetters({len(self)} failed)"


class ErrorOptions(TypedDict, Generic[R], total=False):
    """The error options of every stage that calls your function, as keywords.

    ``map``, ``filter``, ``flat_map``, ``tap``, ``scan``, ``distinct``,
    ``group_by``, ``sort`` (with ``key=``), ``for_each`` and ``reduce`` take
    them (the ``*_map`` stages too); ``R`` is what a handler returns in place
    of the function's result. Omitted options keep their
    defaults, so a stage without any costs nothing extra per item. Calls
    that fail are retried first; what ``on_error`` decides applies after the
    last attempt. A misspelt option is a `TypeError` when the stage is built.

    >>> import genpipe as gp
    >>> options: gp.ErrorOptions[int] = {"on_error": "skip", "retries": 1}
    >>> ["1", "x", "3"] | gp.map(int, **options) | gp.to_list()
    [1, 3]
    """

    # The item is typed Any: tied to the stage's item type, it makes pyright
    # solve an overloaded function (``map(str)``) against the wrong overload.
    on_error: Literal["raise", "skip"] | Callable[[Exception, Any], R]
    """``"raise"`` (the default) lets the exception propagate; ``"skip"``
    drops the item; a handler ``(exc, item)`` returns a replacement for the
    function's result (or raises `Skip` to drop the item, or raises)."""
    retries: int
    """How many times a failed call is tried again (default 0)."""
    backoff: float
    """Seconds to sleep before the first retry, doubled before each next one
    (default 0.0); no jitter."""
    retry_on: RetryOn
    """Only these exception types are retried (default `Exception`)."""
    sleep: Callable[[float], object]
    """How the stage sleeps (default `time.sleep`): between retries, and in
    time-based stages while it waits for a deadline. Pass a fake one in tests
    so that they never wait."""


_OPTION_NAMES = tuple(ErrorOptions.__annotations__)
#: What each error option is when it is not given.
ERROR_OPTION_DEFAULTS: ErrorOptions[Any] = {
    "on_error": "raise",
    "retries": 0,
    "backoff": 0.0,
    "retry_on": Exception,
    "sleep": time.sleep,
}

#: Returned by a guarded call in place of a result when the item is dropped.
#: Only this module looks at it: stages use `Policy.pairs` and `Policy.fold`.
SKIPPED: Any = object()


class Policy:
    """A validated combination of error options for one stage."""

    __slots__ = (
        "_tallies",
        "backoff",
        "factory",
        "on_error",
        "retries",
        "retry_on",
        "sleep",
    )

    def __init__(self, factory: str, **options: Unpack[ErrorOptions[Any]]) -> None:
        unknown = [name for name in options if name not in _OPTION_NAMES]
        if unknown:
            raise TypeError(
                f"{factory}() got an unexpected keyword argument {unknown[0]!r}; "
                f"its error options are {', '.join(_OPTION_NAMES)}"
            )
        on_error = options.get("on_error", ERROR_OPTION_DEFAULTS["on_error"])
        if on_error not in ("raise", "skip") and (
            isinstance(on_error, str) or not callable(on_error)
        ):
            raise ValueError(
                f"{factory}() needs on_error='raise', 'skip' or a handler "
                f"(exc, item) -> replacement, got {on_error!r}"
            )
        self.factory = factory
        self.on_error = on_error
        self.retries = check_int(
            factory,
            "retries",
            options.get("retries", ERROR_OPTION_DEFAULTS["retries"]),
            minimum=0,
        )
        self.backoff = check_seconds(
            factory,
            "backoff",
            options.get("backoff", ERROR_OPTION_DEFAULTS["backoff"]),
            allow_zero=True,
        )
        retry_on = options.get("retry_on", ERROR_OPTION_DEFAULTS["retry_on"])
        self.retry_on = _exception_types(factory, retry_on)
        self.sleep = options.get("sleep", ERROR_OPTION_DEFAULTS["sleep"])
        check_callable(factory, "sleep", self.sleep)
        #: The metered runs of this stage under way, which count its failures.
        self._tallies: list[Tally] = []

    def observe(self, tally: Tally) -> None:
        """Count this stage's failures and retries in ``tally`` until `forget`."""
        self._tallies.append(tally)

    def forget(self, tally: Tally) -> None:
        self._tallies.remove(tally)

    @property
    def is_plain(self) -> bool:
        """True when failures simply propagate: no wrapper is needed."""
        return self.on_error == "raise" and self.retries == 0

    def options(self) -> dict[str, object]:
        """The non-default options, for ``repr``."""
        shown: dict[str, object] = {}
        if self.on_error != "raise":
            shown["on_error"] = self.on_error
        if self.retries:
            shown["retries"] = self.retries
        if self.backoff:
            shown["backoff"] = self.backoff
        if self.retry_on != (Exception,):
            shown["retry_on"] = self.retry_on
        return shown

    def wrap(
        self, fn: Callable[..., Any], *, collect: bool = False
    ) -> Callable[..., Any]:
        """``fn`` under this policy, at no cost when there is nothing to do.

        With ``collect``, ``fn``'s iterable result is read into a list (see
        `guard`).
        """
        if self.is_plain:
            return _collecting(fn) if collect else fn
        return self.guard(fn, collect=collect)

    def selector(self, predicate: Callable[[Any], object]) -> Callable[[Any], Any]:
        """Each item for which ``predicate`` holds, else the skip sentinel.

        What the policy makes of a failing call stands in for the verdict.
        """
        verdict = self.wrap(predicate)

        def selected(item: Any) -> Any:
            kept = verdict(item)
            return item if kept is not SKIPPED and kept else SKIPPED

        return selected

    def retrying(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``fn`` with the retries, raising the last failure; it pickles if ``fn`` does.

        A pool runs this next to the call, and applies `recover` where the
        results arrive.
        """
        if not self.retries:
            return fn
        return Retrying(fn, self.retries, self.backoff, self.retry_on, self.sleep)

    def guard(
        self, fn: Callable[..., Any], *, collect: bool = False
    ) -> Callable[..., Any]:
        """Wrap ``fn`` so that it retries, then applies ``on_error``.

        The item is ``fn``'s last argument. The wrapper returns `SKIPPED` for
        an item that is to be dropped. With ``collect``, ``fn`` returns an
        iterable that is read into a list within the guard, so a failure
        halfway through it is handled like any other.
        """
        stage = call_repr(self.factory, fn)
        call = _collecting(fn) if collect else fn
        sleep, retry_delay, recover = self.sleep, self.retry_delay, self.recover

        def guarded(*args: Any) -> Any:
            attempts = 0
            while True:
                try:
                    return call(*args)
                except Exception as exc:
                    attempts += 1
                    delay = retry_delay(exc, attempts - 1)
                    if delay is None:
                        return recover(exc, args[-1], stage=stage, attempts=attempts)
                    if delay:
                        sleep(delay)

        return guarded

    def retry_delay(self, exc: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying after ``exc`` on try ``attempt`` (0-based).

        None: no retry is left for it, so `recover` decides.
        """
        delay = retry_delay(self.retries, self.backoff, self.retry_on, exc, attempt)
        if delay is not None:
            for tally in self._tallies:
                tally.retried()
        return delay

    def pairs(
        self, fn: Callable[[Any], Any], items: Iterable[Any], *, collect: bool = False
    ) -> Iterator[tuple[Any, Any]]:
        """``(item, fn(item))`` for every item, under this policy.

        A dropped item is left out; a handler's replacement stands in for
        ``fn(item)``. ``collect`` is as for `guard`.
        """
        if self.is_plain and not collect:
            return ((item, fn(item)) for item in items)
        return self._guarded_pairs(self.guard(fn, collect=collect), items)

    @staticmethod
    def _guarded_pairs(
        guarded: Callable[[Any], Any], items: Iterable[Any]
    ) -> Iterator[tuple[Any, Any]]:
        for item in items:
            result = guarded(item)
            if result is not SKIPPED:
                yield item, result

    def fold(
        self,
        fn: Callable[[Any, Any], Any],
        items: Iterable[Any],
        initial: Any,
    ) -> Iterator[Any]:
        """The running results of ``fn``, as `itertools.accumulate` gives them.

        ``initial=None`` means not given. A dropped item leaves the running
        result as it was and yields nothing; a handler's replacement becomes
        the new running result.
        """
        guarded = self.guard(fn)
        it = iter(items)
        total = next(it, SKIPPED) if initial is None else initial
        if total is SKIPPED:
            return
        yield total
        for item in it:
            result = guarded(total, item)
            if result is not SKIPPED:
                total = result
                yield total

    def recover(
        self, exc: Exception, item: Any, *, stage: str | None = None, attempts: int = 1
    ) -> Any:
        """What ``on_error`` makes of ``exc``, raised for ``item``.

        A replacement, or `SKIPPED` to drop the item; with ``on_error="raise"``
        it raises ``exc`` itself. A `DeadLetters` handler also records
        ``stage`` (the factory's name if not given) and ``attempts``.
        """
        on_error = self.on_error
        if on_error == "raise":
            # Counted where it ends the run, if a worker raised it.
            raise exc
        for tally in self._tallies:
            tally.failed()
        if on_error == "skip":
            return SKIPPED
        try:
            if isinstance(on_error, DeadLetters):
                name = stage if stage is not None else self.factory
                on_error.record(DeadLetter(item, exc, name, attempts))
            return on_error(exc, item)
        except Skip:
            return SKIPPED


def _collecting(fn: Callable[..., Iterable[Any]]) -> Callable[..., list[Any]]:
    return lambda *args: list(fn(*args))


def refuse_options(factory: str, options: ErrorOptions[Any], when: str) -> None:
    """Fail if error options were given where the stage calls no function."""
    if options:
        raise ValueError(
            f"{factory}() takes error options ({', '.join(options)}) only {when}"
        )


def retry_delay(
    retries: int,
    backoff: float,
    retry_on: tuple[type[Exception], ...],
    exc: Exception,
    attempt: int,
) -> float | None:
    """The one retry rule: seconds to wait before retry ``attempt`` + 1, or None.

    ``attempt`` counts from 0; None means no retry is left for ``exc``.
    """
    if attempt < retries and isinstance(exc, retry_on):
        delay: float = backoff * 2**attempt
        return delay
    return None


class Retrying:
    """A function called again after a failure it may retry, with a doubling pause."""

    __slots__ = ("backoff", "fn", "retries", "retry_on", "sleep")

    def __init__(
        self,
        fn: Callable[[Any], Any],
        retries: int,
        backoff: float,
        retry_on: tuple[type[Exception], ...],
        sleep: Callable[[float], object],
    ) -> None:
        self.fn = fn
        self.retries = retries
        self.backoff = backoff
        self.retry_on = retry_on
        self.sleep = sleep

    def __call__(self, item: Any) -> Any:
        attempt = 0
        while True:
            try:
                return self.fn(item)
            except Exception as exc:
                delay = retry_delay(
                    self.retries, self.backoff, self.retry_on, exc, attempt
                )
                if delay is None:
                    raise
                if delay:
                    self.sleep(delay)
                attempt += 1


def _exception_types(factory: str, retry_on: RetryOn) -> tuple[type[Exception], ...]:
    types = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    for each in types:
        if not (isinstance(each, type) and issubclass(each, Exception)):
            raise TypeError(
                f"{factory}() needs retry_on to be an Exception subclass or a "
                f"tuple of them, got {describe(each)}"
            )
    return types
