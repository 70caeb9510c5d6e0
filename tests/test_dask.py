"""executor_map on a real Dask cluster: two worker processes on this machine."""

from __future__ import annotations

from typing import Any

import pytest

import genpipe as gp
from tests.process_functions import CodedError, draw, fail_at_seven, square
from tests.threads_support import shared_dask_client, wait_until

pytest.importorskip(
    "distributed", reason="the genpipe[dask] extra (distributed) is not installed"
)


@pytest.fixture
def client() -> Any:
    return shared_dask_client()


def test_results_arrive_in_order(client: Any) -> None:
    flow = range(300) | gp.executor_map(square, client.get_executor())
    assert list(flow) == [n * n for n in range(300)]


def test_an_impure_function_is_never_deduplicated(client: Any) -> None:
    draws = [None] * 40 | gp.executor_map(draw, client.get_executor(), chunksize=1)
    assert len(set(draws)) == 40


def test_a_worker_exception_keeps_type_message_and_item(client: Any) -> None:
    with pytest.raises(CodedError) as caught:
        list(range(20) | gp.executor_map(fail_at_seven, client.get_executor()))
    assert str(caught.value) == "error 7: seven is refused"
    assert any("for item 7" in note for note in caught.value.__notes__)


def test_break_from_an_endless_source_leaves_no_task_behind(client: Any) -> None:
    for n in gp.count() | gp.executor_map(square, client.get_executor()):
        if n > 100:
            break
    assert wait_until(lambda: not any(client.processing().values()))
