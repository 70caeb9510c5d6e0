"""progress: a tqdm bar that counts what passes and closes with the stream."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given

import genpipe as gp
from tests.strategies import int_lists


@given(int_lists)
def test_progress_passes_every_item_unchanged(items: list[int]) -> None:
    stage: gp.Stage[int, int] = gp.progress(disable=True)
    assert list(stage(items)) == stage.eager(items) == items


def test_progress_counts_the_items_that_passed() -> None:
    screen = io.StringIO()
    kept = gp.source(range(10)) | gp.filter(lambda n: n % 2 == 0)
    counted = kept | gp.progress("even", file=screen, ascii=True) | gp.to_list()
    assert counted == [0, 2, 4, 6, 8]
    assert "even: 5it" in screen.getvalue()


def test_progress_bar_is_closed_when_the_consumer_stops_early() -> None:
    screen = io.StringIO()
    flow = gp.count() | gp.progress("ticks", total=100, file=screen, ascii=True)
    with flow.open() as ticks:
        assert [next(ticks), next(ticks)] == [0, 1]
    # A closed bar draws its final state and ends its line.
    assert screen.getvalue().endswith("\n")
    assert "2/100" in screen.getvalue()


def test_each_run_gets_a_fresh_bar() -> None:
    screen = io.StringIO()
    flow = gp.source([1, 2, 3]) | gp.progress("run", file=screen, ascii=True)
    assert list(flow) == list(flow)
    assert screen.getvalue().count("run: 3it") == 2


def test_progress_without_tqdm_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match=r"pip install genpipe\[progress\]"):
        gp.progress()


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"desc": 3}, TypeError, "needs a str for desc, got 3"),
        ({"total": -1}, ValueError, "needs total >= 0, got -1"),
        ({"total": 1.5}, TypeError, "needs an int for total"),
    ],
)
def test_progress_rejects_bad_arguments_when_built(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        gp.progress(**kwargs)  # type: ignore[arg-type]


def test_progress_repr_reads_like_the_call() -> None:
    assert repr(gp.progress()) == "progress()"
    assert repr(gp.progress("rows", total=10)) == "progress('rows', total=10)"
