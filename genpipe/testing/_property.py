"""`lazy_eager_property`: turn a pipeline factory into a ready hypothesis test."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import given
from hypothesis import strategies as st

from genpipe._core import Stage
from genpipe._validate import check_callable, check_int
from genpipe.testing._assertion import assert_lazy_equals_eager

T = TypeVar("T")


def lazy_eager_property(
    elements: st.SearchStrategy[T],
    *,
    max_size: int | None = None,
    ordered: bool = True,
    equal: Callable[[Any, Any], object] | None = None,
) -> Callable[[Callable[[], Stage[T, Any]]], Callable[[], None]]:
    """Decorate a function that builds a pipeline to make it a hypothesis test.

    The test draws lists of ``elements`` (at most ``max_size`` of them),
    builds a fresh pipeline for each and runs `assert_lazy_equals_eager` on
    it with ``ordered`` and ``equal``. Name the function ``test_...`` and
    pytest collects it; a failure prints the shrunk input, as
    ``test_...(items=[...])``. Change how many examples run with
    ``@hypothesis.settings(...)`` placed above this decorator.

    Sharp edge: the factory is called once per example, so a pipeline that
    closes over state created outside it (a module-level list, a shared
    counter) carries that state from one example to the next.

    >>> import genpipe as gp
    >>> from hypothesis import strategies as st
    >>> from genpipe.testing import lazy_eager_property
    >>> @lazy_eager_property(st.integers())
    ... def test_running_maximum():
    ...     return gp.scan(max) | gp.distinct()
    >>> test_running_maximum()
    """
    if not isinstance(elements, st.SearchStrategy):
        raise TypeError(
            "lazy_eager_property() needs a hypothesis strategy for the elements, "
            f"such as st.integers(), got {elements!r}"
        )
    if max_size is not None:
        check_int("lazy_eager_property", "max_size", max_size, minimum=0)
    inputs = st.lists(elements, max_size=max_size)

    def decorate(factory: Callable[[], Stage[T, Any]]) -> Callable[[], None]:
        if isinstance(factory, Stage):
            raise TypeError(
                "lazy_eager_property() decorates a function that returns the "
                f"pipeline, not the pipeline: def test_...(): return {factory!r}"
            )
        check_callable("lazy_eager_property", "the decorated factory", factory)

        def check(items: list[T]) -> None:
            __tracebackhide__ = True  # the report shows the user's function instead
            assert_lazy_equals_eager(factory(), items, ordered=ordered, equal=equal)

        test = _placed_at(factory, check)
        # pytest collects and hypothesis reports the test by these names.
        for attribute in ("__name__", "__qualname__", "__module__", "__doc__"):
            if hasattr(factory, attribute):
                setattr(test, attribute, getattr(factory, attribute))
        hypothesis_test = given(inputs)(test)
        hypothesis_test.__qualname__ = test.__qualname__
        return hypothesis_test

    return decorate


def _placed_at(
    factory: Callable[..., object], check: Callable[[list[T]], None]
) -> Callable[[list[T]], None]:
    """A function that calls ``check`` from the first line of ``factory``'s source.

    pytest reports a failure at the test function's own code, which here would
    be a line of this module. Compiled with the user's file name and line
    number, the function that calls ``check`` puts that report on the user's
    ``@lazy_eager_property`` line instead. The call spans two lines, so that
    pytest underlines no part of the user's line.
    """
    code = getattr(factory, "__code__", None)
    if not isinstance(code, types.CodeType) or code.co_firstlineno < 2:
        return check
    source = (
        "def make(check):\n"
        + "\n" * (code.co_firstlineno - 2)
        + "  def test(items): return check(\n    items)\n"
        + "  return test\n"
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, code.co_filename, "exec"), namespace)
    test: Callable[[list[T]], None] = namespace["make"](check)
    test.__code__ = test.__code__.replace(
        co_name=code.co_name, co_qualname=code.co_qualname
    )
    return test
