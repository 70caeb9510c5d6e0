"""Run one probe function in a fresh Python process; get its result as JSON.

``memory`` and ``early_stop`` give every variant a process of its own: peak
RSS is per process, and a variant that leaks threads or never returns must not
take the rest of the run down with it. The parent is the watchdog: it kills a
probe that has not finished in time.

Child side: ``python -m benchmarks.isolated MODULE:FUNCTION '{"arg": ...}'``
calls the function with those keyword arguments and prints its JSON result.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parent.parent
#: Time a fresh process needs to start and import the peers, on top of a
#: probe's own limit, before the watchdog counts it as hung.
STARTUP_ALLOWANCE = 5.0

Probe = Callable[..., Mapping[str, object]]


def run_isolated(
    target: str, arguments: Mapping[str, object], timeout: float
) -> dict[str, Any] | None:
    """Run ``target`` (``"module:function"``) in a fresh process.

    Returns the function's result, or None if the process was still running
    ``timeout`` seconds (plus start-up time) after it started, in which case it
    is killed. A probe that crashes raises `RuntimeError` with its stderr: that
    is a bug in the benchmark, not a result.
    """
    command = [sys.executable, "-m", __name__, target, json.dumps(arguments)]
    try:
        finished = subprocess.run(
            command,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=timeout + STARTUP_ALLOWANCE,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    if finished.returncode != 0:
        raise RuntimeError(f"{target} {arguments} failed:\n{finished.stderr}")
    result: dict[str, Any] = json.loads(finished.stdout.splitlines()[-1])
    return result


def child(target: str, arguments: str) -> None:
    module_name, _, function_name = target.partition(":")
    probe: Probe = getattr(importlib.import_module(module_name), function_name)
    print(json.dumps(probe(**json.loads(arguments))), flush=True)
    # A variant under test may have leaked a thread that never ends; exit
    # without waiting for it, now that the result is out.
    os._exit(0)


if __name__ == "__main__":
    child(*sys.argv[1:])
