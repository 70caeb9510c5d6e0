"""Hypothesis strategies shared by every test module.

Draw inputs from here instead of building them inline, so every test explores
the same space and a failing example prints readably: functions are drawn
from the named functions of `genpipe.testing`'s int toolkit and a few more
defined here (a failure shows ``fn=double``, not ``fn=<lambda>``), and drawn
stages print as the code that built them (``stage=window(3, step=2)``).

Stream elements are small ``int`` values (text only for `lines`): small
enough to hit collisions (repeated keys, equal neighbours) often, and every
function drawn is pure and total on them, so any difference between two runs
is the code under test.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor

from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import INTS

#: A stream element: small, so that repeats and equal keys are common.
ints = st.integers(min_value=-20, max_value=20)

#: A finite stream, often empty or short, sometimes longer than any size below.
int_lists = st.lists(ints, max_size=30)

#: A stream of small lists, for `flatten` and other one-to-many shapes.
nested_int_lists = st.lists(st.lists(ints, max_size=4), max_size=10)

#: A stream of argument pairs, for `starmap`.
int_pairs = st.lists(st.tuples(ints, ints), max_size=20)

#: A positive size or step: a batch or window size, a worker count, a bound.
sizes = st.integers(min_value=1, max_value=8)

#: A non-negative count for `take`/`skip`: zero, within, and beyond a list.
counts = st.integers(min_value=0, max_value=35)

#: A line of text with no line break in it, for line-based file stages.
lines = st.text(
    st.characters(
        codec="utf-8",
        exclude_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=20,
)


def square(n: int) -> int:
    return n * n


def identity(n: int) -> int:
    return n


#: A pure function from int to int.
int_functions = st.sampled_from([*INTS.maps, square])

#: A predicate on ints, including the two constant ones.
predicates = st.sampled_from(INTS.predicates)

#: A key function with few distinct values, so groups and duplicates abound.
keys = st.sampled_from([*INTS.keys, identity])

#: A binary function on ints that keeps numbers small, for `scan`/`reduce`.
binary_functions = st.sampled_from(INTS.combiners)

#: A function from an int to a list of ints (sometimes empty), for `flat_map`.
expansions = st.sampled_from(INTS.expansions)


#: genpipe's public names and every function drawn above: what a stage's repr
#: names, so ``eval(repr(stage), dict(NAMESPACE))`` builds the stage again.
async def awaited(n: int) -> int:
    """A coroutine function for the async stages' rows."""
    return n


NAMESPACE: dict[str, object] = (
    {name: getattr(gp, name) for name in gp.__all__}
    | {
        function.__name__: function
        for role in (
            INTS.maps,
            INTS.predicates,
            INTS.keys,
            INTS.combiners,
            INTS.expansions,
        )
        for function in role
    }
    | {
        "square": square,
        "identity": identity,
        "datetime": datetime,
        "awaited": awaited,
        # Starts no thread until a task is submitted, which the rows never do.
        "pool": ThreadPoolExecutor(2),
    }
)


def _sum_of_windows(size: int) -> gp.Stage[int, int]:
    windows: gp.Stage[int, tuple[int, ...]] = gp.window(size)
    return windows | gp.map(sum)


def _rebatched(size: int) -> gp.Stage[int, int]:
    batches: gp.Stage[int, list[int]] = gp.batch(size)
    return batches | gp.flatten()


#: Any single sequential stage from ints to ints, with drawn parameters; stages
#: that change the element type come wrapped so that they give ints back.
#: Every one is finite on finite input, so chains of them can run eagerly.
int_stages: st.SearchStrategy[gp.Stage[int, int]] = st.one_of(
    st.builds(gp.map, int_functions),
    st.builds(gp.filter, predicates),
    st.builds(gp.flat_map, expansions),
    st.builds(gp.take, counts),
    st.builds(gp.skip, counts),
    st.builds(gp.take_while, predicates),
    st.builds(gp.drop_while, predicates),
    st.builds(gp.distinct, st.none() | keys),
    st.builds(gp.scan, binary_functions),
    st.builds(gp.sort, st.none() | keys, st.booleans()),
    st.builds(_sum_of_windows, sizes),
    st.builds(_rebatched, sizes),
)
