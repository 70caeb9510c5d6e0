"""Randomized stress of the concurrency engine against a plain-Python model.

Each case builds a random pipeline mixing plain stages (map, filter, take,
batch) with concurrent ones (thread_map ordered and unordered, buffer, merge,
timed batch), sometimes with a failing item or a failing source, and
consumes it one of six ways: a bare loop, a loop that breaks, a kept
iterator closed early, ``cancel()`` from another thread, a sink, and
``open()``. Every case checks, against the same pipeline computed with plain
lists:

- the output (exact, or as a multiset where order is not promised; a prefix,
  or a sub-multiset, when the consumer stopped early);
- the exception (the same object the model predicts, for the same item);
- that no genpipe thread is alive afterwards, checked *while the consumer
  still holds the exception*;
- that nothing hangs (a faulthandler watchdog dumps every thread and exits).

    python -m benchmarks.stress --cases 2000 --seed 1
"""

from __future__ import annotations

import argparse
import faulthandler
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from dataclasses import dataclass, field
from typing import Any

import genpipe as gp

WATCHDOG_SECONDS = 30.0
THREADS_GONE_SECONDS = 2.0
CONSUMERS = ("loop", "break", "close", "cancel", "sink", "open")


class Boom(Exception):  # noqa: N818 - the stress's own failure, not an API
    """The failure a case injects; compared by identity of its ``item``."""

    def __init__(self, item: object) -> None:
        super().__init__(item)
        self.item = item


@dataclass
class Case:
    """One random pipeline, its model result, and how to consume it."""

    items: list[int]
    source_fails: bool
    steps: list[tuple[str, Any]] = field(default_factory=list)
    consumer: str = "loop"
    stop_after: int = 0
    exact: bool = True

    def describe(self) -> str:
        return (
            f"items={len(self.items)} fails={self.source_fails} "
            f"steps={self.steps} consumer={self.consumer} stop={self.stop_after}"
        )


def _fails_on(bad: int | None) -> Callable[[int], int]:
    def apply(n: int) -> int:
        if n == bad:
            raise Boom(n)
        return n + 1

    return apply


def _keep_odd(n: int) -> bool:
    return n % 2 == 1


def _unbatch(batch: list[int]) -> list[int]:
    return batch


def random_case(rng: random.Random) -> Case:
    items = list(range(rng.randrange(0, 120)))
    case = Case(items, source_fails=rng.random() < 0.1)
    for _ in range(rng.randrange(1, 6)):
        kind = rng.choice(
            ["map", "filter", "take", "batch", "thread_map", "buffer", "timed_batch"]
        )
        bad = rng.randrange(0, 150) if rng.random() < 0.25 else None
        if kind == "take":
            case.steps.append((kind, rng.randrange(0, 100)))
        elif kind in ("map", "thread_map"):
            ordered = kind == "map" or rng.random() < 0.6
            workers = rng.randrange(1, 5)
            maxsize = rng.choice([None, None, 1, 3, 16])
            case.steps.append((kind, (bad, ordered, workers, maxsize)))
            case.exact = case.exact and ordered
        elif kind == "batch":
            case.steps.append((kind, rng.randrange(1, 5)))
        elif kind == "buffer":
            case.steps.append((kind, rng.randrange(1, 8)))
        elif kind == "timed_batch":
            case.steps.append((kind, rng.randrange(1, 4)))
        else:
            case.steps.append((kind, None))
    if rng.random() < 0.15:
        case.steps.insert(0, ("merge", rng.randrange(2, 4)))
        case.exact = False
    case.consumer = rng.choice(CONSUMERS)
    case.stop_after = rng.randrange(0, 40)
    return case


def build(case: Case) -> tuple[gp.Source[int], list[int], Boom | None]:
    """The pipeline, the model's output, and the failure the model predicts."""
    source_failure = Boom(-1)

    def base() -> Iterator[int]:
        yield from case.items
        if case.source_fails:
            raise source_failure

    model: list[int] = list(case.items)
    failure: Boom | None = source_failure if case.source_fails else None
    steps = case.steps
    in_order = True
    if steps and steps[0][0] == "merge":
        parts = steps[0][1]
        flow: gp.Source[int] = gp.merge(*(list(case.items) for _ in range(parts)))
        model = model * parts
        steps = steps[1:]
        in_order = False
        if case.source_fails:
            flow = gp.source(_then_fail(flow, source_failure))
    else:
        flow = gp.source(base())
    for kind, arg in steps:
        if kind in ("map", "thread_map"):
            bad, ordered, workers, maxsize = arg
            fn = _fails_on(bad)
            if kind == "map":
                flow = flow | gp.map(fn)
            else:
                flow = flow | gp.thread_map(
                    fn, workers=workers, ordered=ordered, maxsize=maxsize
                )
            model, failure = _model_map(model, failure, bad, in_order=in_order)
            in_order = in_order and ordered
        elif kind == "filter":
            flow = flow | gp.filter(_keep_odd)
            model = [n for n in model if _keep_odd(n)]
        elif kind == "take":
            flow = flow | gp.take(arg)
            # Out of order, which items are taken is not known: the whole
            # model stays an upper bound.
            if in_order and len(model) >= arg:
                model, failure = model[:arg], None
        elif kind in ("batch", "timed_batch"):
            batcher: gp.Stage[int, list[int]] = (
                gp.batch(arg) if kind == "batch" else gp.batch(arg, max_wait=30.0)
            )
            flow = flow | batcher | gp.flat_map(_unbatch)
        elif kind == "buffer":
            flow = flow | gp.buffer(arg)
    return flow, model, failure


def _then_fail(flow: gp.Source[int], failure: Boom) -> Iterator[int]:
    yield from flow
    raise failure


def _model_map(
    model: list[int], failure: Boom | None, bad: int | None, *, in_order: bool
) -> tuple[list[int], Boom | None]:
    if bad in model and not in_order:
        # Which of the items before it arrive first is not known: all but
        # the failing ones stay an upper bound.
        return [n + 1 for n in model if n != bad], Boom(bad)
    if bad in model:
        cut = model.index(bad)
        # The model's failure object is created by the lazy run; the model
        # only knows its item.
        return [n + 1 for n in model[:cut]], Boom(bad)
    return [n + 1 for n in model], failure


def consume(case: Case, flow: gp.Source[int], got: list[int]) -> None:
    stop = case.stop_after
    if case.consumer == "loop":
        for n in flow:
            got.append(n)
    elif case.consumer == "break":
        for n in flow:
            if len(got) == stop:
                break
            got.append(n)
    elif case.consumer == "close":
        run = iter(flow)
        try:
            for n in run:
                if len(got) == stop:
                    break
                got.append(n)
        finally:
            run.close()
    elif case.consumer == "cancel":
        run = iter(flow)
        canceller = threading.Timer(0.001 * (stop % 5), run.cancel)
        canceller.start()
        try:
            for n in run:
                got.append(n)
        except CancelledError:
            pass
        finally:
            canceller.join()
    elif case.consumer == "sink":
        collected: list[int] = flow.then(gp.to_list())
        got.extend(collected)
    else:
        with flow.open() as run:
            for n in run:
                if len(got) == stop:
                    break
                got.append(n)


def genpipe_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("genpipe-")]


def threads_gone() -> list[str]:
    deadline = time.monotonic() + THREADS_GONE_SECONDS
    while (alive := genpipe_threads()) and time.monotonic() < deadline:
        alive[0].join(0.01)
    return [t.name for t in alive]


def check(case: Case) -> str | None:
    """Run one case; a description of what went wrong, or None."""
    flow, model, predicted = build(case)
    got: list[int] = []
    try:
        consume(case, flow, got)
    except Boom as raised:
        # Checked while the consumer still holds the exception.
        alive = threads_gone()
        if alive:
            return f"threads alive while holding the exception: {alive}"
        if predicted is None and (case.exact or not may_fail(case)):
            # Unordered stages may reach a failing item that read-ahead
            # found before the consumer's early stop; ordered ones never.
            return f"raised {raised!r}, the model raised nothing"
        if case.exact and predicted is not None and raised.item != predicted.item:
            return f"raised for {raised.item!r}, the model for {predicted.item!r}"
        return _compare(case, got, model, complete=False)
    alive = threads_gone()
    if alive:
        return f"threads alive after the run: {alive}"
    stopped_early = case.consumer in ("break", "close", "cancel", "open")
    if predicted is not None and not stopped_early and case.exact:
        return f"nothing raised, the model raised {predicted!r}"
    return _compare(case, got, model, complete=not stopped_early)


def may_fail(case: Case) -> bool:
    return case.source_fails or any(
        kind in ("map", "thread_map") and arg[0] is not None for kind, arg in case.steps
    )


def _compare(
    case: Case, got: list[int], model: list[int], *, complete: bool
) -> str | None:
    if case.exact:
        expected = model if complete else model[: len(got)]
        if got != expected:
            return f"got {got[:20]}..., expected {expected[:20]}..."
        return None
    surplus = Counter(got) - Counter(model)
    if surplus:
        return f"items the model never produced: {dict(surplus)}"
    return None


def run_cases(cases: int, seed: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    failures: list[str] = []
    for number in range(cases):
        case = random_case(rng)
        faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True)
        try:
            problem = check(case)
        finally:
            faulthandler.cancel_dump_traceback_later()
        if problem:
            failures.append(f"case {number}: {problem}\n  {case.describe()}")
    return cases, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.monotonic()
    total, failures = run_cases(args.cases, args.seed)
    for failure in failures:
        print(failure)
    print(
        f"{total} random pipelines, {len(failures)} wrong, 0 hangs, "
        f"{time.monotonic() - started:.1f} s"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
