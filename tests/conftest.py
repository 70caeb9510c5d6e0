"""Shared fixtures: hypothesis profiles and the leaked-thread guard."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

collect_ignore_glob = ["typing/*"]

# CI runs the full suite on 3.11 with "ci", and again on 3.12/3.13 with the
# cheaper "ci-quick"; both print the blob that reproduces a failure.
for profile, examples in {"ci": 150, "ci-quick": 40}.items():
    settings.register_profile(
        profile,
        max_examples=examples,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow],
    )
settings.register_profile("dev", max_examples=60, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def genpipe_threads() -> list[threading.Thread]:
    """Every live thread that genpipe started (they are all named ``genpipe-...``)."""
    return [t for t in threading.enumerate() if t.name.startswith("genpipe-")]


def wait_for_no_genpipe_threads(timeout: float) -> list[threading.Thread]:
    """Wait until genpipe's threads have ended; return those still alive."""
    deadline = time.monotonic() + timeout
    while (alive := genpipe_threads()) and time.monotonic() < deadline:
        alive[0].join(0.01)
    return alive


@pytest.fixture(scope="session", autouse=True)
def close_shared_dask_cluster() -> Iterator[None]:
    """Close the session's Dask cluster, if a test started it."""
    yield
    from tests.threads_support import close_shared_dask_client

    close_shared_dask_client()


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail any test that leaves a genpipe thread running for 2 s after it ends."""
    yield
    alive = wait_for_no_genpipe_threads(2.0)
    assert not alive, f"threads outlived the test: {[t.name for t in alive]}"
