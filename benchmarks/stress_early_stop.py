"""Stress: take 10 from thread_map over an endless source and break, 1,000 times.

Counts hangs (a run that does not return within 10 s) and leaked threads (a
``genpipe-`` thread alive 1 s after the run). Worker counts cycle from 1 to 8.
Not part of ``make test``: run ``.venv/bin/python -m benchmarks.stress_early_stop``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
import time

import genpipe as gp


def genpipe_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("genpipe-")]


def one_run(workers: int) -> None:
    flow = gp.source(itertools.count()) | gp.thread_map(abs, workers=workers)
    for taken, _ in enumerate(flow, start=1):
        if taken == 10:
            break


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    hangs = leaks = 0
    started = time.perf_counter()
    for run in range(args.runs):
        worker = threading.Thread(target=one_run, args=(1 + run % 8,), daemon=True)
        worker.start()
        worker.join(10)
        if worker.is_alive():
            hangs += 1
            continue
        deadline = time.monotonic() + 1
        while genpipe_threads() and time.monotonic() < deadline:
            time.sleep(0.001)
        if genpipe_threads():
            leaks += 1
    elapsed = time.perf_counter() - started
    print(
        f"{args.runs} runs in {elapsed:.1f} s: "
        f"{hangs} hangs, {leaks} with leaked threads"
    )
    return 1 if hangs or leaks else 0


if __name__ == "__main__":
    sys.exit(main())
