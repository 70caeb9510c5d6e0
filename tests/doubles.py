"""Test doubles shared by the test modules: instrumented streams and a fake clock.

They record what a pipeline did to its inputs — how many items it pulled,
which generators it closed and in what order, how long it slept — so tests
can assert laziness, cleanup and timing without real time passing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

import genpipe as gp

T = TypeVar("T")


class TrackedSource(Iterable[T]):
    """A re-iterable stream over ``items`` that counts pulls and closes.

    Each iteration is a fresh generator over ``items``; ``pulls`` counts the
    items handed out over all iterations, and ``closed`` how many of those
    generators have finished or been closed (their ``finally`` ran). Pass an
    endless iterator such as ``itertools.count()`` for an infinite stream.
    """

    def __init__(self, items: Iterable[T]) -> None:
        self.items = items
        self.pulls = 0
        self.closed = 0

    def __iter__(self) -> Iterator[T]:
        try:
            for item in self.items:
                self.pulls += 1
                yield item
        finally:
            self.closed += 1


def recording_stage(name: str, closed: list[str]) -> gp.Stage[T, T]:
    """A pass-through stage whose generator appends ``name`` to ``closed`` at its end.

    Several of them in one chain show which generators a pipeline closed, and
    in which order.
    """

    def passing(items: Iterable[T]) -> Iterator[T]:
        try:
            yield from items
        finally:
            closed.append(name)

    return gp.stage(passing, name=name)


class FakeClock:
    """A clock whose ``sleep`` advances it instantly and is recorded.

    Pass ``clock`` as ``clock=`` (it is callable: it returns ``now``) and
    ``clock.sleep`` as ``sleep=``. ``advance`` stands for time spent
    elsewhere, e.g. by a slow consumer.
    """

    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, f"slept {seconds} s: a non-positive sleep is a bug"
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
