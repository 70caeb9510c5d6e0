"""assert_lazy_equals_eager: which comparison it uses, and what a failure says."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from hypothesis import given

import genpipe as gp
from genpipe._core import Base, Comparison
from genpipe.testing import assert_lazy_equals_eager
from genpipe.testing._functions import double
from tests.doubles import recording_stage
from tests.strategies import int_lists, int_stages


def failure_of(check: Callable[[], None]) -> str:
    with pytest.raises(AssertionError) as raised:
        check()
    return str(raised.value)


def declared(
    lazy: Callable[[Iterable[Any]], Iterator[Any]],
    label: str,
    comparison: Comparison,
) -> gp.Stage[Any, Any]:
    """A stage whose eager face passes items through, declaring ``comparison``."""
    return gp.Stage(lazy, list, label, comparison=comparison)


def backwards(items: Iterable[int]) -> Iterator[int]:
    return reversed(list(items))


def with_marker(items: Iterable[int]) -> Iterator[int]:
    """Every item, then a 99 that the eager face does not produce."""
    yield from items
    yield 99


marked = gp.stage(with_marker, eager=list)


def leaky() -> gp.Stage[int, int]:
    """Two stages sharing a list: the map sees it growing lazily, full eagerly.

    Both runs append to the same list, so the eager run sees both runs' items.
    """
    seen: list[int] = []

    def seen_so_far(n: int) -> int:
        return len(seen)

    return gp.tap(seen.append) | gp.map(seen_so_far)


@given(int_stages, int_lists)
def test_a_correct_pipeline_passes_silently(
    stage: gp.Stage[int, int], items: list[int]
) -> None:
    assert_lazy_equals_eager(stage | gp.window(2), items)


def test_a_failure_says_how_it_compared_where_it_differs_and_which_stage_did_it() -> (
    None
):
    message = failure_of(lambda: assert_lazy_equals_eager(leaky(), [7, 8, 9]))
    assert message == (
        "lazy and eager results differ\n"
        "  pipeline: tap(list.append) | map(seen_so_far)\n"
        "  input: [7, 8, 9]\n"
        "  comparison: exact, as every stage keeps order and grouping\n"
        "  first difference at index 0: lazy 1, eager 6\n"
        "  shortest differing prefix: lazy [1], eager [6]\n"
        "  first stage to diverge: map(seen_so_far) (stage 2 of 2)\n"
        "    its input: [7, 8, 9]\n"
        "    lazy output: [1, 2, 3]\n"
        "    eager output: [6, 6, 6]"
    )


def test_the_first_stage_to_diverge_is_named_not_the_ones_after_it() -> None:
    pipeline = gp.map(double) | leaky() | gp.map(double)
    message = failure_of(lambda: assert_lazy_equals_eager(pipeline, [1, 2]))
    assert "first stage to diverge: map(seen_so_far) (stage 3 of 4)" in (message)
    assert "its input: [2, 4]" in message


def test_a_lazy_stream_that_ends_early_shows_where_it_ended() -> None:
    message = failure_of(lambda: assert_lazy_equals_eager(marked, [1, 2]))
    assert "first difference at index 2: lazy 99, eager (ended)" in message
    assert "shortest differing prefix: lazy [1, 2, 99], eager [1, 2]" in message


def test_a_long_differing_prefix_keeps_its_end_where_the_difference_is() -> None:
    message = failure_of(lambda: assert_lazy_equals_eager(marked, range(20)))
    assert "lazy [...16 items..., 16, 17, 18, 19, 99]" in message


def first_two(items: Iterable[int]) -> Iterator[int]:
    return iter(list(items)[:2])


def first_three(items: list[int]) -> list[int]:
    return items[:3]


def test_a_stage_that_stops_reading_too_early_is_caught() -> None:
    take_three = gp.stage(first_two, eager=first_three)
    message = failure_of(lambda: assert_lazy_equals_eager(take_three, [1, 2, 3, 4]))
    assert "first difference at index 2: lazy (ended), eager 3" in message


def test_output_that_a_later_stage_never_reads_is_not_blamed() -> None:
    assert_lazy_equals_eager(gp.map(double) | marked | gp.take(2), [1, 2, 3])


def test_an_unordered_stage_is_compared_as_a_multiset() -> None:
    assert_lazy_equals_eager(declared(backwards, "backwards()", "multiset"), [1, 2, 3])


def test_a_multiset_failure_names_the_items_only_one_face_has() -> None:
    def drops_first(items: Iterable[int]) -> Iterator[int]:
        return iter(list(items)[1:])

    stage = declared(drops_first, "drops_first()", "multiset")
    message = failure_of(lambda: assert_lazy_equals_eager(stage, [1, 2]))
    assert "comparison: multiset, because drops_first() yields items in the order" in (
        message
    )
    assert "only in the eager result: [1]" in message


def test_stages_after_an_unordered_one_are_checked_on_what_it_yielded() -> None:
    reorders = declared(backwards, "backwards()", "multiset")
    assert_lazy_equals_eager(reorders | gp.take(2) | gp.window(2), [1, 2, 3])
    message = failure_of(
        lambda: assert_lazy_equals_eager(reorders | gp.map(double) | marked, [1, 2])
    )
    assert "comparison: piece by piece, because backwards() yields" in message
    assert "failing piece: map(double) | with_marker (exact)" in message
    assert "first stage to diverge: with_marker (stage 3 of 3)" in message


@given(int_lists)
def test_an_unordered_thread_map_cut_short_by_take_passes(items: list[int]) -> None:
    pipeline = gp.thread_map(double, workers=2, ordered=False) | gp.take(3)
    assert_lazy_equals_eager(pipeline, items)


def test_an_unordered_stage_read_partly_must_yield_only_items_it_owes() -> None:
    def intruder(items: Iterable[int]) -> Iterator[int]:
        yield 42
        yield from items

    stage = declared(intruder, "intruder()", "multiset") | gp.take(1)
    message = failure_of(lambda: assert_lazy_equals_eager(stage, [1, 2]))
    assert "only in the lazy result: [42]" in message
    assert "lazy output: [42] (read no further)" in message


def singletons(items: Iterable[int]) -> Iterator[list[int]]:
    return ([item] for item in items)


def test_a_regrouping_stage_is_compared_flattened() -> None:
    regroups: gp.Stage[int, list[int]] = gp.Stage(
        singletons, gp.batch(2).eager, "singletons()", comparison="regrouped"
    )
    assert_lazy_equals_eager(regroups, [1, 2, 3])
    loses_last: gp.Stage[int, list[int]] = gp.Stage(
        lambda items: singletons(list(items)[:-1]),
        gp.batch(2).eager,
        "loses_last()",
        comparison="regrouped",
    )
    message = failure_of(lambda: assert_lazy_equals_eager(loses_last, [1, 2, 3]))
    assert "comparison: flattened, because loses_last() groups items by timing" in (
        message
    )
    assert "first difference at flattened index 2: lazy (ended), eager 3" in message


def is_odd(n: int) -> int:
    return n % 2


def parity_singletons(items: Iterable[int]) -> Iterator[tuple[int, list[int]]]:
    """Each item alone under its parity, odd keys first: a timing-cut group_by."""
    held = list(items)
    yield from ((n % 2, [n]) for n in held if n % 2)
    yield from ((n % 2, [n]) for n in held if not n % 2)


def test_keyed_groups_are_compared_key_by_key_in_any_order_across_keys() -> None:
    by_parity = gp.group_by(is_odd, size=10).eager
    regroups = gp.stage(parity_singletons, eager=by_parity, comparison="regrouped")
    assert_lazy_equals_eager(regroups, [2, 1, 4, 3])
    assert_lazy_equals_eager(regroups, [2, 1, 4, 3], ordered=False)

    def swaps_within_a_key(items: Iterable[int]) -> Iterator[tuple[int, list[int]]]:
        return parity_singletons(reversed(list(items)))

    swapped = gp.stage(swaps_within_a_key, eager=by_parity, comparison="regrouped")
    message = failure_of(lambda: assert_lazy_equals_eager(swapped, [2, 1, 4, 3]))
    assert "first difference for key 0 at index 0 of its items: lazy 4, eager 2" in (
        message
    )


def test_ordered_false_accepts_a_reordering_stage_of_your_own() -> None:
    reverse = gp.stage(backwards, eager=list)
    assert "index 0" in failure_of(lambda: assert_lazy_equals_eager(reverse, [1, 2]))
    assert_lazy_equals_eager(reverse, [1, 2], ordered=False)
    message = failure_of(
        lambda: assert_lazy_equals_eager(reverse | marked, [1, 2], ordered=False)
    )
    assert "comparison: multiset, as ordered=False" in message


def test_equal_replaces_equality_for_every_compared_item() -> None:
    def nudged(items: Iterable[float]) -> Iterator[float]:
        return (item + 1e-12 for item in items)

    pipeline = gp.stage(nudged, eager=list) | gp.map(math.sqrt)
    failure_of(lambda: assert_lazy_equals_eager(pipeline, [1.0, 4.0]))
    assert_lazy_equals_eager(pipeline, [1.0, 4.0], equal=math.isclose)


def test_a_source_is_checked_without_items() -> None:
    assert_lazy_equals_eager(gp.source([3, 1, 2]) | gp.sort())
    message = failure_of(lambda: assert_lazy_equals_eager(gp.source([1]) | marked))
    assert "pipeline: source([1]) | with_marker" in message
    assert "\n  input:" not in message


def test_a_one_shot_source_is_read_once_for_both_faces() -> None:
    assert_lazy_equals_eager(gp.source(iter([1, 2])) | gp.map(double))


def test_a_merged_source_is_compared_as_a_multiset_then_piece_by_piece() -> None:
    assert_lazy_equals_eager(gp.merge([1, 2], [3, 4]) | gp.map(double) | gp.take(3))


def test_a_source_whose_lazy_reading_differs_is_blamed() -> None:
    lying = Base(lambda: iter([1, 2, 3]), "lying()", one_shot=False, materialise=list)
    message = failure_of(lambda: assert_lazy_equals_eager(gp.Source(lying)))
    assert "first stage to diverge: the source lying()" in message


#: The wrong calls below do not type-check; they stand for untyped callers.
check_untyped: Any = assert_lazy_equals_eager


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        ((gp.map(double),), "needs the input items"),
        ((gp.source([1]), [1]), "takes no items"),
        ((gp.map(double) | gp.to_list(), [1]), "without its sink"),
        (([1, 2],), "checks a Stage"),
    ],
)
def test_a_wrong_argument_says_what_to_pass(
    arguments: tuple[object, ...], complaint: str
) -> None:
    with pytest.raises(TypeError, match=complaint):
        check_untyped(*arguments)


class PlannedError(Exception):
    pass


def fails(n: int) -> int:
    raise PlannedError(n)


def test_an_exception_in_the_lazy_run_propagates_and_closes_every_stage() -> None:
    closed: list[str] = []
    upstream: gp.Stage[int, int] = recording_stage("upstream", closed)
    pipeline = upstream | gp.buffer(2) | gp.map(fails)
    with pytest.raises(PlannedError) as raised:
        assert_lazy_equals_eager(pipeline, [1, 2, 3])
    assert closed == ["upstream"]
    assert f"raised while running the lazy face of {pipeline!r}" in (
        raised.value.__notes__
    )


def fails_on_lists(items: list[int]) -> list[int]:
    raise PlannedError(items)


def test_an_exception_in_the_eager_run_says_it_came_from_there() -> None:
    pipeline = gp.stage(with_marker, eager=fails_on_lists)
    with pytest.raises(PlannedError) as raised:
        assert_lazy_equals_eager(pipeline, [1])
    assert raised.value.__notes__[-1].startswith(
        "raised while comparing with the eager face of with_marker"
    )
