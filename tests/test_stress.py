"""A smaller run of the randomized engine stress (``python -m benchmarks.stress``)."""

from __future__ import annotations

import pytest

from benchmarks.stress import run_cases


@pytest.mark.parametrize("seed", [11, 12])
def test_random_pipelines_match_the_model_and_leave_no_thread(seed: int) -> None:
    total, failures = run_cases(150, seed)
    assert total == 150
    assert failures == []
