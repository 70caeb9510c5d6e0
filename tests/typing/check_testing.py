"""genpipe.testing's signatures: checked by mypy --strict and basedpyright.

Type-checked, never run. Element types flow from the element strategy into
the drawn pipelines, the items checked and the decorated factory, so a
strategy or input of the wrong type is caught before any test runs.
"""

from collections.abc import Callable
from typing import Any, assert_type

from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import assert_lazy_equals_eager, lazy_eager_property
from genpipe.testing.strategies import pipelines, stages


def shout(text: str) -> str:
    return text.upper()


assert_type(pipelines(), st.SearchStrategy[gp.Stage[int, Any]])
assert_type(stages(st.integers(0, 9)), st.SearchStrategy[gp.Stage[int, Any]])
assert_type(
    pipelines(st.text(), functions=[shout]), st.SearchStrategy[gp.Stage[str, Any]]
)
assert_type(stages(st.text(), functions=[shout]), st.SearchStrategy[gp.Stage[str, Any]])

# Without functions=, drawn stages call built-in int functions.
pipelines(st.text())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
# functions= must map an element to an element.
pipelines(st.text(), functions=[len])  # type: ignore[list-item]  # pyright: ignore[reportCallIssue, reportArgumentType]

assert_lazy_equals_eager(gp.map(shout), ["a", "b"])
assert_lazy_equals_eager(gp.source(["a"]) | gp.map(shout))
assert_lazy_equals_eager(gp.map(shout), [1, 2])  # type: ignore[misc]  # pyright: ignore[reportArgumentType]


@lazy_eager_property(st.text())
def test_shout() -> gp.Stage[str, str]:
    return gp.map(shout)


assert_type(test_shout, Callable[[], None])


@lazy_eager_property(st.integers())  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
def test_shout_numbers() -> gp.Stage[str, str]:
    return gp.map(shout)
