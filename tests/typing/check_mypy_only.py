"""What mypy --strict infers through ``|`` that pyright does not.

Type-checked by mypy, never run; basedpyright excludes this file. mypy types
the right side of ``|`` with the left side as context, so lambdas and
factories with type variables of their own (``take``, ``to_list``, ...) are
inferred in a plain ``|`` chain. Pyright users write the same chains with
``.then()``, as in check_types.py.
"""

from typing import assert_type

import genpipe as gp


def parse(text: str) -> int:
    return int(text)


numbers = gp.source([1, 2, 3])

assert_type(gp.source([1, 2]) | gp.map(str) | gp.to_list(), list[str])
assert_type(numbers | gp.map(lambda n: n + 1), gp.Source[int])
assert_type(numbers | gp.filter(lambda n: n > 1) | gp.to_list(), list[int])
assert_type(numbers | gp.take(1) | gp.to_list(), list[int])
assert_type(numbers | gp.batch(2) | gp.flatten() | gp.to_set(), set[int])
assert_type(numbers | gp.window(2) | gp.first(), tuple[int, ...])
assert_type(
    numbers | gp.enumerate() | gp.to_dict(lambda pair: pair[1]),
    dict[int, tuple[int, int]],
)
assert_type(numbers | gp.scan(lambda text, n: text + str(n), "") | gp.last(), str)
assert_type(numbers | gp.reduce(lambda total, n: total + n / 2, 0.0), float)
assert_type(numbers | gp.last(default="none"), int | str)
assert_type(gp.source(["1"]) | gp.map(parse) | gp.batch(2) | gp.first(), list[int])
assert_type(gp.map(parse) | gp.take(2), gp.Stage[str, int])
assert_type(gp.map(parse) | gp.to_list(), gp.Sink[str, list[int]])
assert_type(gp.map(parse) | gp.map(lambda n: n * 2.5), gp.Stage[str, float])

# Where mypy needs help too: a generic stage or sink with nothing on its left
# to infer from, piped into from a plain iterable or starting a chain. Start
# from gp.source(...), or name the first stage's type.
[1, 2] | gp.take(1)  # type: ignore[operator]
range(3) | gp.to_list()  # type: ignore[operator]
first_two: gp.Stage[int, int] = gp.take(2)
assert_type([1, 2, 3] | first_two, gp.Source[int])
assert_type(gp.source(range(3)) | gp.to_list(), list[int])
windows: gp.Stage[int, tuple[int, ...]] = gp.window(2)
assert_type(windows | gp.map(sum), gp.Stage[int, int])

# Or start the chain with stage_of(), which needs no annotation.
assert_type(gp.stage_of(int) | gp.window(2) | gp.map(sum), gp.Stage[int, int])
assert_type(
    gp.stage_of(int) | gp.filter(lambda r: r < 9_000) | gp.batch(100),
    gp.Stage[int, list[int]],
)
assert_type(gp.stage_of(str) | gp.sort() | gp.to_list(), gp.Sink[str, list[str]])
