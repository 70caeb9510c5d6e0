"""A property test that catches a bug in a custom stage before it ships.

`sessions` groups sorted click times (in minutes) into sessions: a gap of
more than 30 minutes starts a new one. Its streaming version has the classic
bug of a stage that holds items back: it forgets the session still open when
the stream ends. Its reference implementation, given as ``eager=``, is the
obvious list version. The property test compares the two on random inputs;
hypothesis finds the bug and shrinks it to one click.

pytest collects ``test_sessions`` like any test (``pytest
examples/sessions_property.py``); run as a script, this file runs the test
and prints what the failure says.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from hypothesis import settings
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing import lazy_eager_property

GAP = 30


def split_sessions(clicks: Iterable[int]) -> Iterator[list[int]]:
    """Sessions of sorted clicks, streamed: each is yielded when the next begins."""
    session: list[int] = []
    for click in clicks:
        if session and click - session[-1] > GAP:
            yield session
            session = []
        session.append(click)
    # The bug: the last session is never yielded.


def sessions_of(clicks: list[int]) -> list[list[int]]:
    """The reference: every session, found with the whole list at hand."""
    found: list[list[int]] = []
    for click in clicks:
        if found and click - found[-1][-1] <= GAP:
            found[-1].append(click)
        else:
            found.append([click])
    return found


def sessions() -> gp.Stage[int, list[int]]:
    return gp.stage(split_sessions, eager=sessions_of, name="sessions()")


@settings(derandomize=True, database=None)
@lazy_eager_property(st.integers(min_value=0, max_value=24 * 60))
def test_sessions() -> gp.Stage[int, list[int]]:
    return gp.stage_of(int) | gp.sort() | sessions()


if __name__ == "__main__":
    try:
        test_sessions()
    except AssertionError as failure:
        for line in str(failure).splitlines()[:3]:
            print(line)
        stage = next(line for line in str(failure).splitlines() if "diverge" in line)
        print(stage.strip())
