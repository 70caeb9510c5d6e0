"""thread_filter, thread_flat_map, for_each(workers=) and per-worker resources."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import CancelledError

import pytest
from hypothesis import given

import genpipe as gp
from tests.conftest import genpipe_threads
from tests.strategies import int_lists
from tests.threads_support import PROMPTLY, endless, same, wait_until


def odd(n: int) -> bool:
    return n % 2 == 1


def twice(n: int) -> list[int]:
    return [n, n]


def fails_on_3(n: int) -> int:
    if n == 3:
        raise ValueError(n)
    return n


# -- thread_filter and thread_flat_map ------------------------------------


@given(int_lists)
def test_thread_filter_keeps_what_filter_keeps_in_order(items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.thread_filter(odd, workers=3)
    assert list(stage(items)) == stage.eager(items) == [n for n in items if odd(n)]


@given(int_lists)
def test_unordered_thread_filter_keeps_the_same_items(items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.thread_filter(odd, ordered=False)
    assert Counter(stage(items)) == Counter(n for n in items if odd(n))


def test_thread_filter_skips_an_item_whose_predicate_failed() -> None:
    stage: gp.Stage[int, int] = gp.thread_filter(fails_on_3, on_error="skip")
    assert list(stage(range(6))) == [1, 2, 4, 5]


@given(int_lists)
def test_thread_flat_map_yields_what_flat_map_yields(items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.thread_flat_map(twice, workers=3)
    assert list(stage(items)) == stage.eager(items) == gp.flat_map(twice).eager(items)


def test_thread_flat_map_reads_a_generator_in_the_worker() -> None:
    where: list[str] = []

    def pages(n: int) -> Iterator[int]:
        where.append(threading.current_thread().name)
        yield n

    assert list(gp.thread_flat_map(pages)(range(3))) == [0, 1, 2]
    assert all(name.startswith("genpipe-worker") for name in where)


def test_thread_flat_map_handles_a_failure_halfway_through_an_iterable() -> None:
    def breaks(n: int) -> Iterator[int]:
        yield n
        if n == 1:
            raise ValueError(n)

    stage: gp.Stage[int, int] = gp.thread_flat_map(breaks, on_error="skip")
    assert list(stage(range(3))) == [0, 2]


# -- for_each(workers=) ---------------------------------------------------


def test_for_each_with_workers_calls_fn_on_every_item_in_threads() -> None:
    names: list[str] = []
    lock = threading.Lock()

    def record(n: int) -> None:
        with lock:
            names.append(threading.current_thread().name)

    range(50) | gp.for_each(record, workers=4)
    assert len(names) == 50
    assert all(name.startswith("genpipe-worker") for name in names)
    assert genpipe_threads() == []


def test_for_each_with_workers_raises_the_same_exception() -> None:
    failure = KeyError("gone")

    def fails(n: int) -> None:
        if n == 7:
            raise failure

    with pytest.raises(KeyError) as caught:
        range(20) | gp.for_each(fails, workers=3)
    assert caught.value is failure
    assert genpipe_threads() == []


def test_for_each_needs_at_least_one_worker() -> None:
    with pytest.raises(ValueError, match=r"for_each\(\) needs workers >= 1"):
        gp.for_each(print, workers=0)


# -- per-worker resources -------------------------------------------------


class Sessions:
    """Hands out numbered sessions and records what happened to each."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.opened: list[int] = []
        self.closed: list[int] = []
        self.users: dict[int, set[str]] = {}

    def open(self) -> int:
        with self.lock:
            self.opened.append(len(self.opened))
            return self.opened[-1]

    def close(self, session: int) -> None:
        with self.lock:
            self.closed.append(session)

    def use(self, n: int, session: int) -> int:
        with self.lock:
            self.users.setdefault(session, set()).add(threading.current_thread().name)
        return n


def with_sessions(sessions: Sessions) -> gp.Stage[int, int]:
    return gp.thread_map(
        sessions.use, workers=3, on_start=sessions.open, on_done=sessions.close
    )


def test_each_worker_opens_one_resource_and_only_it_uses_it() -> None:
    sessions = Sessions()
    assert list(with_sessions(sessions)(range(100))) == list(range(100))
    assert sorted(sessions.opened) == sorted(sessions.closed) == [0, 1, 2]
    assert all(len(names) == 1 for names in sessions.users.values())


@pytest.mark.parametrize("how", ["break", "error", "cancel", "close"])
def test_every_resource_is_released_once_however_the_run_ends(how: str) -> None:
    sessions = Sessions()

    def fails_late(n: int, session: int) -> int:
        if n == 50:
            raise ValueError(n)
        return sessions.use(n, session)

    stage = gp.thread_map(
        fails_late, workers=3, on_start=sessions.open, on_done=sessions.close
    )
    run = stage(endless())
    next(run)
    if how == "break":
        del run
    elif how == "error":
        with pytest.raises(ValueError):
            list(run)
    elif how == "cancel":
        run.cancel()
        with pytest.raises(CancelledError):
            next(run)
    else:
        run.close()
    assert wait_until(lambda: len(sessions.closed) == len(sessions.opened) == 3)
    assert sorted(sessions.closed) == [0, 1, 2]


def test_a_failing_on_start_reaches_the_consumer() -> None:
    failure = ConnectionError("database down")

    def refuse() -> int:
        raise failure

    def keep(n: int, session: int) -> int:
        return n

    with pytest.raises(ConnectionError) as caught:
        list(gp.thread_map(keep, on_start=refuse)(range(5)))
    assert caught.value is failure
    assert any("could not start" in note for note in caught.value.__notes__)


def test_the_eager_face_uses_one_resource_in_this_thread() -> None:
    sessions = Sessions()
    assert with_sessions(sessions).eager([1, 2, 3]) == [1, 2, 3]
    assert sessions.opened == sessions.closed == [0]
    assert sessions.users == {0: {threading.current_thread().name}}


def test_resources_work_with_error_options() -> None:
    sessions = Sessions()

    def fails_on_3(n: int, session: int) -> int:
        if n == 3:
            raise ValueError(n)
        return n

    stage = gp.thread_map(
        fails_on_3, on_start=sessions.open, on_done=sessions.close, on_error="skip"
    )
    assert list(stage(range(6))) == [0, 1, 2, 4, 5]


def test_on_done_without_on_start_is_refused() -> None:
    with pytest.raises(ValueError, match="on_done= only with on_start="):
        gp.thread_map(same, on_done=print)  # type: ignore[call-overload]


def test_a_slow_on_done_is_not_a_leak_of_the_run() -> None:
    released = threading.Event()

    def close_slowly(session: int) -> None:
        released.wait(PROMPTLY)

    def keep(n: int, session: int) -> int:
        return n

    stage = gp.thread_map(keep, workers=1, on_start=int, on_done=close_slowly)
    assert list(stage(range(3))) == [0, 1, 2]
    released.set()
