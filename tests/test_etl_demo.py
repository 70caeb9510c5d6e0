"""The ETL demo (examples/etl_demo.py) runs end to end on a slice of its data."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

import genpipe as gp

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@pytest.fixture(scope="module")
def demo() -> Iterator[ModuleType]:
    """The demo script, imported as the module ``etl_demo``."""
    spec = importlib.util.spec_from_file_location("etl_demo", EXAMPLES / "etl_demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses looks the module up by name while the class is created.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


@pytest.fixture
def data_slice(demo: ModuleType, tmp_path: Path) -> Path:
    """The header, 40 good rows, and the rows the demo must reject, one per reason."""
    lines = Path(demo.DATA).read_text(encoding="utf-8").splitlines()
    rejects = {
        "outside the USA": "ROP,",
        "no state": "CLD,",
        "no census region (a US territory)": "SJU,",
        "latitude is not a number": "OLD,",
        "latitude out of range": "SPG,",
        "malformed CSV row": "FDK,",
    }
    bad = [
        next(line for line in lines if line.startswith(code))
        for code in rejects.values()
    ]
    path = tmp_path / "airports.csv"
    path.write_text("\n".join([lines[0], *lines[1:41], *bad]) + "\n", encoding="utf-8")
    return path


def test_demo_loads_the_good_rows_and_rejects_each_bad_one_with_its_reason(
    demo: ModuleType, data_slice: Path, tmp_path: Path
) -> None:
    target = tmp_path / "out.jsonl"
    report = demo.run(data_slice, target)
    assert (report.rows_in, report.rows_out, len(report.rejected)) == (46, 40, 6)
    assert demo.reasons(report.rejected) == {
        "outside the USA": ["ROP"],
        "no state": ["CLD"],
        "no census region (a US territory)": ["SJU"],
        "latitude is not a number": ["OLD"],
        "latitude out of range": ["SPG"],
        "malformed CSV row": ["line 47"],
    }
    batches = list(gp.read_jsonl(target))
    assert report.batches == len(batches) == 1
    rows = batches[0]["rows"]
    assert [row["code"] for row in rows][:3] == ["00M", "00R", "00V"]
    assert rows[0]["region"] == "South"


def test_demo_main_prints_a_summary_of_the_run(
    demo: ModuleType,
    data_slice: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    demo.main(data_slice, tmp_path / "out.jsonl", sample=3)
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[:3]] == ["read", "loaded", "rejected"]
    assert printed[0].split()[1] == "46"
    table = printed.index("where the time went, stage by stage:")
    assert printed[table - 3].startswith("wall time")
    assert printed[table - 2].startswith("speed-up")
    # The run's metrics: a header, then the source and each stage.
    assert printed[table + 1].split()[:3] == ["stage", "in", "out"]
    assert [line.split()[0].partition("(")[0] for line in printed[table + 2 :]] == [
        "read_csv",
        "map",
        "throttle",
        "thread_map",
        "batch",
        "map",
    ]


def test_demo_on_the_shipped_data_rejects_what_its_source_note_lists(
    demo: ModuleType, tmp_path: Path
) -> None:
    report = demo.run(demo.DATA, tmp_path / "out.jsonl")
    rejected = demo.reasons(report.rejected)
    assert (report.rows_in, report.rows_out, report.batches) == (3376, 3336, 7)
    assert {reason: len(rows) for reason, rows in rejected.items()} == {
        "no census region (a US territory)": 24,
        "no state": 8,
        "outside the USA": 4,
        "malformed CSV row": 2,
        "latitude is not a number": 1,
        "latitude out of range": 1,
    }
    assert rejected["malformed CSV row"] == ["line 1013", "line 1500"]
    assert rejected["latitude is not a number"] == ["OLD"]
    assert rejected["latitude out of range"] == ["SPG"]
