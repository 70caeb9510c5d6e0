"""``etl``: read a CSV file, reshape each row, write JSON lines.

The everyday job genpipe's file stages are for: ``gp.read_csv(path) |
gp.map(reshape) | gp.write_jsonl(out)`` against the loop one writes by hand
with `csv.DictReader` and `json.dumps`. Both write the same bytes; the run
checks that before trusting any timing.
"""

from __future__ import annotations

import csv
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

import genpipe as gp
from benchmarks.harness import Settings, Variant, measure
from benchmarks.report import Report, ratios_to, raw_runs, speed_table
from benchmarks.runner import main

HAND_WRITTEN = "hand-written csv/json loop"
CITIES = ("Zürich", "Lagos", "Osaka", "Lima", "Oslo")


def reshape(row: dict[str, str]) -> dict[str, object]:
    return {
        "id": int(row["id"]),
        "customer": row["name"].title(),
        "city": row["city"],
        "cents": round(float(row["amount"]) * 100),
    }


def write_orders(path: Path, rows: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(("id", "name", "city", "amount"))
        for n in range(rows):
            writer.writerow((n, f"customer {n % 997}", CITIES[n % 5], f"{n % 1000}.25"))


def hand_written(source: Path, target: Path) -> Callable[[], None]:
    def run() -> None:
        with (
            source.open(newline="", encoding="utf-8") as rows,
            target.open("w", encoding="utf-8") as out,
        ):
            for row in csv.DictReader(rows):
                out.write(json.dumps(reshape(row), ensure_ascii=False) + "\n")

    return run


def genpipe(source: Path, target: Path) -> Callable[[], int]:
    job = gp.map(reshape) | gp.write_jsonl(target)
    return lambda: gp.read_csv(source) | job


def run(settings: Settings) -> Report:
    rows = settings.size(200_000, 500)
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        source = directory / "orders.csv"
        write_orders(source, rows)
        by_hand, by_genpipe = directory / "hand.jsonl", directory / "genpipe.jsonl"
        measured = measure(
            [
                Variant(HAND_WRITTEN, lambda: hand_written(source, by_hand)),
                Variant("genpipe", lambda: genpipe(source, by_genpipe)),
            ],
            settings.runs,
        )
        if by_hand.read_bytes() != by_genpipe.read_bytes():
            raise AssertionError(
                "genpipe's output differs from the hand-written loop's"
            )
    return Report(
        workload="etl",
        summary=(
            f"{rows:,} CSV rows read, reshaped (parse an int and a float, title-case "
            f"a name) and written as JSON lines. Baseline: {HAND_WRITTEN}."
        ),
        tables=(speed_table("Per-row cost", measured, rows, [HAND_WRITTEN]),),
        raw={"rows": rows, "runs": raw_runs(measured)},
        baseline=HAND_WRITTEN,
        ratios=ratios_to(measured, HAND_WRITTEN),
    )


if __name__ == "__main__":
    main({"etl": run})
