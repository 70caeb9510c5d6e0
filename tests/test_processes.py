"""process_map and executor_map: pickling, error fidelity, killed workers, cleanup."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genpipe as gp
from tests.process_functions import (
    CodedError,
    fail_at_seven,
    fail_once_per_process,
    never_returns_after_one,
    pid_of,
    pid_unless_three,
    square,
    value_error_at_three,
)
from tests.threads_support import (
    PROMPTLY,
    shared_process_pool,
    shared_thread_pool,
    stray_children,
)


@pytest.fixture(autouse=True)
def no_child_left() -> Iterator[None]:
    yield
    deadline = time.monotonic() + 2.0
    while stray_children() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stray_children() == []


class Holder:
    def __init__(self) -> None:
        self.lock = threading.Lock()  # does not pickle, so neither does a method

    def method(self, n: int) -> int:
        return n


@pytest.mark.parametrize(
    ("fn", "name"),
    [(lambda n: n, "<lambda>"), (Holder().method, "method")],
    ids=["lambda", "bound_method"],
)
def test_unpicklable_fn_fails_when_the_stage_is_built(fn: object, name: str) -> None:
    with pytest.raises(TypeError, match="module level") as caught:
        gp.process_map(fn)  # type: ignore[arg-type]
    assert name in str(caught.value)


def test_a_closure_is_refused_by_executor_map_over_a_process_pool() -> None:
    offset = 1

    def shifted(n: int) -> int:
        return n + offset

    with pytest.raises(TypeError, match="shifted"):
        gp.executor_map(shifted, shared_process_pool())


def test_executor_map_over_threads_takes_a_closure() -> None:
    offset = 1

    def shifted(n: int) -> int:
        return n + offset

    with ThreadPoolExecutor(2) as pool:
        out = range(5) | gp.executor_map(shifted, pool) | gp.to_list()
    assert out == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(0, ValueError), (-1.0, ValueError), (float("nan"), ValueError), ("1", TypeError)],
)
def test_a_bad_timeout_fails_when_built(
    timeout: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match="timeout"):
        gp.process_map(square, timeout=timeout)  # type: ignore[arg-type]
    with pytest.raises(error, match="timeout"):
        gp.executor_map(square, shared_thread_pool(), timeout=timeout)  # type: ignore[arg-type]


def test_a_timeout_takes_no_chunksize() -> None:
    with pytest.raises(ValueError, match="one item per task"):
        gp.process_map(square, timeout=1, chunksize=10)


def test_a_late_call_fails_its_item_with_timeout_error_after_the_earlier_ones() -> None:
    received: list[int] = []
    started = time.monotonic()
    with pytest.raises(TimeoutError, match=r"longer than 0\.2 s") as caught:
        for pid in range(10) | gp.process_map(pid_unless_three, workers=2, timeout=0.2):
            received.append(pid)
    assert len(received) == 3
    assert any("for item 3" in note for note in caught.value.__notes__)
    assert time.monotonic() - started < 5.0


def test_a_late_item_goes_to_on_error_and_a_new_worker_takes_the_rest() -> None:
    rejected = gp.DeadLetters()
    stage = gp.process_map(pid_unless_three, workers=1, timeout=0.2, on_error=rejected)
    pids = list(range(8) | stage)
    assert [letter.item for letter in rejected] == [3]
    assert isinstance(next(iter(rejected)).exception, TimeoutError)
    before, after = set(pids[:3]), set(pids[3:])
    assert len(pids) == 7
    assert len(before) == len(after) == 1
    assert before != after


def test_a_timeout_counts_from_the_start_of_the_call_not_the_pools() -> None:
    # Workers start far slower under spawn than 0.2 s allows a call.
    context = multiprocessing.get_context("spawn")
    flow = range(4) | gp.process_map(square, workers=2, timeout=0.2, mp_context=context)
    assert list(flow) == [0, 1, 4, 9]


def test_over_threads_a_late_call_is_abandoned_and_finishes_on_its_own() -> None:
    release = threading.Event()
    finished: list[int] = []

    def wait_at_three(n: int) -> int:
        if n == 3:
            release.wait(PROMPTLY)
            finished.append(n)
        return n

    with ThreadPoolExecutor(2) as pool:
        stage = gp.executor_map(wait_at_three, pool, timeout=0.05, on_error="skip")
        assert list(range(8) | stage) == [0, 1, 2, 4, 5, 6, 7]
        assert finished == []
        release.set()
    assert finished == [3]


def test_bad_arguments_fail_when_built() -> None:
    with pytest.raises(ValueError, match="workers"):
        gp.process_map(square, workers=0)
    with pytest.raises(ValueError, match="chunksize"):
        gp.process_map(square, chunksize=0)
    with pytest.raises(ValueError, match="mp_context"):
        gp.process_map(square, mp_context="teleport")
    with pytest.raises(TypeError, match="Executor"):
        gp.executor_map(square, object())  # type: ignore[arg-type]


def test_custom_init_exception_keeps_type_message_note_and_remote_traceback() -> None:
    received: list[int] = []
    with pytest.raises(CodedError) as caught:
        for out in range(20) | gp.process_map(fail_at_seven, workers=2):
            received.append(out)
    assert received == [n * 10 for n in range(7)]
    error = caught.value
    assert str(error) == "error 7: seven is refused"
    assert error.code == 7
    assert any("for item 7" in note for note in error.__notes__)
    assert "fail_at_seven" in str(error.__cause__)
    assert "Traceback" in str(error.__cause__)


def test_a_plain_exception_arrives_with_its_message() -> None:
    with pytest.raises(ValueError, match="bad 3"):
        list(range(10) | gp.process_map(value_error_at_three, workers=1))


def test_dead_letters_collect_in_the_parent_and_the_run_goes_on() -> None:
    rejected = gp.DeadLetters()
    out = range(10) | gp.process_map(fail_at_seven, workers=2, on_error=rejected)
    assert list(out) == [n * 10 for n in range(10) if n != 7]
    assert [letter.item for letter in rejected] == [7]
    assert isinstance(next(iter(rejected)).exception, CodedError)


def test_retries_run_in_the_worker(tmp_path: Path) -> None:
    paths = [str(tmp_path / f"item{n}") for n in range(4)]
    flow = paths | gp.process_map(fail_once_per_process, workers=2, retries=1)
    assert list(flow) == paths


def test_break_while_a_call_never_returns_ends_the_run_and_its_processes() -> None:
    started = time.monotonic()
    for out in range(10) | gp.process_map(never_returns_after_one, workers=2):
        assert out == 0
        break
    assert time.monotonic() - started < 5.0


def test_calls_run_in_worker_processes() -> None:
    pids = set(range(20) | gp.process_map(pid_of, workers=2, chunksize=1))
    assert multiprocessing.current_process().pid not in pids


def test_spawn_context_works() -> None:
    context = multiprocessing.get_context("spawn")
    flow = range(6) | gp.process_map(square, workers=1, mp_context=context)
    assert list(flow) == [0, 1, 4, 9, 16, 25]


@pytest.mark.skipif(
    "forkserver" not in multiprocessing.get_all_start_methods(),
    reason="no fork server on this platform",
)
def test_the_fork_server_imports_genpipe_once_for_every_worker() -> None:
    from multiprocessing import forkserver

    assert list(range(3) | gp.process_map(square, workers=1)) == [0, 1, 4]
    preloaded = forkserver._forkserver._preload_modules  # type: ignore[attr-defined]
    # Added to what was there (the main module by default), not instead of it.
    assert preloaded[-1] == "genpipe"
    assert "__main__" in preloaded


def test_eager_face_runs_in_this_process() -> None:
    stage = gp.process_map(pid_of, workers=2)
    assert stage.eager([1, 2]) == [multiprocessing.current_process().pid] * 2


def test_repr_names_the_options() -> None:
    assert repr(gp.process_map(square, workers=2, chunksize=8)) == (
        "process_map(square, workers=2, chunksize=8)"
    )
    assert repr(gp.process_map(square, timeout=1.5)) == (
        "process_map(square, timeout=1.5)"
    )


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(-1000, 1000), max_size=60), st.booleans())
def test_lazy_equals_eager_on_a_shared_pool(items: list[int], ordered: bool) -> None:
    stage = gp.executor_map(square, shared_process_pool(), ordered=ordered)
    lazy = list(stage(items))
    expected = stage.eager(items)
    assert lazy == expected if ordered else sorted(lazy) == sorted(expected)
