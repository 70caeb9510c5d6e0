"""genpipe.testing end to end: the catalog-wide property, and failures it shrinks."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from hypothesis import find, given, settings
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import assert_lazy_equals_eager
from genpipe.testing.strategies import pipelines
from tests.strategies import int_lists, ints

Case = tuple[gp.Stage[int, Any], list[int]]

#: Reproducible shrinking: no example database, no randomness.
shrinking = settings(database=None, derandomize=True, max_examples=1000)


def test_importing_it_without_hypothesis_says_how_to_install_it() -> None:
    script = (
        "import sys\n"
        "sys.modules['hypothesis'] = None\n"
        "try:\n"
        "    import genpipe.testing\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert "pip install genpipe[testing]" in done.stdout


# The strongest test of the library: any composition of its stages, thread
# stages included, streams what it computes list at a time.
@settings(max_examples=3 * settings().max_examples)
@given(pipelines(), int_lists)
def test_random_pipelines_of_the_whole_catalog_stream_what_they_compute_eagerly(
    pipeline: gp.Stage[int, Any], items: list[int]
) -> None:
    assert_lazy_equals_eager(pipeline, items)


def lazy_differs_from_eager(case: Case) -> bool:
    pipeline, items = case
    try:
        assert_lazy_equals_eager(pipeline, items)
    except AssertionError:
        return True
    return False


_calls = itertools.count()


def plus_calls_so_far(n: int) -> int:
    """Deliberately stateful: each run of a pipeline sees a different counter."""
    return n + next(_calls)


def test_a_map_reading_a_global_counter_shrinks_to_that_map_and_one_item() -> None:
    cases = st.tuples(pipelines(ints, functions=[plus_calls_so_far]), int_lists)
    pipeline, items = find(cases, lazy_differs_from_eager, settings=shrinking)
    assert (repr(pipeline), items) == ("map(plus_calls_so_far)", [0])


def pair_sums(items: Iterable[int]) -> Iterator[int]:
    """A window of two, summed, with a bug: it forgets each pair's second item."""
    pair: list[int] = []
    for item in items:
        pair.append(item)
        if len(pair) == 2:
            yield pair[0] + pair[1]
            pair.clear()


def pair_sums_reference(items: list[int]) -> list[int]:
    return [a + b for a, b in itertools.pairwise(items)]


def test_a_buggy_window_shrinks_to_that_stage_and_three_items() -> None:
    buggy = gp.stage(pair_sums, eager=pair_sums_reference)
    cases = st.tuples(pipelines(extra_stages=[buggy]), int_lists)
    pipeline, items = find(cases, lazy_differs_from_eager, settings=shrinking)
    assert (repr(pipeline), items) == ("pair_sums", [0, 0, 0])
