"""Module-level functions for process tests: a worker process must import them."""

from __future__ import annotations

import os
import signal
import time


class CodedError(Exception):
    """A custom ``__init__`` whose ``args`` cannot rebuild it (pickle's trap)."""

    def __init__(self, code: int, detail: str) -> None:
        super().__init__(f"error {code}: {detail}")
        self.code = code


def fail_at_seven(n: int) -> int:
    if n == 7:
        raise CodedError(7, "seven is refused")
    return n * 10


def value_error_at_three(n: int) -> int:
    if n == 3:
        raise ValueError(f"bad {n}")
    return n


def fail_once_per_process(path: str) -> str:
    """Fails the first time for each path (recorded in the file system), then works."""
    marker = f"{path}.tried"
    if not os.path.exists(marker):
        with open(marker, "w"):
            pass
        raise ConnectionError("flaky")
    return path


def kill_own_process_at_five(n: int) -> int:
    if n == 5:
        os.kill(os.getpid(), signal.SIGKILL)
    return n


def slowly(n: int) -> int:
    time.sleep(0.01)
    return n


def pid_of(_: object) -> int:
    return os.getpid()


def square(n: int) -> int:
    return n * n


def never_returns_after_one(n: int) -> int:
    if n >= 1:
        signal.pause()
    return n


def draw(_: object) -> float:
    import random

    return random.random()


def pid_unless_three(n: int) -> int:
    """This process's id; item 3 never returns."""
    if n == 3:
        signal.pause()
    return os.getpid()
