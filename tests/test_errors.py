"""Error options of map, filter and flat_map, Skip, DeadLetters, RecordError."""

from __future__ import annotations

import contextlib
import inspect
import operator
import pickle
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing._functions import double, is_even, mod3, neighbours
from tests.doubles import FakeClock
from tests.strategies import int_lists, ints

#: genpipe without its types, to make the calls a type checker would reject.
unchecked: Any = gp


class Flaky:
    """A function that fails its first ``failures`` calls for each item, then works.

    Items in ``broken`` fail on every call. Every call is counted per item;
    the item is the last argument (``scan`` and ``reduce`` pass a total first).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        failures: int = 0,
        broken: frozenset[int] = frozenset(),
    ) -> None:
        self.fn = fn
        self.failures = failures
        self.broken = broken
        self.calls: dict[int, int] = {}
        self.raised: list[Exception] = []
        # How a stage's repr (and so a dead letter) names it.
        self.__qualname__ = f"flaky_{getattr(fn, '__name__', 'fn')}"

    def __call__(self, *args: Any) -> Any:
        item = args[-1]
        self.calls[item] = self.calls.get(item, 0) + 1
        if item in self.broken or self.calls[item] <= self.failures:
            error = ValueError(f"failed on {item}")
            self.raised.append(error)
            raise error
        return self.fn(*args)


#: Runs one stage (or sink) on a list and gives back what it produced.
Run = Callable[[list[int]], list[Any]]


def lazily(stage: gp.Stage[int, Any]) -> Run:
    return lambda items: list(stage(items))


def eagerly(stage: gp.Stage[int, Any]) -> Run:
    return stage.eager


def each_call(fn: Callable[[int], Any], **options: Any) -> Run:
    """`for_each`, whose output is what its function recorded."""

    def run(items: list[int]) -> list[Any]:
        done: list[Any] = []

        def record(n: int) -> None:
            done.append(fn(n))

        items | gp.for_each(record, **options)
        return done

    return run


def folded(fn: Callable[[int, int], int], **options: Any) -> Run:
    """`reduce`, whose output is its one result."""
    return lambda items: [items | gp.reduce(fn, 0, **options)]


#: Every factory that takes error options, as (function it calls, how to run
#: it with those options). Each function is total on ints, so only `Flaky`
#: makes it fail. The completeness test below keeps this table whole.
GUARDED: dict[str, tuple[Callable[..., Any], Callable[..., Run]]] = {
    "map": (double, lambda fn, **o: lazily(gp.map(fn, **o))),
    "filter": (is_even, lambda fn, **o: lazily(gp.filter(fn, **o))),
    "flat_map": (neighbours, lambda fn, **o: lazily(gp.flat_map(fn, **o))),
    "tap": (double, lambda fn, **o: lazily(gp.tap(fn, **o))),
    "scan": (operator.add, lambda fn, **o: lazily(gp.scan(fn, 0, **o))),
    "distinct": (mod3, lambda fn, **o: lazily(gp.distinct(fn, **o))),
    "group_by": (mod3, lambda fn, **o: lazily(gp.group_by(fn, **o))),
    "sort": (mod3, lambda fn, **o: lazily(gp.sort(fn, **o))),
    "for_each": (double, each_call),
    "reduce": (operator.add, folded),
}


def run_of(name: str, fn: Callable[..., Any], **options: Any) -> Run:
    return GUARDED[name][1](fn, **options)


#: The stages among them, to compare their lazy and eager faces.
GUARDED_STAGES: dict[str, Callable[..., gp.Stage[int, Any]]] = {
    "map": gp.map,
    "filter": gp.filter,
    "flat_map": gp.flat_map,
    "tap": gp.tap,
    "scan": lambda fn, **o: gp.scan(fn, 0, **o),
    "distinct": gp.distinct,
    "group_by": gp.group_by,
    "group_by_size": lambda fn, **o: gp.group_by(fn, size=2, **o),
    "sort": gp.sort,
}

guarded_names = st.sampled_from(list(GUARDED))
broken_items = st.frozensets(ints, max_size=5)


def test_every_factory_with_error_options_is_in_the_guarded_table() -> None:
    takes_options = {
        name
        for name in gp.__all__
        if (factory := getattr(gp, name))
        and inspect.isfunction(factory)
        and "options" in inspect.signature(factory).parameters
    }
    assert takes_options == set(GUARDED)


@given(name=guarded_names, broken=broken_items, items=int_lists)
def test_on_error_skip_drops_exactly_the_failing_items(
    name: str, broken: frozenset[int], items: list[int]
) -> None:
    fn = GUARDED[name][0]
    skipping = run_of(name, Flaky(fn, broken=broken), on_error="skip")
    kept = [item for item in items if item not in broken]
    assert skipping(items) == run_of(name, fn)(kept)


@given(
    name=st.sampled_from(list(GUARDED_STAGES)),
    broken=broken_items,
    items=int_lists,
)
def test_a_guarded_stage_computes_lazily_what_it_computes_eagerly(
    name: str, broken: frozenset[int], items: list[int]
) -> None:
    fn = GUARDED[name.removesuffix("_size")][0]
    stage = GUARDED_STAGES[name](Flaky(fn, broken=broken), on_error="skip")
    assert lazily(stage)(items) == eagerly(stage)(items)


@given(name=guarded_names, broken=broken_items, items=int_lists)
def test_on_error_raise_passes_the_last_attempts_exception_through_unchanged(
    name: str, broken: frozenset[int], items: list[int]
) -> None:
    fn = GUARDED[name][0]
    flaky = Flaky(fn, broken=broken)
    retrying = run_of(name, flaky, retries=1)
    if broken.isdisjoint(items):
        assert retrying(items) == run_of(name, fn)(items)
    else:
        with pytest.raises(ValueError, match="failed on") as raised:
            retrying(items)
        assert raised.value is flaky.raised[-1]


@given(
    name=guarded_names,
    failures=st.integers(0, 3),
    retries=st.integers(0, 3),
    items=st.lists(ints, max_size=10, unique=True),
)
def test_retries_call_fn_up_to_retries_plus_one_times_then_apply_on_error(
    name: str, failures: int, retries: int, items: list[int]
) -> None:
    fn = GUARDED[name][0]
    flaky = Flaky(fn, failures=failures)
    recovered = failures <= retries
    result = run_of(name, flaky, retries=retries, on_error="skip")(items)
    assert result == run_of(name, fn)(items if recovered else [])
    assert flaky.calls == {item: min(failures, retries) + 1 for item in items}


@given(name=guarded_names, items=st.lists(ints, min_size=1, max_size=10, unique=True))
def test_each_dead_letter_names_its_stage_item_and_attempts(
    name: str, items: list[int]
) -> None:
    fn = GUARDED[name][0]
    rejected = gp.DeadLetters()
    flaky = Flaky(fn, broken=frozenset(items[:1]))
    run_of(name, flaky, on_error=rejected, retries=2)(items)
    (letter,) = rejected
    assert letter.item == items[0]
    assert letter.exception is flaky.raised[-1]
    assert letter.attempts == 3
    assert letter.stage.startswith(f"{name}(")
    assert letter.note == (f"raised by {letter.stage} for item {items[0]} (3 attempts)")


def test_a_map_handler_gets_exception_and_item_and_returns_the_replacement() -> None:
    flaky = Flaky(double, broken=frozenset({2}))
    handled: list[tuple[Exception, int]] = []

    def replace(exc: Exception, item: int) -> int:
        handled.append((exc, item))
        return -1

    assert [1, 2, 3] | gp.map(flaky, on_error=replace) | gp.to_list() == [2, -1, 6]
    assert handled == [(flaky.raised[0], 2)]


def test_a_filter_handler_result_decides_whether_the_item_is_kept() -> None:
    flaky = Flaky(is_even, broken=frozenset({3, 5}))
    keep_three: Callable[[Exception, int], bool] = lambda exc, item: item == 3
    kept = range(6) | gp.filter(flaky, on_error=keep_three) | gp.to_list()
    assert kept == [0, 2, 3, 4]


def test_a_flat_map_handler_returns_a_replacement_expansion() -> None:
    flaky = Flaky(neighbours, broken=frozenset({5}))
    mark: Callable[[Exception, int], list[int]] = lambda exc, item: [item, item]
    assert [1, 5] | gp.flat_map(flaky, on_error=mark) | gp.to_list() == [0, 1, 2, 5, 5]


def test_a_handler_raising_skip_drops_the_item() -> None:
    def drop(exc: Exception, item: int) -> int:
        raise gp.Skip

    flaky = Flaky(double, broken=frozenset({2}))
    assert [1, 2, 3] | gp.map(flaky, on_error=drop) | gp.to_list() == [2, 6]


def test_an_exception_from_a_handler_passes_through_unchanged() -> None:
    replacement_failure = LookupError("handler failed")

    def fail(exc: Exception, item: int) -> int:
        raise replacement_failure

    flaky = Flaky(double, broken=frozenset({2}))
    with pytest.raises(LookupError) as raised:
        [1, 2, 3] | gp.map(flaky, on_error=fail) | gp.to_list()
    assert raised.value is replacement_failure


@pytest.mark.parametrize(
    ("failures", "sleeps"),
    [(0, []), (1, [0.25]), (3, [0.25, 0.5, 1.0]), (9, [0.25, 0.5, 1.0])],
)
def test_backoff_sleeps_before_each_retry_doubling_each_time(
    failures: int, sleeps: list[float]
) -> None:
    clock = FakeClock()
    flaky = Flaky(double, failures=failures)
    retrying = gp.map(
        flaky, retries=3, backoff=0.25, on_error="skip", sleep=clock.sleep
    )
    assert [1] | retrying | gp.to_list() == ([2] if failures <= 3 else [])
    assert clock.sleeps == sleeps


def test_without_backoff_retries_do_not_sleep() -> None:
    clock = FakeClock()
    retrying = gp.map(Flaky(double, failures=2), retries=2, sleep=clock.sleep)
    assert [1] | retrying | gp.to_list() == [2]
    assert clock.sleeps == []


def test_exceptions_outside_retry_on_are_not_retried() -> None:
    not_found = KeyError("missing")
    calls: list[int] = []

    def lookup(item: int) -> int:
        calls.append(item)
        raise not_found

    retrying = gp.map(lookup, retries=3, retry_on=OSError)
    with pytest.raises(KeyError) as raised:
        [1] | retrying | gp.to_list()
    assert raised.value is not_found
    assert calls == [1]


def test_retry_on_matches_subclasses_of_any_type_in_a_tuple() -> None:
    attempts = iter([FileNotFoundError("first"), TimeoutError("second")])

    def open_twice_failing(item: int) -> int:
        failure = next(attempts, None)
        if failure is not None:
            raise failure
        return item

    retrying = gp.map(open_twice_failing, retries=2, retry_on=(KeyError, OSError))
    assert [7] | retrying | gp.to_list() == [7]


def test_flat_map_with_an_error_option_never_emits_half_an_expansion() -> None:
    def half_then_fail(item: int) -> Iterator[int]:
        yield item
        if item == 2:
            raise ValueError(item)

    skipping = gp.flat_map(half_then_fail, on_error="skip")
    assert [1, 2, 3] | skipping | gp.to_list() == [1, 3]


def test_flat_map_retrying_a_failed_expansion_emits_it_once() -> None:
    attempts: list[int] = []

    def fail_first_time(item: int) -> Iterator[int]:
        attempts.append(item)
        yield item
        if len(attempts) == 1:
            raise ValueError(item)
        yield item * 10

    assert [4] | gp.flat_map(fail_first_time, retries=1) | gp.to_list() == [4, 40]


def test_stop_iteration_from_fn_is_a_failure_once_an_error_option_is_set() -> None:
    def stop_at_two(item: int) -> int:
        if item == 2:
            raise StopIteration
        return item

    assert [1, 2, 3] | gp.map(stop_at_two) | gp.to_list() == [1]
    assert [1, 2, 3] | gp.map(stop_at_two, on_error="skip") | gp.to_list() == [1, 3]


def test_dead_letters_record_each_failure_and_skip_the_item() -> None:
    rejected = gp.DeadLetters()
    flaky = Flaky(double, broken=frozenset({2, 4}))
    assert range(5) | gp.map(flaky, on_error=rejected) | gp.to_list() == [0, 2, 6]
    assert len(rejected) == 2
    letters = list(rejected)
    assert letters == [
        gp.DeadLetter(2, flaky.raised[0], "map(flaky_double)", 1),
        gp.DeadLetter(4, flaky.raised[1], "map(flaky_double)", 1),
    ]
    assert [letter.item for letter in letters] == [2, 4]
    assert letters[0].exception is flaky.raised[0]
    assert repr(rejected) == "DeadLetters(2 failed)"


def test_dead_letters_can_collect_from_several_stages() -> None:
    rejected = gp.DeadLetters()
    doubled = gp.map(Flaky(double, broken=frozenset({1})), on_error=rejected)
    evens = gp.filter(Flaky(is_even, broken=frozenset({4})), on_error=rejected)
    assert range(6) | doubled | evens | gp.to_list() == [0, 6, 8, 10]
    assert [letter.item for letter in rejected] == [1, 4]


def test_iterating_dead_letters_gives_a_snapshot() -> None:
    rejected = gp.DeadLetters()
    with pytest.raises(gp.Skip):
        rejected(ValueError(), 1)
    letters = iter(rejected)
    with pytest.raises(gp.Skip):
        rejected(ValueError(), 2)
    assert [letter.item for letter in letters] == [1]
    assert len(rejected) == 2


def test_dead_letters_lose_nothing_when_many_threads_record_at_once() -> None:
    rejected = gp.DeadLetters()
    start = threading.Barrier(4)

    def record(thread: int) -> None:
        start.wait()
        for n in range(500):
            with contextlib.suppress(gp.Skip):
                rejected(ValueError(), (thread, n))

    threads = [threading.Thread(target=record, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(rejected) == 2000
    assert {letter.item for letter in rejected} == {
        (t, n) for t in range(4) for n in range(500)
    }


def test_skip_is_an_exception_a_handler_raises() -> None:
    assert issubclass(gp.Skip, Exception)


def test_record_error_names_the_file_and_line_and_is_a_value_error() -> None:
    parser_error = KeyError("name")
    try:
        raise gp.RecordError(
            "no field 'name'", path="people.csv", line=3
        ) from parser_error
    except ValueError as caught:
        error = caught
    assert isinstance(error, gp.RecordError)
    assert str(error) == "people.csv:3: no field 'name'"
    assert (error.path, error.line) == ("people.csv", 3)
    assert error.__cause__ is parser_error


def test_record_error_survives_pickling() -> None:
    error = gp.RecordError("bad JSON", path="in.jsonl", line=12)
    copy = pickle.loads(pickle.dumps(error))
    assert isinstance(copy, gp.RecordError)
    assert (str(copy), copy.path, copy.line) == (str(error), "in.jsonl", 12)


def test_repr_shows_the_error_options_that_differ_from_the_defaults() -> None:
    def fallback(exc: Exception, item: int) -> int:
        return 0

    built = gp.map(double, on_error="skip", retries=2, backoff=0.5, retry_on=OSError)
    assert repr(built) == (
        "map(double, on_error='skip', retries=2, backoff=0.5, retry_on=(OSError,))"
    )
    assert (
        repr(gp.filter(is_even, on_error=fallback))
        == "filter(is_even, on_error=fallback)"
    )


BAD_OPTIONS: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "on_error='bogus'": (
        {"on_error": "bogus"},
        ValueError,
        "needs on_error='raise', 'skip' or a handler (exc, item) -> replacement, "
        "got 'bogus'",
    ),
    "on_error=42": ({"on_error": 42}, ValueError, "needs on_error='raise', 'skip'"),
    "retries=-1": ({"retries": -1}, ValueError, "needs retries >= 0, got -1"),
    "retries=True": (
        {"retries": True},
        TypeError,
        "needs an int for retries, got True of type bool",
    ),
    "backoff=-1": ({"backoff": -1}, ValueError, "needs a finite backoff >= 0, got -1"),
    "backoff='1'": ({"backoff": "1"}, TypeError, "needs a number for backoff, got '1'"),
    "retry_on=instance": (
        {"retry_on": ValueError()},
        TypeError,
        "needs retry_on to be an Exception subclass or a tuple of them, "
        "got ValueError()",
    ),
    "retry_on=tuple with int": (
        {"retry_on": (OSError, 3)},
        TypeError,
        "needs retry_on to be an Exception subclass or a tuple of them, got 3",
    ),
    "retry_on=KeyboardInterrupt": (
        {"retry_on": KeyboardInterrupt},
        TypeError,
        "needs retry_on to be an Exception subclass or a tuple of them, "
        "got KeyboardInterrupt",
    ),
    "sleep=1": ({"sleep": 1}, TypeError, "needs a callable for sleep, got 1"),
}


@pytest.mark.parametrize("factory", list(GUARDED))
@pytest.mark.parametrize(
    ("options", "error", "message"), BAD_OPTIONS.values(), ids=BAD_OPTIONS
)
def test_bad_error_options_fail_when_the_stage_is_built(
    factory: str, options: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(f"{factory}() {message}")):
        getattr(unchecked, factory)(GUARDED[factory][0], **options)


@pytest.mark.parametrize("factory", list(GUARDED))
def test_a_misspelt_error_option_fails_when_the_stage_is_built(factory: str) -> None:
    with pytest.raises(
        TypeError,
        match=re.escape(
            f"{factory}() got an unexpected keyword argument 'retry'; its error "
            "options are on_error, retries, backoff, retry_on, sleep"
        ),
    ):
        getattr(unchecked, factory)(GUARDED[factory][0], retry=3)


@pytest.mark.parametrize("factory", ["distinct", "sort"])
def test_error_options_without_a_key_fail_when_the_stage_is_built(
    factory: str,
) -> None:
    with pytest.raises(
        ValueError,
        match=re.escape(f"{factory}() takes error options (on_error) only with a key="),
    ):
        getattr(unchecked, factory)(on_error="skip")


def test_a_tap_whose_handler_returns_passes_the_item_on() -> None:
    flaky = Flaky(double, broken=frozenset({2}))
    tapped = gp.tap(flaky, on_error=lambda exc, item: "ignored")
    assert [1, 2, 3] | tapped | gp.to_list() == [1, 2, 3]


def test_a_scan_handler_value_becomes_the_running_total() -> None:
    flaky = Flaky(operator.add, broken=frozenset({2}))
    running = gp.scan(flaky, 0, on_error=lambda exc, item: 100)
    assert [1, 2, 3] | running | gp.to_list() == [0, 1, 100, 103]
    assert [1, 2, 3] | gp.reduce(flaky, 0, on_error=lambda exc, item: 100) == 103


def test_a_scan_without_initial_never_calls_fn_for_the_first_item() -> None:
    flaky = Flaky(operator.add, broken=frozenset({1}))
    assert [1, 2] | gp.scan(flaky, on_error="skip") | gp.to_list() == [1, 3]


def test_a_reduce_that_skips_everything_without_initial_is_a_type_error() -> None:
    flaky = Flaky(operator.add, broken=frozenset({2, 3}))
    assert [1, 2, 3] | gp.reduce(flaky, on_error="skip") == 1
    with pytest.raises(TypeError, match="reduce\\(\\) of empty iterable"):
        [] | gp.reduce(flaky, on_error="skip")


@pytest.mark.parametrize("factory", ["distinct", "group_by", "sort"])
def test_a_key_handler_value_is_the_items_key(factory: str) -> None:
    flaky = Flaky(mod3, broken=frozenset({4}))
    stage = getattr(unchecked, factory)(flaky, on_error=lambda exc, item: 0)
    expected = {
        "distinct": [3, 1, 2],
        "group_by": [(0, [3, 4]), (1, [1]), (2, [2])],
        "sort": [3, 4, 1, 2],
    }
    assert [3, 4, 1, 2] | stage | gp.to_list() == expected[factory]


def test_a_for_each_that_skips_a_failure_goes_on_with_the_rest() -> None:
    done: list[int] = []
    flaky = Flaky(done.append, broken=frozenset({2}))
    assert [1, 2, 3] | gp.for_each(flaky, on_error="skip") is None
    assert done == [1, 3]
