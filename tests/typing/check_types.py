"""Element types flow through pipelines: checked by mypy --strict and basedpyright.

Type-checked, never run. Every line here holds for both checkers, so it shows
the spelling that works everywhere:

- ``|`` between stages built from annotated functions;
- ``.then()`` wherever the next stage or sink has type variables of its own
  (``take``, ``batch``, ``to_list``, ...) or takes a lambda. Pyright types
  each side of ``|`` on its own, so there ``gp.take(1)`` and ``lambda n: ...``
  have nothing to infer from; a method argument gets its types from the
  receiver. mypy infers ``|`` in these places too: see check_mypy_only.py.

Lines that must be type errors carry an ignore comment for each checker; mypy's
``warn_unused_ignores`` and pyright's ``reportUnnecessaryTypeIgnoreComment``
fail the check if one of them stops being an error.
"""

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, assert_type

import genpipe as gp


def parse(text: str) -> int:
    return int(text)


def show(number: int) -> str:
    return str(number)


def add(total: int, number: int) -> int:
    return total + number


def is_short(text: str) -> bool:
    return len(text) < 3


def shown_all(numbers: Iterable[int]) -> Iterator[str]:
    return (str(n) for n in numbers)


numbers = gp.source([1, 2, 3])
assert_type(numbers, gp.Source[int])

# | between stages of annotated functions: both checkers infer every type.
assert_type(gp.map(parse) | gp.map(show), gp.Stage[str, str])
assert_type(gp.filter(is_short) | gp.map(parse), gp.Stage[str, int])
assert_type(numbers | gp.map(show), gp.Source[str])
assert_type(numbers | gp.map(show) | gp.filter(is_short), gp.Source[str])
assert_type([1, 2] | gp.map(show), gp.Source[str])
assert_type(gp.map(show) | (gp.map(parse) | gp.map(show)), gp.Stage[int, str])
# Stage is contravariant in its input: str() accepts any object, ints included.
assert_type(numbers | gp.map(str), gp.Source[str])

# .then() for lambdas and for stages and sinks with type variables of their own.
assert_type(numbers.then(gp.map(str)).then(gp.to_list()), list[str])
assert_type(numbers.then(gp.map(lambda n: n + 1)), gp.Source[int])
assert_type(numbers.then(gp.filter(lambda n: n > 1)), gp.Source[int])
assert_type(numbers.then(gp.flat_map(lambda n: [n, n])), gp.Source[int])
assert_type(numbers.then(gp.take(2)), gp.Source[int])
assert_type(numbers.then(gp.skip(1)), gp.Source[int])
assert_type(numbers.then(gp.take_while(lambda n: n < 2)), gp.Source[int])
assert_type(numbers.then(gp.drop_while(lambda n: n < 2)), gp.Source[int])
assert_type(numbers.then(gp.distinct()), gp.Source[int])
assert_type(numbers.then(gp.sort(key=lambda n: -n)), gp.Source[int])
assert_type(numbers.then(gp.tap(print)), gp.Source[int])
assert_type(numbers.then(gp.enumerate()), gp.Source[tuple[int, int]])
assert_type(numbers.then(gp.scan(add)), gp.Source[int])
assert_type(numbers.then(gp.scan(lambda text, n: text + str(n), "")), gp.Source[str])
assert_type(numbers.then(gp.batch(2)), gp.Source[list[int]])
assert_type(numbers.then(gp.window(2)), gp.Source[tuple[int, ...]])
assert_type(numbers.then(gp.pairwise()), gp.Source[tuple[int, int]])
assert_type(
    numbers.then(gp.group_by(lambda n: n % 2 == 0)),
    gp.Source[tuple[bool, list[int]]],
)
assert_type(numbers.then(gp.throttle(5)), gp.Source[int])
assert_type(gp.map(parse).then(gp.take(2)), gp.Stage[str, int])
assert_type(gp.map(parse).then(gp.batch(2)).then(gp.first()), gp.Sink[str, list[int]])

# Sinks: running a source through one gives the result's type.
assert_type(numbers.then(gp.to_list()), list[int])
assert_type(numbers.then(gp.to_set()), set[int])
assert_type(numbers.then(gp.to_dict(show)), dict[str, int])
assert_type(numbers.then(gp.to_dict(show, lambda n: n / 2)), dict[str, float])
assert_type(numbers.then(gp.reduce(add)), int)
assert_type(numbers.then(gp.reduce(lambda total, n: total + n / 2, 0.0)), float)
assert_type(numbers.then(gp.first()), int)
assert_type(numbers.then(gp.last()), int)
assert_type(numbers.then(gp.for_each(print)), None)
assert_type(numbers.then(gp.drain()), None)
assert_type(numbers | gp.map(show) | gp.for_each(print), None)
assert_type(gp.map(parse).then(gp.to_list()), gp.Sink[str, list[int]])
assert_type(["1"] | (gp.map(parse) | gp.reduce(add)), int)

# A default joins the result type. Pyright infers a default of None or of the
# element type inside .then(); for a default of another type see
# check_mypy_only.py.
assert_type(numbers.then(gp.first(default=None)), int | None)
assert_type(numbers.then(gp.last(default=None)), int | None)
assert_type(numbers.then(gp.last(default=0)), int)

# Both faces of a stage, and the ways to run a source.
assert_type(gp.map(show)([1, 2]), gp.Run[str])
assert_type(gp.map(show).eager([1, 2]), list[str])
assert_type(numbers.eager(), list[int])
assert_type(iter(numbers | gp.map(show)), gp.Run[str])
with (numbers | gp.map(show)).open() as shown:
    assert_type(shown, gp.Run[str])
    shown.cancel()
    shown.close()

# Sources.
assert_type(gp.count(), gp.Source[int])
assert_type(gp.repeat("x", 3), gp.Source[str])
assert_type(gp.generate(lambda: 1.5), gp.Source[float])
assert_type(gp.interval(1.0), gp.Source[int])

# Error options keep the element types; a handler returns a replacement.
assert_type(gp.map(parse, on_error="skip"), gp.Stage[str, int])
assert_type(gp.map(parse, on_error=lambda exc, text: -1), gp.Stage[str, int])
assert_type(gp.map(parse, on_error=gp.DeadLetters()), gp.Stage[str, int])

# Every stage that calls a function takes the same error options.
assert_type(gp.tap(show, on_error="skip", retries=2), gp.Stage[int, int])
assert_type(numbers.then(gp.scan(add, 0, on_error=lambda exc, n: 0)), gp.Source[int])
assert_type(numbers.then(gp.reduce(add, on_error=gp.DeadLetters())), int)
assert_type(gp.sort(key=parse, on_error="skip"), gp.Stage[str, str])
assert_type(gp.distinct(key=parse, backoff=0.5), gp.Stage[str, str])
assert_type(gp.for_each(show, retry_on=(OSError,)), gp.Sink[int, None])
skipping: gp.ErrorOptions[int] = {"on_error": "skip", "retries": 1}
assert_type(gp.map(parse, **skipping), gp.Stage[str, int])
gp.tap(show, retry=2)  # type: ignore[call-arg]  # pyright: ignore[reportCallIssue]

# Keyed buckets, chained sources, per as a timedelta, a stage's comparison.
by_value = gp.group_by(parse, size=10, max_wait=5.0)
assert_type(by_value, gp.Stage[str, tuple[int, list[str]]])
assert_type(gp.chain([1, 2], numbers), gp.Source[int])
assert_type(numbers.then(gp.throttle(10, per=timedelta(minutes=1))), gp.Source[int])
assert_type(gp.stage(shown_all, comparison="multiset"), gp.Stage[int, str])

# pipeline() takes a list of any stages, so its element types are lost; with
# a sink among them, the result may be a sink.
assert_type(gp.pipeline(gp.map(show), gp.map(parse)), gp.Stage[Any, Any])
assert_type(
    gp.pipeline(gp.map(show), gp.to_list()), gp.Stage[Any, Any] | gp.Sink[Any, Any]
)

# stage_of() starts a chain typed, where its first stage is generic.
assert_type(gp.stage_of(int), gp.Stage[int, int])
assert_type(gp.stage_of(int).then(gp.take(2)), gp.Stage[int, int])
assert_type(
    gp.stage_of(str).then(gp.filter(lambda text: text != "")).then(gp.batch(2)),
    gp.Stage[str, list[str]],
)
assert_type(gp.stage_of(dict[str, int]), gp.Stage[dict[str, int], dict[str, int]])
gp.stage_of(int).then(gp.map(parse))  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]

# Type errors: mismatched element types, and misspelt options.
ints_to_text: gp.Stage[int, str] = gp.map(show)
bytes_to_text: gp.Stage[bytes, str] = gp.map(bytes.decode)
ints_to_text | bytes_to_text  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
gp.source(["1"]) | ints_to_text  # type: ignore[operator]  # pyright: ignore[reportOperatorIssue, reportUnusedExpression]
gp.source(["1"]).then(ints_to_text)  # type: ignore[arg-type]  # pyright: ignore[reportCallIssue, reportArgumentType]
gp.map(parse, on_error="ignore")  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


# A resource per worker: fn's second parameter is what on_start returns.
def connect() -> bytes:
    return b""


def fetch_with(n: int, connection: bytes) -> str:
    return str(n)


assert_type(gp.thread_map(fetch_with, on_start=connect), gp.Stage[int, str])
assert_type(gp.thread_filter(is_short), gp.Stage[str, str])
assert_type(gp.thread_flat_map(str.split), gp.Stage[str, str])
