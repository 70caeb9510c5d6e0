"""Argument checks shared by every factory, so bad arguments fail at build time."""

from __future__ import annotations

import math


def check_callable(factory: str, param: str, value: object) -> None:
    if not callable(value):
        raise TypeError(
            f"{factory}() needs a callable for {param}, got {value!r} "
            f"of type {type(value).__name__}"
        )


def check_bool(factory: str, param: str, value: object) -> None:
    if not isinstance(value, bool):
        raise TypeError(
            f"{factory}() needs True or False for {param}, got {value!r} "
            f"of type {type(value).__name__}"
        )


def check_int(factory: str, param: str, value: object, *, minimum: int) -> int:
    """Return ``value`` if it is an int (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(
            f"{factory}() needs an int for {param}, got {value!r} "
            f"of type {type(value).__name__}"
        )
    if value < minimum:
        raise ValueError(f"{factory}() needs {param} >= {minimum}, got {value}")
    return value


def check_seconds(
    factory: str, param: str, value: object, *, allow_zero: bool
) -> float:
    """Return ``value`` as a float if it is a finite, non-negative number of seconds.

    With ``allow_zero=False`` it must also be strictly positive.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(
            f"{factory}() needs a number for {param}, got {value!r} "
            f"of type {type(value).__name__}"
        )
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{factory}() needs a finite {param} {bound}, got {value!r}")
    return float(value)
