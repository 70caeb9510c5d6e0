"""What happens when a user function fails: error policies, retries, dead letters."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, Literal, NamedTuple, NoReturn, TypeAlias

from genpipe._core import describe
from genpipe._validate import check_callable, check_int, check_seconds

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
    """One failed item and the exception it raised."""

    item: Any
    exception: Exception


class DeadLetters:
    """An ``on_error`` handler that records every failure and skips the item.

    Use one to let a job run to the end and report what failed. It is safe to
    share between threads (``thread_map`` workers) and between stages.

    >>> import genpipe as gp
    >>> rejected = gp.DeadLetters()
    >>> ["1", "x", "3"] | gp.map(int, on_error=rejected) | gp.to_list()
    [1, 3]
    >>> len(rejected), [letter.item for letter in rejected]
    (1, ['x'])
    >>> type(next(iter(rejected)).exception).__name__
    'ValueError'
    """

    def __init__(self) -> None:
        self._letters: list[DeadLetter] = []
        self._lock = threading.Lock()

    def __call__(self, exc: Exception, item: object) -> NoReturn:
        with self._lock:
            self._letters.append(DeadLetter(item, exc))
        raise Skip

    def __iter__(self) -> Iterator[DeadLetter]:
        with self._lock:
            return iter(list(self._letters))

    def __len__(self) -> int:
        with self._lock:
            return len(self._letters)

    def __repr__(self) -> str:
        return f"DeadLetters({len(self)} failed)"


#: Returned by a guarded call in place of a result when the item is dropped.
SKIPPED: Any = object()


class Policy:
    """A validated ``on_error``/``retries`` combination for one stage."""

    __slots__ = ("backoff", "on_error", "retries", "retry_on", "sleep")

    def __init__(
        self,
        factory: str,
        *,
        on_error: OnError,
        retries: int,
        backoff: float,
        retry_on: RetryOn,
        sleep: Callable[[float], object],
    ) -> None:
        if on_error not in ("raise", "skip") and (
            isinstance(on_error, str) or not callable(on_error)
        ):
            raise ValueError(
                f"{factory}() needs on_error='raise', 'skip' or a handler "
                f"(exc, item) -> replacement, got {on_error!r}"
            )
        self.on_error = on_error
        self.retries = check_int(factory, "retries", retries, minimum=0)
        self.backoff = check_seconds(factory, "backoff", backoff, allow_zero=True)
        self.retry_on = _exception_types(factory, retry_on)
        check_callable(factory, "sleep", sleep)
        self.sleep = sleep

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

    def retrying(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """``fn`` with the retries, raising the last failure; it pickles if ``fn`` does.

        A pool runs this next to the call, and applies `recover` where the
        results arrive.
        """
        if not self.retries:
            return fn
        return Retrying(fn, self.retries, self.backoff, self.retry_on, self.sleep)

    def guard(self, fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Wrap ``fn`` so that it retries, then applies ``on_error``.

        The wrapper returns `SKIPPED` for an item that is to be dropped.
        """
        attempt, recover = self.retrying(fn), self.recover

        def guarded(item: Any) -> Any:
            try:
                return attempt(item)
            except Exception as exc:
                return recover(exc, item)

        return guarded

    def recover(self, exc: Exception, item: Any) -> Any:
        """What ``on_error`` makes of ``exc``, raised for ``item``.

        A replacement, or `SKIPPED` to drop the item; with ``on_error="raise"``
        it raises ``exc`` itself.
        """
        on_error = self.on_error
        if on_error == "raise":
            raise exc
        if on_error == "skip":
            return SKIPPED
        try:
            return on_error(exc, item)
        except Skip:
            return SKIPPED


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
                if attempt >= self.retries or not isinstance(exc, self.retry_on):
                    raise
                if self.backoff:
                    self.sleep(self.backoff * 2**attempt)
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
