"""lazy_eager_property: a pipeline factory becomes a hypothesis test."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import settings

import genpipe as gp
from genpipe.testing import lazy_eager_property
from genpipe.testing._functions import double, is_even
from tests.strategies import ints

reproducibly = settings(database=None, derandomize=True)


def test_the_decorated_factory_is_a_test_named_after_it_run_once_per_example() -> None:
    built: list[gp.Stage[int, int]] = []

    @settings(reproducibly, max_examples=7)
    @lazy_eager_property(ints)
    def test_doubled_evens() -> gp.Stage[int, int]:
        """Doubles the even numbers."""
        pipeline: gp.Stage[int, int] = gp.filter(is_even) | gp.map(double)
        built.append(pipeline)
        return pipeline

    test_doubled_evens()
    assert test_doubled_evens.__name__ == "test_doubled_evens"
    assert test_doubled_evens.__doc__ == "Doubles the even numbers."
    assert len(built) == 7
    assert len({id(pipeline) for pipeline in built}) == 7


def test_a_failing_factory_reports_the_shrunk_input() -> None:
    @reproducibly
    @lazy_eager_property(ints)
    def test_leaky() -> gp.Stage[int, int]:
        seen: list[int] = []
        return gp.tap(seen.append) | gp.map(lambda n: len(seen))

    with pytest.raises(AssertionError, match="lazy and eager results differ") as raised:
        test_leaky()
    assert "test_leaky(\n    items=[0],\n)" in "\n".join(raised.value.__notes__)


def test_a_failure_is_reported_at_the_users_function_not_inside_genpipe() -> None:
    decorated_at = sys._getframe().f_lineno + 1

    @reproducibly
    @lazy_eager_property(ints)
    def test_leaky() -> gp.Stage[int, int]:
        seen: list[int] = []
        return gp.tap(seen.append) | gp.map(lambda n: len(seen))

    with pytest.raises(AssertionError) as raised:
        test_leaky()
    shown = [
        (frame.f_code.co_filename, line, frame.f_code.co_name)
        for frame, line in traceback.walk_tb(raised.value.__traceback__)
        if not frame.f_locals.get("__tracebackhide__")
    ]
    assert shown[-1] == (__file__, decorated_at + 1, "test_leaky")
    genpipe_package = os.path.dirname(gp.__file__)
    assert not [entry for entry in shown if entry[0].startswith(genpipe_package)]


def test_max_size_bounds_the_drawn_inputs() -> None:
    lengths: list[int] = []

    @lazy_eager_property(ints, max_size=3)
    def test_short() -> gp.Stage[int, list[int]]:
        whole: gp.Stage[int, list[int]] = gp.batch(100)
        return whole | gp.tap(lambda batch: lengths.append(len(batch)))

    test_short()
    assert max(lengths) == 3


def backwards(items: Iterable[int]) -> Iterator[int]:
    return reversed(list(items))


def test_ordered_and_equal_are_passed_on_to_the_assertion() -> None:
    @reproducibly
    @lazy_eager_property(ints, ordered=False, equal=lambda a, b: abs(a - b) <= 1)
    def test_reversed_nudged() -> gp.Stage[int, int]:
        return gp.stage(backwards, eager=list) | gp.map(lambda n: n + n % 2)

    test_reversed_nudged()


#: The wrong calls below do not type-check; they stand for untyped callers.
decorate_untyped: Any = lazy_eager_property


@pytest.mark.parametrize(
    ("arguments", "options", "error", "complaint"),
    [
        ((range(3),), {}, TypeError, "needs a hypothesis strategy"),
        ((ints,), {"max_size": -1}, ValueError, "max_size >= 0"),
    ],
)
def test_a_wrong_argument_fails_at_decoration(
    arguments: tuple[object, ...],
    options: dict[str, object],
    error: type[Exception],
    complaint: str,
) -> None:
    with pytest.raises(error, match=complaint):
        decorate_untyped(*arguments, **options)


def test_decorating_a_pipeline_instead_of_its_factory_says_what_to_write() -> None:
    with pytest.raises(TypeError, match=r"def test_\.\.\.\(\): return map\(abs\)"):
        decorate_untyped(ints)(gp.map(abs))


def test_decorating_something_that_is_not_callable_fails_at_once() -> None:
    with pytest.raises(TypeError, match="needs a callable"):
        decorate_untyped(ints)([1, 2])
