"""Stage, Source and Sink: composition, laziness, cleanup, errors and repr."""

from __future__ import annotations

import itertools
import re
import traceback
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import assert_lazy_equals_eager
from genpipe.testing._functions import double, is_even, is_positive, negate
from tests.doubles import TrackedSource, recording_stage
from tests.strategies import NAMESPACE, int_lists, int_stages

chains = st.lists(int_stages, min_size=1, max_size=4)


class PlannedError(Exception):
    """The one exception object a test raises, to check it arrives unchanged."""


def frames_of(tb: TracebackType | None) -> set[Any]:
    return {frame.f_code for frame, _ in traceback.walk_tb(tb)}


# Composition with | and .then()


def test_stage_pipe_stage_applies_the_left_stage_first() -> None:
    both = gp.map(double) | gp.filter(is_positive)
    assert isinstance(both, gp.Stage)
    assert list(both([-1, 2, 3])) == [4, 6]


def test_stage_pipe_sink_is_a_sink_that_runs_the_stage_first() -> None:
    collect = gp.map(negate) | gp.to_list()
    assert isinstance(collect, gp.Sink)
    assert collect([1, 2]) == [-1, -2]


def test_iterable_pipe_stage_is_a_source() -> None:
    negated = [1, 2] | gp.map(negate)
    assert isinstance(negated, gp.Source)
    assert list(negated) == [-1, -2]


def test_source_pipe_stage_is_a_source_and_leaves_the_original_alone() -> None:
    numbers = gp.source([1, 2, 3])
    evens = numbers | gp.filter(is_even)
    assert isinstance(evens, gp.Source)
    assert list(evens) == [2]
    assert list(numbers) == [1, 2, 3]


def test_source_pipe_sink_runs_the_pipeline_and_returns_the_result() -> None:
    assert gp.source([1, 2]) | gp.map(double) | gp.to_list() == [2, 4]


def test_iterable_pipe_sink_runs_it() -> None:
    collect: gp.Sink[int, list[int]] = gp.to_list()
    assert range(3) | collect == [0, 1, 2]


def test_iterable_pipe_composed_sink_runs_the_sinks_stages() -> None:
    assert range(3) | (gp.map(double) | gp.to_list()) == [0, 2, 4]


def test_stage_pipe_composed_sink_puts_the_stage_in_front() -> None:
    collect = gp.map(negate) | (gp.filter(is_positive) | gp.to_list())
    assert collect([1, -2, 3]) == [2]
    assert repr(collect) == "map(negate) | filter(is_positive) | to_list()"


def test_dicts_and_sets_pipe_into_stages_although_they_define_their_own_or() -> None:
    assert {1: "a", 2: "b"} | gp.map(negate) | gp.to_list() == [-1, -2]
    assert {3} | gp.map(negate) | gp.to_list() == [-3]


@pytest.mark.parametrize(
    "left",
    [gp.map(double), gp.source([1]), [1]],
    ids=["stage", "source", "list"],
)
def test_piping_into_something_that_is_not_a_stage_or_sink_is_a_type_error(
    left: Any,
) -> None:
    with pytest.raises(TypeError):
        left | 42
    with pytest.raises(TypeError):
        left | gp.source([2])


@pytest.mark.parametrize(
    "left", [gp.map(double), gp.source([1])], ids=["stage", "source"]
)
@pytest.mark.parametrize(
    ("factory", "hint"),
    [
        (gp.to_list, "did you mean gp.to_list()?"),
        (gp.batch, "did you mean gp.batch(size)?"),
        (gp.write_csv, "did you mean gp.write_csv(path)?"),
    ],
    ids=["to_list", "batch", "write_csv"],
)
def test_piping_into_a_factory_without_calling_it_says_what_was_meant(
    left: Any, factory: object, hint: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(hint)):
        left | factory


def test_piping_into_a_source_factory_says_only_stages_and_sinks_go_there() -> None:
    with pytest.raises(TypeError, match=r"gp\.read_csv: only stages and sinks"):
        gp.source(["a.csv"]) | gp.read_csv  # type: ignore[operator]


def test_piping_into_a_plain_function_says_how_to_wrap_it() -> None:
    def totals(items: Iterable[int]) -> Iterator[int]:
        yield sum(items)

    with pytest.raises(TypeError, match=r"gp\.map\(double\) to call it on each"):
        gp.source([1]) | double  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"wrap it as gp\.stage\(totals\)"):
        gp.map(double) | totals  # type: ignore[operator]


def test_an_object_with_its_own_ror_still_takes_the_right_side_of_a_pipe() -> None:
    class Collector:
        def __ror__(self, left: object) -> str:
            return f"collected {left!r}"

    assert gp.map(double) | Collector() == "collected map(double)"


@given(first=int_stages, second=int_stages, items=int_lists)
def test_then_is_the_same_as_pipe(
    first: gp.Stage[int, int], second: gp.Stage[int, int], items: list[int]
) -> None:
    piped, chained = first | second, first.then(second)
    assert repr(chained) == repr(piped)
    assert chained.eager(items) == piped.eager(items)
    assert gp.source(items).then(piped).then(gp.to_list()) == piped.eager(items)
    assert first.then(second.then(gp.to_list()))(items) == piped.eager(items)


@given(stages=st.lists(int_stages, min_size=3, max_size=3), items=int_lists)
def test_pipe_is_associative(
    stages: list[gp.Stage[int, int]], items: list[int]
) -> None:
    a, b, c = stages
    left, right = (a | b) | c, a | (b | c)
    assert left.parts == right.parts == a.parts + b.parts + c.parts
    assert repr(left) == repr(right)
    assert list(left(items)) == list(right(items))


# Every chain streams what its eager face computes


@given(stages=chains, items=int_lists)
def test_a_chain_streams_what_its_eager_face_computes(
    stages: list[gp.Stage[int, int]], items: list[int]
) -> None:
    chain = gp.pipeline(*stages)
    assert list(chain(items)) == chain.eager(items)


@given(stages=chains, items=int_lists)
def test_an_exhausted_stream_stays_exhausted_without_pulling_again(
    stages: list[gp.Stage[int, int]], items: list[int]
) -> None:
    tracked = TrackedSource(items)
    streamed = gp.pipeline(*stages)(tracked)
    list(streamed)
    pulls = tracked.pulls
    assert list(streamed) == []
    assert tracked.pulls == pulls


@given(stage=int_stages)
def test_every_stage_turns_an_empty_stream_into_an_empty_one(
    stage: gp.Stage[int, int],
) -> None:
    assert list(stage([])) == stage.eager([]) == []


@given(stages=chains, items=int_lists)
def test_a_chains_eager_face_applies_each_stages_eager_face_in_turn(
    stages: list[gp.Stage[int, int]], items: list[int]
) -> None:
    expected = items
    for each in stages:
        expected = each.eager(expected)
    assert gp.pipeline(*stages).eager(items) == expected


@given(stages=chains, items=int_lists)
def test_every_way_of_running_a_chain_gives_the_same_result(
    stages: list[gp.Stage[int, int]], items: list[int]
) -> None:
    chain = gp.pipeline(*stages)
    expected = chain.eager(items)
    flow = items | chain
    assert list(flow) == expected
    assert flow.eager() == expected
    assert flow | gp.to_list() == expected
    assert (chain | gp.to_list())(items) == expected
    assert items | (chain | gp.to_list()) == expected
    with flow.open() as it:
        assert list(it) == expected


def test_stage_eager_accepts_any_iterable() -> None:
    assert gp.map(double).eager(n for n in (1, 2)) == [2, 4]


def test_a_stage_is_reusable_across_pipelines() -> None:
    doubled = gp.map(double)
    assert [1] | doubled | gp.to_list() == [2]
    assert [5] | doubled | gp.to_list() == [10]
    assert list(doubled([3])) == [6]


# pipeline() and stage()


@given(stages=chains)
def test_pipeline_is_the_stages_piped_together(
    stages: list[gp.Stage[int, int]],
) -> None:
    piped = stages[0]
    for each in stages[1:]:
        piped = piped | each
    assert gp.pipeline(*stages).parts == piped.parts


def test_pipeline_of_one_stage_is_that_stage() -> None:
    only = gp.map(double)
    assert gp.pipeline(only) is only


def test_pipeline_without_stages_says_it_needs_one() -> None:
    with pytest.raises(ValueError, match="at least one stage"):
        gp.pipeline()


def test_pipeline_with_a_sink_last_is_a_sink_that_runs_the_stages_first() -> None:
    collect = gp.pipeline(gp.map(double), gp.take(2), gp.to_list())
    assert isinstance(collect, gp.Sink)
    assert [1, 2, 3] | collect == [2, 4]
    assert repr(collect) == "map(double) | take(2) | to_list()"


def test_pipeline_of_a_sink_alone_is_that_sink() -> None:
    collect: gp.Sink[int, list[int]] = gp.to_list()
    assert gp.pipeline(collect) is collect


def test_pipeline_takes_a_sink_only_last() -> None:
    with pytest.raises(
        TypeError, match=r"a sink only as its last argument, got to_list"
    ):
        gp.pipeline(gp.to_list(), gp.map(double))


@pytest.mark.parametrize("position", [0, 1])
def test_pipeline_rejects_what_is_neither_a_stage_nor_a_sink(position: int) -> None:
    parts: list[Any] = [gp.map(double), gp.map(double)]
    parts[position] = double
    with pytest.raises(TypeError, match=r"pipeline\(\) takes stages.*got double"):
        gp.pipeline(*parts)


def running_total(items: Iterable[int]) -> Iterator[int]:
    total = 0
    for item in items:
        total += item
        yield total


def test_stage_turns_a_generator_function_into_a_lazy_stage() -> None:
    totals = gp.stage(running_total)
    tracked = TrackedSource([1, 2, 3])
    streamed = totals(tracked)
    assert tracked.pulls == 0
    assert next(streamed) == 1
    assert tracked.pulls == 1
    assert totals.eager([1, 2, 3]) == [1, 3, 6]
    assert repr(totals) == "running_total"


def test_stage_eager_face_is_the_reference_given() -> None:
    totals = gp.stage(
        running_total, eager=lambda xs: [sum(xs[: i + 1]) for i in range(len(xs))]
    )
    assert totals.eager([1, 2, 3]) == [1, 3, 6]
    wrong = gp.stage(running_total, eager=lambda xs: [])
    assert wrong.eager([1]) == []
    assert list(wrong([1])) == [1]


def test_stage_name_replaces_the_function_name_in_repr() -> None:
    totals = gp.stage(running_total, name="totals()")
    assert repr(gp.map(double) | totals) == "map(double) | totals()"


def backwards(items: Iterable[int]) -> Iterator[int]:
    yield from reversed(list(items))


def test_stage_comparison_is_what_genpipe_testing_allows_to_differ() -> None:
    reordering = gp.stage(backwards, eager=list, comparison="multiset")
    assert reordering.comparison == "multiset"
    assert_lazy_equals_eager(reordering, [1, 2, 3])
    exact = gp.stage(backwards, eager=list)
    assert exact.comparison == "exact"
    with pytest.raises(AssertionError, match="first difference at index 0"):
        assert_lazy_equals_eager(exact, [1, 2, 3])


def test_stage_rejects_an_unknown_comparison_when_built() -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(
            "stage() needs comparison='exact', 'multiset' or 'regrouped', got 'set'"
        ),
    ):
        gp.stage(backwards, comparison="set")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"fn": 42}, "stage() needs a callable for fn, got 42"),
        ({"fn": running_total, "eager": "list"}, "needs a callable for eager"),
        ({"fn": running_total, "name": 3}, "stage() needs a str for name, got 3"),
    ],
)
def test_stage_rejects_bad_arguments_when_built(
    arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError, match=re.escape(message)):
        gp.stage(**arguments)


def test_a_stage_whose_function_returns_one_value_names_the_stage() -> None:
    def add_up(items: Iterable[int]) -> int:
        return sum(items)

    adding: gp.Stage[int, int] = gp.stage(add_up)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"stage add_up: add_up\(items\) returned 6,"):
        gp.source([1, 2, 3]) | adding | gp.to_list()
    with pytest.raises(TypeError, match=r"stage add_up: .* a sink such as gp\.reduce"):
        adding.eager([1, 2, 3])


def test_a_stage_whose_function_returns_a_list_streams_that_list() -> None:
    def reversed_list(items: Iterable[int]) -> list[int]:
        return list(items)[::-1]

    backwards: gp.Stage[int, int] = gp.stage(reversed_list)  # type: ignore[arg-type]
    assert [1, 2, 3] | backwards | gp.to_list() == [3, 2, 1]


# stage_of(): a typed start


def test_stage_of_passes_every_item_on_unchanged_with_no_stage_of_its_own() -> None:
    ints = gp.stage_of(int)
    assert list(ints(iter([1, 2]))) == [1, 2]
    assert ints.parts == (ints,)
    assert ints.eager((1, 2)) == [1, 2]


def test_stage_of_reads_as_the_code_that_built_it() -> None:
    start = gp.stage_of(dict[str, int]) | gp.take(1)
    assert repr(start) == "stage_of(dict[str, int]) | take(1)"
    assert repr(gp.stage_of(int)) == "stage_of(int)"


def test_stage_of_wants_a_type() -> None:
    with pytest.raises(
        TypeError, match=r"stage_of\(\) needs the type of the items.*got 3"
    ):
        gp.stage_of(3)  # type: ignore[arg-type]


# source(): re-iterable and one-shot bases


def test_source_rejects_what_is_not_iterable() -> None:
    with pytest.raises(TypeError, match=r"source\(\) needs an iterable .*got 42"):
        gp.source(42)  # type: ignore[arg-type]


def test_source_of_a_source_is_that_source() -> None:
    numbers = gp.source([1])
    assert gp.source(numbers) is numbers


@given(items=int_lists)
def test_a_reiterable_base_is_reread_on_every_iteration(items: list[int]) -> None:
    tracked = TrackedSource(items)
    negated = gp.source(tracked) | gp.map(negate)
    assert list(negated) == list(negated) == [-n for n in items]
    assert tracked.pulls == 2 * len(items)


@pytest.mark.parametrize(
    "second_run",
    [list, gp.Source.eager, lambda flow: flow | gp.to_list()],
    ids=["iterate", "eager", "sink"],
)
def test_a_one_shot_base_refuses_a_second_iteration(
    second_run: Callable[[gp.Source[int]], object],
) -> None:
    numbers = (n for n in [1, 2])
    negated = numbers | gp.map(negate)
    assert list(negated) == [-1, -2]
    with pytest.raises(RuntimeError, match=r"one-shot iterator .* pass a re-iterable"):
        second_run(negated)


def test_every_source_sharing_a_one_shot_base_shares_its_one_use() -> None:
    numbers = gp.source(iter([1, 2]))
    assert numbers | gp.map(negate) | gp.to_list() == [-1, -2]
    with pytest.raises(RuntimeError, match="one-shot"):
        list(numbers | gp.map(double))


# Source.open() closes every generator of the chain


def open_tracked_chain() -> tuple[TrackedSource[int], list[str], gp.Source[int]]:
    tracked = TrackedSource(itertools.count())
    closed: list[str] = []
    flow = (
        gp.source(tracked)
        | recording_stage("first", closed)
        | gp.map(double)
        | recording_stage("second", closed)
    )
    return tracked, closed, flow


def test_open_closes_every_generator_newest_first_after_a_break() -> None:
    tracked, closed, flow = open_tracked_chain()
    with flow.open() as it:
        for item in it:
            if item == 4:
                break
    assert closed == ["second", "first"]
    assert tracked.closed == 1


def test_open_closes_every_generator_after_normal_exhaustion() -> None:
    tracked = TrackedSource([1, 2])
    closed: list[str] = []
    with (gp.source(tracked) | recording_stage("only", closed)).open() as it:
        assert list(it) == [1, 2]
    assert closed == ["only"]
    assert tracked.closed == 1


def test_open_closes_every_generator_when_the_block_raises() -> None:
    tracked, closed, flow = open_tracked_chain()
    planned = PlannedError()

    def fail_inside_the_block() -> None:
        with flow.open() as it:
            next(it)
            raise planned

    with pytest.raises(PlannedError) as raised:
        fail_inside_the_block()
    assert raised.value is planned
    assert closed == ["second", "first"]
    assert tracked.closed == 1


# Laziness: nothing runs before the first pull, and only what is needed after


@given(stages=chains)
def test_nothing_is_pulled_or_called_before_the_first_pull(
    stages: list[gp.Stage[int, int]],
) -> None:
    tracked = TrackedSource([1, 2, 3])
    calls: list[int] = []
    flow = gp.source(tracked) | gp.tap(calls.append) | gp.pipeline(*stages)
    iter(flow)
    gp.pipeline(gp.tap(calls.append), *stages)(tracked)
    assert tracked.pulls == 0
    assert calls == []


def test_take_pulls_exactly_as_many_items_as_it_yields() -> None:
    tracked = TrackedSource(itertools.count())
    calls: list[int] = []
    first_three = (
        gp.source(tracked) | gp.tap(calls.append) | gp.map(double) | gp.take(3)
    )
    assert list(first_three) == [0, 2, 4]
    assert tracked.pulls == 3
    assert calls == [0, 1, 2]


def test_take_zero_pulls_nothing_from_upstream() -> None:
    tracked = TrackedSource(itertools.count())
    calls: list[int] = []
    nothing = gp.source(tracked) | gp.map(calls.append) | gp.take(0)
    assert nothing | gp.to_list() == []
    assert tracked.pulls == 0
    assert calls == []


def test_a_sink_closes_the_chain_as_soon_as_it_has_its_result() -> None:
    tracked, closed, flow = open_tracked_chain()
    assert flow | gp.first() == 0
    assert tracked.pulls == 1
    assert closed == ["second", "first"]
    assert tracked.closed == 1


# Errors reach the consumer unchanged, and the chain is closed behind them


def test_an_exception_from_the_source_arrives_as_the_same_object() -> None:
    planned = PlannedError()

    def failing_source() -> Iterator[int]:
        yield 1
        raise planned

    with pytest.raises(PlannedError) as raised:
        failing_source() | gp.map(double) | gp.to_list()
    assert raised.value is planned
    assert failing_source.__code__ in frames_of(raised.value.__traceback__)


def raise_at_three(planned: PlannedError) -> Callable[[int], int]:
    def explode(n: int) -> int:
        if n == 3:
            raise planned
        return n

    return explode


UserFunction = Callable[[int], int]

#: Each way a user function enters a pipeline, as a stage or sink built on it.
USER_FUNCTION_CALLERS: dict[str, Callable[[UserFunction], Any]] = {
    "map": gp.map,
    "map with retry_on": lambda fn: gp.map(fn, retries=1, retry_on=KeyError),
    "filter": gp.filter,
    "flat_map": lambda fn: gp.flat_map(lambda n: [fn(n)]),
    "starmap": lambda fn: gp.map(lambda n: (n,)) | gp.starmap(fn),
    "tap": gp.tap,
    "take_while": gp.take_while,
    "drop_while": lambda fn: gp.drop_while(lambda n: fn(n) < 3),
    "distinct": lambda fn: gp.distinct(key=fn),
    "scan": lambda fn: gp.scan(lambda total, n: total + fn(n)),
    "group_by": gp.group_by,
    "sort": lambda fn: gp.sort(key=fn),
    "to_dict": gp.to_dict,
    "for_each": gp.for_each,
    "reduce": lambda fn: gp.reduce(lambda total, n: total + fn(n)),
}


@pytest.mark.parametrize(
    "build", USER_FUNCTION_CALLERS.values(), ids=USER_FUNCTION_CALLERS
)
def test_an_exception_from_a_user_function_arrives_unchanged_and_closes_the_chain(
    build: Callable[[UserFunction], Any],
) -> None:
    planned = PlannedError()
    explode = raise_at_three(planned)
    step = build(explode)
    tracked = TrackedSource([1, 2, 3, 4])
    closed: list[str] = []
    flow = gp.source(tracked) | recording_stage("upstream", closed)
    with pytest.raises(PlannedError) as raised:
        flow | (step if isinstance(step, gp.Sink) else step | gp.drain())
    assert raised.value is planned
    assert explode.__code__ in frames_of(raised.value.__traceback__)
    assert closed == ["upstream"]
    assert tracked.closed == 1


@pytest.mark.parametrize(
    "build", USER_FUNCTION_CALLERS.values(), ids=USER_FUNCTION_CALLERS
)
def test_a_failed_run_leaves_nothing_behind_for_the_next_run(
    build: Callable[[UserFunction], Any],
) -> None:
    def runner() -> Callable[[list[int]], object]:
        step = build(raise_at_three(PlannedError()))
        return step if isinstance(step, gp.Sink) else step | gp.to_list()

    used, fresh = runner(), runner()
    with pytest.raises(PlannedError):
        used([1, 2, 3])
    with pytest.raises(PlannedError):
        used([1, 2, 3])
    assert used([1, 2, 1]) == fresh([1, 2, 1])


# Comparison kinds, for genpipe.testing


def with_comparison(kind: Any) -> gp.Stage[int, int]:
    return gp.Stage(iter, list, f"{kind}()", comparison=kind)


def test_a_chain_reports_the_loosest_comparison_of_its_parts() -> None:
    exact = gp.map(double)
    assert exact.comparison == "exact"
    regrouped = exact | with_comparison("regrouped") | exact
    assert regrouped.comparison == "regrouped"
    assert (regrouped | with_comparison("multiset")).comparison == "multiset"


# repr reads like the code that built it


@given(stages=chains)
def test_repr_of_a_chain_evaluates_back_to_an_equal_chain(
    stages: list[gp.Stage[int, int]],
) -> None:
    chain = gp.pipeline(*stages)
    rebuilt = eval(repr(chain), dict(NAMESPACE))
    assert repr(rebuilt) == repr(chain)
    assert rebuilt.eager(range(-9, 9)) == chain.eager(range(-9, 9))


def test_repr_of_a_source_pipeline_shows_base_stages_and_options() -> None:
    flow = gp.source([3, 1]) | gp.map(double, on_error="skip") | gp.take(2)
    assert repr(flow) == "source([3, 1]) | map(double, on_error='skip') | take(2)"


def test_repr_of_a_sink_and_of_a_sink_with_stages_in_front() -> None:
    assert repr(gp.to_list()) == "to_list()"
    assert repr(gp.filter(is_even) | gp.first(default=None)) == (
        "filter(is_even) | first(default=None)"
    )


def test_repr_names_local_functions_and_lambdas_as_code_does() -> None:
    def parse(text: str) -> int:
        return int(text)

    assert repr(gp.map(parse) | gp.map(lambda n: n)) == "map(parse) | map(<lambda>)"


def test_repr_shortens_long_bases_and_hides_one_shot_ones() -> None:
    assert repr(gp.source(list(range(100)))) == "source([0, 1, 2, 3, 4, ...])"
    assert repr(gp.source(n for n in [1])) == "source(<generator ...>)"
    assert repr(gp.source(iter("ab"))) == "source(<str_ascii_iterator ...>)"
