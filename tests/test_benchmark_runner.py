"""The benchmarks' command line: a smoke run says one line per workload, or why not."""

from __future__ import annotations

import pytest

from benchmarks.harness import Settings
from benchmarks.report import Report, Table
from benchmarks.runner import main


def workload(failed: tuple[str, ...]) -> Report:
    verdicts = (*((name, "no") for name in failed), ("a peer", "no"))
    table = Table("Verdicts", ("variant", "passes"), verdicts)
    return Report("judged", "summary", (table,), raw={}, failed=failed)


def test_a_passing_smoke_run_prints_one_line_per_workload(
    capsys: pytest.CaptureFixture[str],
) -> None:
    def passing(settings: Settings) -> Report:
        assert settings.smoke
        return workload(failed=())

    main({"first": passing, "second": passing}, ["--smoke"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "benchmarks, smoke run: 2 workloads at tiny sizes"
    assert [line.split(" in ")[0] for line in lines[1:]] == ["first: ok", "second: ok"]


def test_a_smoke_run_where_genpipe_fails_prints_the_tables_and_exits_with_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main({"judged": lambda settings: workload(failed=("genpipe x",))}, ["--smoke"])
    assert exited.value.code == 1
    shown = capsys.readouterr().out
    assert "judged: FAILED by genpipe x" in shown
    assert "| genpipe x | no |" in shown
