"""What every factory of the catalog promises before any item flows.

A stage prints as the code that built it, and a call with a bad argument
fails there and then, with a message that says what to pass. Each case is
written as the code a user would type and evaluated, so a test's id is the
call it checks. The last tests walk ``genpipe.__all__`` so that a new
factory cannot be left out of these tables, of the hypothesis strategies, or
of the lifecycle matrix of concurrent stages.
"""

from __future__ import annotations

import inspect
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, find, settings

import genpipe as gp
from genpipe.testing._catalog import ELEMENT, Catalog, Move, Shape
from genpipe.testing._functions import INTS
from genpipe.testing.strategies import pipelines
from tests.strategies import NAMESPACE, ints
from tests.threads_support import CONCURRENT_STAGES


def built(code: str) -> Any:
    """What ``code`` builds, with genpipe's names and the named test functions."""
    return eval(code, dict(NAMESPACE))


REPRS = [
    "stage_of(int)",
    "source([1, 2])",
    "chain(source([1]), count())",
    "count()",
    "count(10)",
    "count(0, step=5)",
    "repeat('x')",
    "repeat('x', 3)",
    "generate(int)",
    "map(double)",
    "starmap(pow)",
    "flat_map(neighbours)",
    "flatten()",
    "tap(print)",
    "tap(print, on_error='skip')",
    "progress('rows', total=10)",
    "enumerate()",
    "enumerate(1)",
    "scan(max)",
    "scan(max, 0)",
    "scan(max, 0, retries=2, backoff=0.5)",
    "sort()",
    "sort(key=mod3, reverse=True)",
    "sort(key=mod3, on_error='skip')",
    "filter(is_even)",
    "take(3)",
    "skip(0)",
    "take_while(callable)",
    "drop_while(is_even)",
    "distinct()",
    "distinct(key=abs)",
    "distinct(key=abs, retry_on=(KeyError,))",
    "batch(3)",
    "window(3)",
    "window(2, step=5)",
    "pairwise()",
    "group_by(mod3)",
    "group_by(mod3, size=3)",
    "group_by(mod3, on_error='skip')",
    "throttle(2)",
    "throttle(5, per=60, burst=3)",
    "throttle(5, per=datetime.timedelta(seconds=60))",
    "interval(1.5)",
    "thread_map(double)",
    "async_map(awaited)",
    "thread_filter(is_even)",
    "thread_filter(is_even, workers=2, ordered=False, on_error='skip')",
    "thread_flat_map(neighbours)",
    "thread_flat_map(neighbours, workers=8, maxsize=4)",
    "thread_map(double, on_start=object, on_done=id)",
    "for_each(double, workers=2)",
    "process_map(double)",
    "process_map(double, workers=2, chunksize=8, on_error='skip')",
    "async_map(awaited, concurrency=4, ordered=False)",
    "thread_map(double, workers=8)",
    "map(str) | thread_map(double, ordered=False)",
    "thread_map(double, maxsize=10, on_error='skip', retries=2)",
    "buffer()",
    "buffer(maxsize=8)",
    "batch(100, max_wait=0.5)",
    "group_by(mod3, max_wait=5)",
    "group_by(mod3, size=100, max_wait=0.5)",
    "merge(source([1]), count())",
    "merge(source([1]), maxsize=8) | map(str)",
    "to_list()",
    "to_set()",
    "to_dict(mod3)",
    "to_dict(mod3, negate)",
    "reduce(max)",
    "reduce(max, 0)",
    "reduce(max, on_error='skip')",
    "for_each(print)",
    "for_each(print, retries=3)",
    "first()",
    "first(default=None)",
    "last()",
    "last(default=0)",
    "drain()",
    "read_lines('a.txt', encoding='latin-1')",
    "read_jsonl('a.jsonl') | take(1)",
    "read_csv('a.csv', on_error='skip', delimiter=';')",
    "map(str) | write_jsonl('a.jsonl')",
    "write_lines('out.txt')",
    "write_csv('a.csv', ['x'], encoding='latin-1', delimiter=';')",
]


@pytest.mark.parametrize("code", REPRS)
def test_repr_reads_like_the_code_that_built_the_stage(code: str) -> None:
    assert repr(built(code)) == code


#: Factories whose result prints as what they wrap, not as their own call.
REPRS_OF_WHAT_IS_WRAPPED = {
    "stage(double)": "double",
    "stage(double, name='twice()')": "twice()",
    "pipeline(map(double), take(2))": "map(double) | take(2)",
    "executor_map(double, pool, ordered=False)": (
        "executor_map(double, executor=ThreadPoolExecutor(max_workers=2), "
        "ordered=False)"
    ),
}


@pytest.mark.parametrize("code", REPRS_OF_WHAT_IS_WRAPPED)
def test_a_wrapping_factory_prints_as_what_it_wraps(code: str) -> None:
    assert repr(built(code)) == REPRS_OF_WHAT_IS_WRAPPED[code]


BAD_CALLS: dict[str, tuple[type[Exception], str]] = {
    "stage_of(3)": (TypeError, "needs the type of the items, such as int"),
    "source(3)": (TypeError, "needs an iterable (a list, a generator, ...), got 3"),
    "stage(1)": (TypeError, "needs a callable for fn, got 1"),
    "stage(double, comparison='set')": (
        ValueError,
        "needs comparison='exact', 'multiset' or 'regrouped', got 'set'",
    ),
    "pipeline()": (ValueError, "needs at least one stage"),
    "pipeline(abs)": (TypeError, "takes stages and a sink, got abs"),
    "chain([1], 3)": (
        TypeError,
        "needs iterables (lists, sources, generators, ...), got 3",
    ),
    "progress(total=-1)": (ValueError, "needs total >= 0, got -1"),
    "count(1.5)": (TypeError, "needs an int for start, got 1.5 of type float"),
    "count(step=True)": (TypeError, "needs an int for step, got True of type bool"),
    "repeat(1, -1)": (ValueError, "needs times >= 0, got -1"),
    "repeat(1, 2.0)": (TypeError, "needs an int for times, got 2.0 of type float"),
    "generate(3)": (TypeError, "needs a callable for fn, got 3"),
    "map(42)": (TypeError, "needs a callable for fn, got 42"),
    "starmap(None)": (TypeError, "needs a callable for fn, got None"),
    "flat_map('ab')": (TypeError, "needs a callable for fn, got 'ab'"),
    "tap(1)": (TypeError, "needs a callable for fn, got 1"),
    "tap(print, retries=-1)": (ValueError, "needs retries >= 0, got -1"),
    "tap(print, retry=1)": (TypeError, "got an unexpected keyword argument 'retry'"),
    "enumerate(True)": (TypeError, "needs an int for start, got True of type bool"),
    "enumerate('1')": (TypeError, "needs an int for start, got '1' of type str"),
    "scan(0)": (TypeError, "needs a callable for fn, got 0"),
    "scan(max, 0, on_error=1)": (ValueError, "needs on_error='raise', 'skip'"),
    "sort(key=1)": (TypeError, "needs a callable for key, got 1"),
    "sort(on_error='skip')": (
        ValueError,
        "takes error options (on_error) only with a key=",
    ),
    "sort(reverse=1)": (
        TypeError,
        "needs True or False for reverse, got 1 of type int",
    ),
    "filter(None)": (TypeError, "needs a callable for predicate, got None"),
    "take(-1)": (ValueError, "needs n >= 0, got -1"),
    "take(True)": (TypeError, "needs an int for n, got True of type bool"),
    "take(2.0)": (TypeError, "needs an int for n, got 2.0 of type float"),
    "skip(-3)": (ValueError, "needs n >= 0, got -3"),
    "skip(None)": (TypeError, "needs an int for n, got None"),
    "take_while(1)": (TypeError, "needs a callable for predicate, got 1"),
    "drop_while('x')": (TypeError, "needs a callable for predicate, got 'x'"),
    "distinct(key=1)": (TypeError, "needs a callable for key, got 1"),
    "distinct(retries=2)": (
        ValueError,
        "takes error options (retries) only with a key=",
    ),
    "batch(0)": (ValueError, "needs size >= 1, got 0"),
    "batch(True)": (TypeError, "needs an int for size, got True of type bool"),
    "window(0)": (ValueError, "needs size >= 1, got 0"),
    "window(3, step=0)": (ValueError, "needs step >= 1, got 0"),
    "window(2.5)": (TypeError, "needs an int for size, got 2.5 of type float"),
    "group_by(None)": (TypeError, "needs a callable for key, got None"),
    "group_by(mod3, size=0)": (ValueError, "needs size >= 1, got 0"),
    "group_by(mod3, size=2.5)": (
        TypeError,
        "needs an int for size, got 2.5 of type float",
    ),
    "group_by(mod3, max_wait=0)": (
        ValueError,
        "needs a finite max_wait > 0, got 0",
    ),
    "group_by(mod3, max_wait=1, clock=None)": (
        TypeError,
        "needs a callable for clock, got None",
    ),
    "group_by(mod3, max_wait=1, sleep=None)": (
        TypeError,
        "needs a callable for sleep, got None",
    ),
    "throttle(rate=0)": (ValueError, "needs a finite rate > 0, got 0"),
    "throttle(-1)": (ValueError, "needs a finite rate > 0, got -1"),
    "throttle(float('inf'))": (ValueError, "needs a finite rate > 0, got inf"),
    "throttle('2')": (TypeError, "needs a number for rate, got '2' of type str"),
    "throttle(True)": (TypeError, "needs a number for rate, got True of type bool"),
    "throttle(1, per=0)": (ValueError, "needs a finite per > 0, got 0"),
    "throttle(1, per=datetime.timedelta(0))": (
        ValueError,
        "needs a per > 0, got datetime.timedelta(0)",
    ),
    "throttle(1, burst=0)": (ValueError, "needs burst >= 1, got 0"),
    "throttle(1, burst=1.5)": (
        TypeError,
        "needs an int for burst, got 1.5 of type float",
    ),
    "throttle(1, clock=0)": (TypeError, "needs a callable for clock, got 0"),
    "throttle(1, sleep=None)": (TypeError, "needs a callable for sleep, got None"),
    "interval(0)": (ValueError, "needs a finite seconds > 0, got 0"),
    "interval(float('nan'))": (ValueError, "needs a finite seconds > 0, got nan"),
    "interval('1')": (TypeError, "needs a number for seconds, got '1' of type str"),
    "interval(1, clock=1)": (TypeError, "needs a callable for clock, got 1"),
    "thread_map(42)": (TypeError, "needs a callable for fn, got 42"),
    "async_map(abs)": (TypeError, "needs an async def function, got abs"),
    "thread_filter(1)": (TypeError, "needs a callable for fn, got 1"),
    "thread_filter(abs, workers=0)": (ValueError, "needs workers >= 1, got 0"),
    "thread_flat_map(abs, maxsize=0)": (ValueError, "needs maxsize >= 1, got 0"),
    "thread_flat_map(abs, on_error='ignore')": (
        ValueError,
        "needs on_error='raise', 'skip' or a handler",
    ),
    "thread_map(abs, on_start=3)": (TypeError, "needs a callable for on_start, got 3"),
    "thread_map(abs, on_done=id)": (ValueError, "takes on_done= only with on_start="),
    "for_each(abs, workers=0)": (ValueError, "needs workers >= 1, got 0"),
    "process_map(lambda n: n)": (TypeError, "sends fn to worker processes, so it"),
    "process_map(double, workers=0)": (ValueError, "needs workers >= 1, got 0"),
    "process_map(double, chunksize=0)": (ValueError, "needs chunksize >= 1, got 0"),
    "executor_map(double, 3)": (
        TypeError,
        "needs executor to be a concurrent.futures.Executor",
    ),
    "async_map(awaited, concurrency=0)": (
        ValueError,
        "needs concurrency >= 1, got 0",
    ),
    "thread_map(abs, workers=0)": (ValueError, "needs workers >= 1, got 0"),
    "thread_map(abs, 2.5)": (
        TypeError,
        "needs an int for workers, got 2.5 of type float",
    ),
    "thread_map(abs, maxsize=0)": (ValueError, "needs maxsize >= 1, got 0"),
    "thread_map(abs, on_error='ignore')": (
        ValueError,
        "needs on_error='raise', 'skip'",
    ),
    "thread_map(abs, retries=-1)": (ValueError, "needs retries >= 0, got -1"),
    "buffer(maxsize=0)": (ValueError, "needs maxsize >= 1, got 0"),
    "buffer(maxsize=-1)": (ValueError, "needs maxsize >= 1, got -1"),
    "merge()": (ValueError, "needs at least one source"),
    "merge([1], maxsize=0)": (ValueError, "needs maxsize >= 1, got 0"),
    "batch(3, max_wait=0)": (ValueError, "needs a finite max_wait > 0, got 0"),
    "batch(3, max_wait=-1.0)": (ValueError, "needs a finite max_wait > 0, got -1.0"),
    "batch(3, max_wait='1')": (
        TypeError,
        "needs a number for max_wait, got '1' of type str",
    ),
    "batch(3, max_wait=1, clock=None)": (
        TypeError,
        "needs a callable for clock, got None",
    ),
    "to_dict(1)": (TypeError, "needs a callable for key, got 1"),
    "to_dict(len, 'v')": (TypeError, "needs a callable for value, got 'v'"),
    "reduce(0)": (TypeError, "needs a callable for fn, got 0"),
    "reduce(max, backoff=-1)": (ValueError, "needs a finite backoff >= 0, got -1"),
    "for_each(None)": (TypeError, "needs a callable for fn, got None"),
    "for_each(print, retry_on=3)": (
        TypeError,
        "needs retry_on to be an Exception subclass or a tuple of them, got 3",
    ),
    "read_lines(3)": (TypeError, "needs a file path as a str or pathlib.Path, got 3"),
    "write_lines(None)": (
        TypeError,
        "needs a file path as a str or pathlib.Path, got None",
    ),
    "write_jsonl('')": (ValueError, "needs a file path, got an empty string"),
    "read_jsonl('a', on_error='ignore')": (
        ValueError,
        "needs on_error='raise', 'skip'",
    ),
    "read_jsonl('a', on_error=3)": (ValueError, "needs on_error='raise', 'skip'"),
    "read_csv('a', on_error='ignore')": (ValueError, "needs on_error='raise', 'skip'"),
    "read_csv('a', on_error=3)": (ValueError, "needs on_error='raise', 'skip'"),
    "write_csv('a', 'ab')": (TypeError, "needs fieldnames as a non-empty list of str"),
    "write_csv('a', [])": (TypeError, "needs fieldnames as a non-empty list of str"),
    "write_csv('a', [1, 2])": (
        TypeError,
        "needs fieldnames as a non-empty list of str",
    ),
    "write_csv('a', 7)": (TypeError, "needs fieldnames as a non-empty list of str"),
    "write_csv('a', ['a', 'a'])": (
        ValueError,
        "got a column twice in fieldnames ['a', 'a']",
    ),
}


@pytest.mark.parametrize("code", BAD_CALLS)
def test_bad_arguments_fail_when_the_stage_is_built(code: str) -> None:
    error, message = BAD_CALLS[code]
    factory = code.partition("(")[0]
    with pytest.raises(error, match=re.escape(f"{factory}() {message}")):
        built(code)


# File sources and sinks check their path and options alike


def each_factory(*factories: Callable[..., object]) -> pytest.MarkDecorator:
    return pytest.mark.parametrize(
        "factory", factories, ids=lambda factory: factory.__name__
    )


every_file_stage = each_factory(
    gp.read_lines,
    gp.read_jsonl,
    gp.read_csv,
    gp.write_lines,
    gp.write_jsonl,
    gp.write_csv,
)


@every_file_stage
@pytest.mark.parametrize("path", [None, 3, b"out.txt"])
def test_a_file_stage_rejects_a_path_that_is_not_a_str_or_pathlike(
    factory: Callable[[Any], object], path: object
) -> None:
    with pytest.raises(TypeError, match=r"needs a file path as a str or pathlib.Path"):
        factory(path)


@every_file_stage
def test_a_file_stage_rejects_an_empty_path(
    factory: Callable[[Any], object],
) -> None:
    with pytest.raises(ValueError, match=r"needs a file path, got an empty string"):
        factory("")


@every_file_stage
def test_a_file_stage_prints_a_path_as_the_string_it_holds(
    factory: Callable[[Any], object],
) -> None:
    assert repr(factory(Path("a.txt"))) == f"{factory.__name__}('a.txt')"


@each_factory(gp.read_lines, gp.read_csv, gp.write_lines, gp.write_csv)
def test_a_file_stage_rejects_an_unknown_encoding_when_built(
    factory: Callable[..., object],
) -> None:
    with pytest.raises(ValueError, match=r"unknown encoding 'utf-99'"):
        factory("data.txt", encoding="utf-99")
    with pytest.raises(TypeError, match=r"needs encoding as a str"):
        factory("data.txt", encoding=8)


@each_factory(gp.read_csv, gp.write_csv)
@pytest.mark.parametrize(
    "options",
    [{"delimiter": ";;"}, {"delimiter": ""}, {"colour": "red"}, {"quotechar": "''"}],
)
def test_a_csv_stage_rejects_options_the_csv_module_rejects(
    factory: Callable[..., object], options: dict[str, Any]
) -> None:
    with pytest.raises(TypeError, match=r"csv options .* that the csv module rejects"):
        factory("data.csv", **options)


# Nothing in the catalog is left out of the tables, the strategies or the
# lifecycle matrix.


def catalog_factories() -> dict[str, str]:
    """Every public factory, by name, with the kind of what it builds."""
    factories = {}
    for name in gp.__all__:
        factory = getattr(gp, name)
        if inspect.isfunction(factory):
            returned = str(inspect.signature(factory).return_annotation)
            factories[name] = returned.partition("[")[0]
    return factories


def factories_in(codes: Iterable[str]) -> set[str]:
    """The factory each code calls first, and each stage chained after it."""
    return {part.partition("(")[0] for code in codes for part in code.split(" | ")}


def test_the_catalog_is_every_public_function_and_each_builds_a_pipeline_part() -> None:
    kinds = catalog_factories()
    assert set(kinds.values()) == {"Stage", "Source", "Sink"}
    assert {"map", "chain", "group_by", "to_list", "read_csv"} <= set(kinds)


@pytest.mark.parametrize("name", sorted(catalog_factories()))
def test_every_factory_has_a_repr_row(name: str) -> None:
    assert name in factories_in([*REPRS, *REPRS_OF_WHAT_IS_WRAPPED]), (
        f"add a line that builds {name}(...) to REPRS in {__name__}"
    )


#: Factories with parameters that accept any value, and why.
NO_BAD_ARGUMENT = {
    "first": "default may be any value, None included",
    "last": "default may be any value, None included",
}


@pytest.mark.parametrize("name", sorted(catalog_factories()))
def test_every_factory_with_parameters_has_a_bad_call_row(name: str) -> None:
    if not inspect.signature(getattr(gp, name)).parameters or name in NO_BAD_ARGUMENT:
        return
    assert name in factories_in(BAD_CALLS), (
        f"add a call of {name}(...) with a bad argument to BAD_CALLS in {__name__}"
    )


#: Stage factories genpipe.testing.strategies does not draw, and why.
NOT_DRAWN = {
    "stage": "it wraps the user's own function: pass those as extra_stages",
    "pipeline": "it chains stages that are drawn themselves",
    "stage_of": "an identity for the type checker: it computes nothing to test",
    "async_map": "its own lazy == eager property is in tests/test_asyncio.py",
    # Drawing more moves changes which counterexample the shrinker settles on
    # in tests/test_testing_strategies.py; the engine and backend are
    # thread_map's, which is drawn.
    "thread_filter": "its lazy == eager property is in tests/test_thread_stages.py",
    "thread_flat_map": "its lazy == eager property is in tests/test_thread_stages.py",
    "process_map": "its own lazy == eager property is in tests/test_processes.py",
    "executor_map": "it needs an executor: tests/test_processes.py covers it",
    "progress": "it needs the optional tqdm and draws on a terminal",
}

searching = settings(database=None, derandomize=True, phases=[Phase.generate])


@pytest.mark.parametrize(
    "name",
    sorted(
        name
        for name, kind in catalog_factories().items()
        if kind == "Stage" and name not in NOT_DRAWN
    ),
)
def test_every_stage_factory_is_drawn_by_the_strategies(name: str) -> None:
    def draws_it(pipeline: gp.Stage[int, Any]) -> bool:
        return name in factories_in([repr(pipeline)])

    find(
        pipelines(max_stages=2),
        draws_it,
        settings=settings(searching, max_examples=3000),
    )


#: An input of each shape of item the strategies draw stages for.
SHAPED_INPUTS: dict[Shape, list[Any]] = {
    ELEMENT: [1, 2],
    ("row",): [[1, 2], [3]],
    ("keyed", "row"): [(1, [1, 2]), (0, [3])],
}


def catalog_moves() -> list[tuple[Move, list[Any]]]:
    catalog = Catalog(INTS, ints, ())
    return [
        (move, items)
        for shape, items in SHAPED_INPUTS.items()
        for move in catalog.moves_from(shape)
    ]


def starts_threads(
    stage: gp.Stage[Any, Any], items: list[Any], monkeypatch: pytest.MonkeyPatch
) -> bool:
    started: list[threading.Thread] = []
    start = threading.Thread.start

    def recorded(thread: threading.Thread) -> None:
        started.append(thread)
        start(thread)

    with monkeypatch.context() as patched:
        patched.setattr(threading.Thread, "start", recorded)
        list(stage(items))
    return bool(started)


def test_every_concurrent_stage_the_strategies_draw_is_in_the_lifecycle_matrix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_matrix = factories_in(repr(factory()) for _, factory in CONCURRENT_STAGES)
    for move, items in catalog_moves():
        simplest = find(move.stage, lambda stage: True, settings=searching)
        if starts_threads(simplest, items, monkeypatch):
            (name,) = factories_in([repr(simplest)])
            assert name in in_matrix, (
                f"{simplest!r} runs threads: add it to CONCURRENT_STAGES in "
                "tests/threads_support.py"
            )
