"""Hypothesis strategies that draw genpipe stages and whole pipelines.

Draw a pipeline with `pipelines` and its input from the same elements, then
check it with `genpipe.testing.assert_lazy_equals_eager`. Drawn stages print
as the code that builds them, so a falsifying example reads
``pipeline=map(double) | window(2, step=3) | flatten()``; the functions they
apply are named, pure, and defined in ``genpipe.testing._functions``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar, overload

from hypothesis import strategies as st

import genpipe as gp
from genpipe._core import describe
from genpipe._validate import check_callable, check_int
from genpipe.testing._catalog import ELEMENT, Catalog
from genpipe.testing._functions import INTS, Toolkit, around

T = TypeVar("T")

_small_ints = st.integers(min_value=-20, max_value=20)

# Drawn after each stage: a pipeline gets about four stages on average, and
# shrinking deletes a stage by deleting its draws, as for ``st.lists``.
_another_stage = st.sampled_from([False, True, True, True])


@overload
def stages(
    elements: st.SearchStrategy[int] = ...,
    *,
    functions: None = None,
    extra_stages: Sequence[gp.Stage[int, int]] = (),
) -> st.SearchStrategy[gp.Stage[int, Any]]: ...
@overload
def stages(
    elements: st.SearchStrategy[T],
    *,
    functions: Sequence[Callable[[T], T]],
    extra_stages: Sequence[gp.Stage[T, T]] = (),
) -> st.SearchStrategy[gp.Stage[T, Any]]: ...
def stages(
    elements: st.SearchStrategy[Any] = _small_ints,
    *,
    functions: Sequence[Callable[[Any], Any]] | None = None,
    extra_stages: Sequence[gp.Stage[Any, Any]] = (),
) -> st.SearchStrategy[gp.Stage[Any, Any]]:
    """Draw one built-in stage that accepts ``elements``, with drawn parameters.

    Every stage of the catalog that takes a plain element can be drawn, the
    thread-backed ones (`thread_map`, `buffer`, timed `batch` and `group_by`)
    with one to four workers or slots, and `throttle` on a fake clock that never sleeps.
    ``elements`` is what the stream holds; parameters that are elements
    (`scan`'s initial value) are drawn from it. ``functions`` are your own
    element-to-element functions for `map` and `thread_map`;
    ``extra_stages`` are your own element-to-element stages (made with
    `genpipe.stage`), drawn like the catalog's.

    Sharp edge: without ``functions``, the drawn stages call built-in int
    functions (`is_even`, `double`, ...), so ``elements`` must draw ints;
    with them, predicates and keys are generic (`bool`) and only your
    functions see the elements' values.

    >>> from hypothesis import given
    >>> from genpipe.testing.strategies import stages
    >>> @given(stages())
    ... def test_every_stage_runs_on_an_empty_input(stage):
    ...     assert stage.eager([]) == list(stage([]))
    >>> test_every_stage_runs_on_an_empty_input()
    """
    return pipelines(
        elements,
        min_stages=1,
        max_stages=1,
        functions=functions,
        extra_stages=extra_stages,
    )


@overload
def pipelines(
    elements: st.SearchStrategy[int] = ...,
    *,
    min_stages: int = 1,
    max_stages: int = 6,
    functions: None = None,
    extra_stages: Sequence[gp.Stage[int, int]] = (),
) -> st.SearchStrategy[gp.Stage[int, Any]]: ...
@overload
def pipelines(
    elements: st.SearchStrategy[T],
    *,
    min_stages: int = 1,
    max_stages: int = 6,
    functions: Sequence[Callable[[T], T]],
    extra_stages: Sequence[gp.Stage[T, T]] = (),
) -> st.SearchStrategy[gp.Stage[T, Any]]: ...
def pipelines(
    elements: st.SearchStrategy[Any] = _small_ints,
    *,
    min_stages: int = 1,
    max_stages: int = 6,
    functions: Sequence[Callable[[Any], Any]] | None = None,
    extra_stages: Sequence[gp.Stage[Any, Any]] = (),
) -> st.SearchStrategy[gp.Stage[Any, Any]]:
    """Draw a chain of ``min_stages`` to ``max_stages`` stages that fit together.

    Each stage is drawn as in `stages` from what the previous one yields:
    after `window` or `batch` come stages that accept rows (`flatten`,
    `starmap`, or any stage that does not look inside items, such as `take`
    or `buffer`), after `enumerate` or `group_by` a `map` that unpacks the
    pair. A failing example shrinks towards fewer stages, simpler stages
    (`map` before `thread_map`) and smaller parameters.

    Sharp edge: the stages may change the item type (rows, pairs), so the
    pipeline is typed ``Stage[T, Any]``; and `flat_map` stages multiply the
    stream, so six of them turn 20 items into up to 15,000.

    >>> from hypothesis import given, strategies as st
    >>> from genpipe.testing import assert_lazy_equals_eager
    >>> from genpipe.testing.strategies import pipelines
    >>> words = st.text("ab ", max_size=4)
    >>> @given(pipelines(words, functions=[str.strip, str.upper]), st.lists(words))
    ... def test_text_pipelines(pipeline, items):
    ...     assert_lazy_equals_eager(pipeline, items)
    >>> test_text_pipelines()
    """
    check_int("pipelines", "min_stages", min_stages, minimum=1)
    check_int("pipelines", "max_stages", max_stages, minimum=min_stages)
    catalog = Catalog(_toolkit(functions), elements, _checked_stages(extra_stages))

    @st.composite
    def chains(draw: st.DrawFn) -> gp.Stage[Any, Any]:
        parts: list[gp.Stage[object, object]] = []  # Any would make pipeline() Any
        shape = ELEMENT
        while len(parts) < min_stages or (
            len(parts) < max_stages and draw(_another_stage)
        ):
            move = draw(st.sampled_from(catalog.moves_from(shape)))
            parts.append(draw(move.stage))
            shape = move.shape
        return gp.pipeline(*parts)

    return chains()


def _toolkit(functions: Sequence[Callable[[Any], Any]] | None) -> Toolkit[Any]:
    if functions is None:
        return INTS
    if isinstance(functions, str) or not isinstance(functions, Sequence):
        raise TypeError(
            "functions= needs a list of element-to-element functions, "
            f"got {describe(functions)}"
        )
    if not functions:
        raise ValueError(
            "functions= needs at least one function; omit it to use the "
            "built-in int functions"
        )
    for each in functions:
        check_callable("pipelines", "each of functions", each)
    return around(functions)


def _checked_stages(
    extra_stages: Sequence[gp.Stage[Any, Any]],
) -> Sequence[gp.Stage[Any, Any]]:
    for each in extra_stages:
        if not isinstance(each, gp.Stage):
            raise TypeError(
                "extra_stages= needs stages (made with gp.stage or the catalog), "
                f"got {describe(each)}"
            )
    return extra_stages
