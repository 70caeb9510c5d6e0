"""Watching a run: per-stage metrics, the live view, diagrams and logging."""

from __future__ import annotations

import _thread
import io
import itertools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import genpipe as gp
from genpipe.testing.strategies import pipelines
from tests.doubles import FakeClock
from tests.strategies import int_lists
from tests.threads_support import PROMPTLY, same, wait_until


def odd(n: int) -> bool:
    return n % 2 == 1


def fails_on_multiples_of_3(n: int) -> int:
    if n % 3 == 0:
        raise ValueError(n)
    return n


def counts(rows: gp.MetricsTable) -> list[tuple[str, int, int]]:
    return [(row.label, row.items_in, row.items_out) for row in rows]


# -- counts ---------------------------------------------------------------


def test_each_stage_counts_what_it_read_and_yielded() -> None:
    flow = gp.source(range(10)) | gp.filter(odd) | gp.map(str) | gp.take(3)
    with flow.open(metrics=True) as run:
        assert list(run) == ["1", "3", "5"]
    assert counts(run.metrics()) == [
        ("source(range(0, 10))", 6, 6),
        ("filter(odd)", 6, 3),
        ("map(str)", 3, 3),
        ("take(3)", 3, 3),
    ]


def test_failures_retries_and_skips_are_counted_exactly() -> None:
    clock = FakeClock()
    flaky = gp.map(
        fails_on_multiples_of_3, on_error="skip", retries=2, sleep=clock.sleep
    )
    with (gp.source(range(10)) | flaky).open(metrics=True) as run:
        assert list(run) == [1, 2, 4, 5, 7, 8]
    row = run.metrics()[1]
    # 0, 3, 6, 9 fail three times each: two retries, then skipped.
    assert (row.items_in, row.items_out, row.errors, row.retries) == (10, 6, 4, 8)


def test_dead_letters_and_metrics_agree() -> None:
    rejected = gp.DeadLetters()
    flow = gp.source(range(12)) | gp.thread_map(
        fails_on_multiples_of_3, workers=3, on_error=rejected
    )
    with flow.open(metrics=True) as run:
        assert sorted(run) == [n for n in range(12) if n % 3]
    assert run.metrics()[1].errors == len(rejected) == 4


def test_a_worker_failure_that_ends_the_run_is_counted() -> None:
    flow = gp.source(range(10)) | gp.thread_map(fails_on_multiples_of_3)
    with pytest.raises(ValueError), flow.open(metrics=True) as run:
        list(run)
    assert run.metrics()[1].errors == 1


def test_a_concurrent_stage_reports_worker_time_and_its_read_ahead() -> None:
    def slowish(n: int) -> int:
        threading.Event().wait(0.002)
        return n

    flow = gp.source(range(40)) | gp.thread_map(slowish, workers=2, maxsize=6)
    with flow.open(metrics=True) as run:
        assert list(run) == list(range(40))
    row = run.metrics()[1]
    assert row.busy_seconds >= 40 * 0.002 * 0.9
    assert 1 <= row.buffered_high <= 6


def test_a_buffer_reports_how_full_it_got_and_how_long_its_reader_waited() -> None:
    release = threading.Event()

    def stalls() -> Iterator[int]:
        yield 1
        release.wait(0.05)
        yield 2

    with (gp.source(stalls()) | gp.buffer(4)).open(metrics=True) as run:
        assert list(run) == [1, 2]
    row = run.metrics()[1]
    assert row.wait_seconds > 0
    assert 1 <= row.buffered_high <= 4


def test_metrics_can_be_read_from_another_thread_while_the_run_goes() -> None:
    release = threading.Event()

    def stalls_after_five() -> Iterator[int]:
        yield from range(5)
        release.wait(PROMPTLY)

    seen: list[gp.MetricsTable] = []
    flow = gp.source(stalls_after_five()) | gp.thread_map(same, workers=2)
    with flow.open(metrics=True) as run:
        for _ in range(5):
            next(run)
        reader = threading.Thread(target=lambda: seen.append(run.metrics()))
        reader.start()
        reader.join(PROMPTLY)
        release.set()
        assert list(run) == []
    assert counts(seen[0])[1][2] == 5


def test_a_run_without_metrics_counts_nothing_and_says_how_to_ask() -> None:
    run = iter(gp.source([1]) | gp.map(str))
    with pytest.raises(RuntimeError, match=r"open\(metrics=True\)"):
        run.metrics()


def test_a_finished_run_stops_counting_its_stages_failures() -> None:
    flaky = gp.map(fails_on_multiples_of_3, on_error="skip")
    with (gp.source(range(3)) | flaky).open(metrics=True) as run:
        list(run)
    assert list(gp.source(range(3)) | flaky) == [1, 2]
    assert run.metrics()[1].errors == 1


@settings(max_examples=60)
@given(pipelines(), int_lists, st.booleans())
def test_counts_chain_up_and_match_what_the_consumer_got(
    stage: gp.Stage[int, Any], items: list[int], stop_early: bool
) -> None:
    received = 0
    with (gp.source(items) | stage).open(metrics=True) as run:
        for _ in run:
            received += 1
            if stop_early and received == 3:
                break
    rows = run.metrics()
    for before, after in itertools.pairwise(rows):
        assert before.items_out == after.items_in
    assert rows[-1].items_out == received


# -- the table ------------------------------------------------------------


def test_the_table_aligns_every_column() -> None:
    flow = gp.source(range(1000)) | gp.filter(odd) | gp.batch(100)
    with flow.open(metrics=True) as run:
        list(run)
    assert str(run.metrics()) == (
        "stage                      in    out  errors  retries  busy s  wait s  held\n"
        "source(range(0, 1000))  1,000  1,000       0        0   0.000   0.000     0\n"
        "filter(odd)             1,000    500       0        0   0.000   0.000     0\n"
        "batch(100)                500      5       0        0   0.000   0.000     0"
    )


# -- the live view --------------------------------------------------------


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_live_view_on_a_stream_prints_the_final_counts() -> None:
    screen = io.StringIO()
    with (gp.source(range(5)) | gp.map(str)).open(progress=screen) as run:
        assert list(run) == ["0", "1", "2", "3", "4"]
    assert screen.getvalue().endswith("source(range(0, 5)) 5 | map(str) 5\n")
    assert "\r" not in screen.getvalue()


def test_the_live_view_redraws_one_line_in_place_on_a_terminal() -> None:
    screen = Terminal()
    live = gp.source(range(3)) | gp.map(str)
    with live.open(progress=screen) as run, pytest.MonkeyPatch.context() as patch:
        patch.setattr("genpipe._live._tqdm_fits", lambda stream: False)
        list(run)
    output = screen.getvalue()
    assert output.startswith("\r")
    assert output.endswith("\n")


def test_progress_true_prints_nothing_when_stderr_is_not_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with (gp.source(range(3)) | gp.map(str)).open(progress=True) as run:
        list(run)
    assert capsys.readouterr().err == ""
    assert run.metrics()[1].items_out == 3


def test_ctrl_c_inside_a_live_block_stops_its_thread_and_ends_the_line() -> None:
    screen = Terminal()
    flow = gp.count() | gp.thread_map(same, workers=2)
    with pytest.raises(KeyboardInterrupt), flow.open(progress=screen) as run:
        next(run)
        _thread.interrupt_main()
        while True:
            next(run)
    assert wait_until(
        lambda: not [t for t in threading.enumerate() if "live" in t.name]
    )
    assert screen.getvalue().endswith("\n")


def test_a_bad_progress_argument_is_refused() -> None:
    with pytest.raises(TypeError, match="a stream with write"):
        gp.source([1]).open(progress="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="True or False for metrics"):
        gp.source([1]).open(metrics="yes")  # type: ignore[arg-type]


# -- diagrams -------------------------------------------------------------


def test_a_plain_pipeline_is_drawn_as_a_chain() -> None:
    flow = gp.source([1, 2]) | gp.filter(odd) | gp.map(str)
    assert flow.to_mermaid() == (
        "flowchart LR\n"
        '    n0(["source([1, 2])"])\n'
        '    n1["filter(odd)"]\n'
        "    n0 --> n1\n"
        '    n2["map(str)"]\n'
        "    n1 --> n2\n"
    )


def test_concurrent_stages_are_double_edged_and_labels_are_escaped() -> None:
    flow = gp.source(['"a"']) | gp.thread_map(lambda s: s, workers=2) | gp.buffer()
    assert flow.to_mermaid() == (
        "flowchart LR\n"
        "    n0([\"source(['#quot;a#quot;'])\"])\n"
        '    n1[["thread_map(#lt;lambda#gt;, workers=2)"]]\n'
        "    n0 --> n1\n"
        '    n2[["buffer()"]]\n'
        "    n1 --> n2\n"
    )


def test_a_merge_is_drawn_with_its_sources_feeding_it() -> None:
    flow = gp.merge(gp.source([1]) | gp.map(str), ["a"]) | gp.take(2)
    assert flow.to_mermaid() == (
        "flowchart LR\n"
        '    n0(["source([1])"])\n'
        '    n1["map(str)"]\n'
        "    n0 --> n1\n"
        "    n2([\"source(['a'])\"])\n"
        '    n3{{"merge"}}\n'
        "    n1 --> n3\n"
        "    n2 --> n3\n"
        '    n4["take(2)"]\n'
        "    n3 --> n4\n"
    )


def test_a_diagram_with_metrics_shows_counts_and_rates() -> None:
    flow = gp.source(range(4)) | gp.filter(odd)
    with flow.open(metrics=True) as run:
        list(run)
    drawn = flow.to_mermaid(run.metrics())
    assert '"source(range(0, 4))<br/>in 4 · out 4"' in drawn
    assert '"filter(odd)<br/>in 4 · out 2"' in drawn
    assert '-->|"4, ' in drawn
    assert "/s" in drawn


# -- logging --------------------------------------------------------------


def test_dead_letters_and_stage_start_stop_are_logged_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rejected = gp.DeadLetters()
    with caplog.at_level(logging.DEBUG, logger="genpipe"):
        flow = gp.source(range(4)) | gp.thread_map(
            fails_on_multiples_of_3, on_error=rejected
        )
        assert sorted(flow) == [1, 2]
    messages = [record.getMessage() for record in caplog.records]
    assert any(m.startswith("dead letter: ") for m in messages)
    assert any(m.endswith(" started") for m in messages)
    assert any(m.startswith("run stopped") for m in messages)
    assert all(record.levelno == logging.DEBUG for record in caplog.records)


def parse(line: str) -> str:
    return line


def parse_return(row: dict[str, str]) -> str:
    return str(row)


def enrich(order: str) -> str:
    return order


def test_the_guide_shows_the_diagram_to_mermaid_draws() -> None:
    flow = (
        gp.merge(
            gp.read_jsonl("orders.jsonl") | gp.map(parse),
            gp.read_csv("returns.csv") | gp.map(parse_return),
        )
        | gp.thread_map(enrich, workers=8)
        | gp.batch(500)
    )
    page = (Path(__file__).parent.parent / "docs" / "observability.md").read_text()
    drawn = page.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert drawn == flow.to_mermaid()


def fetch(url: str) -> str:
    return url


def is_valid(page: str) -> bool:
    return bool(page)


def test_the_concurrency_guide_shows_the_diagram_to_mermaid_draws() -> None:
    flow = (
        gp.source(["https://example.com"])
        | gp.thread_map(fetch, workers=8)
        | gp.map(parse)
        | gp.filter(is_valid)
        | gp.buffer()
    )
    page = (Path(__file__).parent.parent / "docs" / "concurrency.md").read_text()
    drawn = [block.split("```", 1)[0] for block in page.split("```mermaid\n")[1:]]
    assert flow.to_mermaid() in drawn
