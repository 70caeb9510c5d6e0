"""genpipe.testing.strategies: which stages it draws, and how they shrink."""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import _functions
from genpipe.testing.strategies import pipelines, stages

shrinking = settings(database=None, derandomize=True, max_examples=2000)
#: For finding an example that exists, without shrinking it.
searching = settings(shrinking, phases=[Phase.generate])

#: Every name a drawn stage's repr may use, as a user would import them.
code_names: dict[str, Any] = {
    **{name: getattr(gp, name) for name in gp.__all__},
    **vars(_functions),
    "operator": operator,
    "add": operator.add,
    "sub": operator.sub,
}


@given(pipelines())
def test_drawn_pipelines_print_as_code_that_rebuilds_them(
    pipeline: gp.Stage[int, Any],
) -> None:
    rebuilt = eval(repr(pipeline), code_names)
    assert repr(rebuilt) == repr(pipeline)


@pytest.mark.parametrize(("least", "most"), [(1, 1), (2, 4)])
def test_pipelines_have_between_min_and_max_stages(least: int, most: int) -> None:
    @given(pipelines(min_stages=least, max_stages=most))
    def within_bounds(pipeline: gp.Stage[int, Any]) -> None:
        assert least <= len(pipeline.parts) <= most

    within_bounds()


@pytest.mark.parametrize(
    ("factory", "option"),
    # Each factory is drawn (tests/test_catalog.py checks them all); these are
    # the variants of one factory that behave differently.
    [
        ("distinct(", "key="),
        ("distinct()", ""),
        ("thread_map(", "ordered=False"),
        ("batch(", "max_wait="),
        ("group_by(", "size="),
        ("group_by(", "max_wait="),
    ],
)
def test_stages_draws_the_variants_of_a_catalog_stage(
    factory: str, option: str
) -> None:
    def drawn(stage: gp.Stage[int, Any]) -> bool:
        return repr(stage).startswith(factory) and option in repr(stage)

    find(stages(), drawn, settings=searching)


@pytest.mark.parametrize(
    ("shown", "simplest"),
    [
        ("flatten()", "pairwise() | flatten()"),
        ("starmap(", "pairwise() | starmap(largest)"),
        ("itemgetter", "enumerate() | map(operator.itemgetter(1))"),
    ],
)
def test_rows_and_pairs_are_unpacked_by_stages_that_fit_them(
    shown: str, simplest: str
) -> None:
    found = find(pipelines(), lambda p: shown in repr(p), settings=shrinking)
    assert repr(found) == simplest


def test_a_counterexample_shrinks_to_the_fewest_simplest_stages() -> None:
    found = find(pipelines(), lambda p: "thread_map" in repr(p), settings=shrinking)
    assert repr(found) == "thread_map(double, workers=1)"


def test_your_functions_are_the_only_ones_that_see_the_elements() -> None:
    @given(pipelines(st.text(max_size=3), functions=[str.upper]))
    def only_upper(pipeline: gp.Stage[str, Any]) -> None:
        for name in ("double", "negate", "increment", "halve"):
            assert name not in repr(pipeline)

    only_upper()
    find(
        pipelines(st.text(), functions=[str.upper]),
        lambda p: "thread_map(str.upper" in repr(p),
        settings=searching,
    )


def doubled(items: Iterable[int]) -> Iterator[int]:
    return (2 * item for item in items)


def test_extra_stages_are_drawn_where_the_stream_holds_elements() -> None:
    mine = gp.stage(doubled)
    found = find(pipelines(extra_stages=[mine]), lambda p: mine in p.parts)
    assert found.parts == (mine,)


@pytest.mark.parametrize(
    ("options", "error", "complaint"),
    [
        ({"min_stages": 0}, ValueError, "min_stages >= 1"),
        ({"min_stages": 3, "max_stages": 2}, ValueError, "max_stages >= 3"),
        ({"functions": []}, ValueError, "at least one function"),
        ({"functions": "upper"}, TypeError, "a list of element-to-element"),
        ({"functions": [1]}, TypeError, "needs a callable"),
        ({"extra_stages": [abs]}, TypeError, "extra_stages= needs stages"),
    ],
)
def test_a_wrong_argument_fails_when_the_strategy_is_built(
    options: dict[str, Any], error: type[Exception], complaint: str
) -> None:
    with pytest.raises(error, match=complaint):
        pipelines(st.integers(), **options)
