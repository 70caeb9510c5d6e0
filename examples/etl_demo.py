"""An ETL job on real data: clean, enrich and load 3,376 US airports.

Extract: read ``examples/data/airports.csv`` (public domain; see
``data/SOURCE.md``). Transform: parse and validate every row, then look up
its census region from a simulated slow service (5 ms a call) in 16
threads, throttled to the service's rate limit. Load: write the airports in
batches of 500 to a JSON Lines file, one bulk-insert request per line.

Rows that cannot be loaded (malformed CSV, bad values, no region) go to a
dead-letter list, so the job runs to the end and reports them.

Run it with ``make demo``, or ``python examples/etl_demo.py [OUTPUT.jsonl]``.
docs/etl.md walks through it, quoting the parts marked with ``--8<--``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import genpipe as gp

# --8<-- [start:settings]
DATA = Path(__file__).parent / "data" / "airports.csv"

LOOKUP_SECONDS = 0.005  # how long the simulated service takes per call
RATE_LIMIT = 5000  # calls per second the service allows
WORKERS = 16
BATCH_SIZE = 500
# --8<-- [end:settings]

CENSUS_REGIONS = {
    "Northeast": "CT MA ME NH NJ NY PA RI VT",
    "Midwest": "IA IL IN KS MI MN MO ND NE OH SD WI",
    "South": "AL AR DC DE FL GA KY LA MD MS NC OK SC TN TX VA WV",
    "West": "AK AZ CA CO HI ID MT NM NV OR UT WA WY",
}
REGION_OF_STATE = {
    state: region
    for region, states in CENSUS_REGIONS.items()
    for state in states.split()
}


# --8<-- [start:parse]
@dataclass(frozen=True)
class Airport:
    code: str
    name: str
    city: str
    state: str
    latitude: float
    longitude: float


def parse(row: dict[str, str]) -> Airport:
    """Turn a CSV row into an Airport, or raise ValueError saying what is wrong."""
    if row["country"] != "USA":
        raise ValueError("outside the USA")
    if row["state"] == "NA":
        raise ValueError("no state")
    return Airport(
        code=row["iata"],
        name=row["name"],
        city=row["city"],
        state=row["state"],
        latitude=coordinate(row["latitude"], "latitude", limit=90),
        longitude=coordinate(row["longitude"], "longitude", limit=180),
    )


def coordinate(text: str, name: str, *, limit: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} is not a number") from None
    if not -limit <= value <= limit:
        raise ValueError(f"{name} out of range")
    return value
    # --8<-- [end:parse]


# --8<-- [start:lookup]
def census_region(airport: Airport) -> dict[str, Any]:
    """The enrichment: ask a slow service (simulated) for the census region."""
    time.sleep(LOOKUP_SECONDS)
    region = REGION_OF_STATE.get(airport.state)
    if region is None:
        raise LookupError("no census region (a US territory)")
    return {**asdict(airport), "region": region}
    # --8<-- [end:lookup]


# --8<-- [start:load]
def bulk_request(airports: list[dict[str, Any]]) -> dict[str, Any]:
    """One line of output: a batch of airports as a bulk-insert API takes it."""
    return {"insert": "airports", "rows": airports}
    # --8<-- [end:load]


@dataclass
class Report:
    rows_in: int
    rows_out: int
    lookups: int
    batches: int
    rejected: gp.DeadLetters
    seconds: float
    metrics: gp.MetricsTable


def run(source: Path, target: Path) -> Report:
    """Load the airports in ``source`` (CSV) into ``target`` (JSON Lines)."""
    # --8<-- [start:job]
    rejected = gp.DeadLetters()
    started = time.perf_counter()
    job = (
        gp.read_csv(source, on_error=rejected)
        | gp.map(parse, on_error=rejected)
        | gp.throttle(RATE_LIMIT, burst=WORKERS)
        | gp.thread_map(census_region, workers=WORKERS, on_error=rejected)
        | gp.batch(BATCH_SIZE)
        | gp.map(bulk_request)
    )
    with job.open(metrics=True) as run:
        batches = run | gp.write_jsonl(target)
    metrics = run.metrics()
    # --8<-- [end:job]
    # Rows the CSV reader rejected never reached its count of rows read.
    malformed = sum(isinstance(bad.exception, gp.RecordError) for bad in rejected)
    read, _, throttled, looked_up, *_ = metrics
    return Report(
        rows_in=read.items_out + malformed,
        rows_out=looked_up.items_out,
        lookups=throttled.items_out,
        batches=batches,
        rejected=rejected,
        seconds=time.perf_counter() - started,
        metrics=metrics,
    )


def seconds_per_lookup(source: Path, sample: int) -> float:
    """Time ``sample`` lookups made one by one, as the job would without threads."""
    airports = (
        gp.read_csv(source, on_error="skip")
        | gp.map(parse, on_error="skip")
        | gp.take(sample)
        | gp.to_list()
    )
    started = time.perf_counter()
    for airport in airports:
        with suppress(LookupError):
            census_region(airport)
    return (time.perf_counter() - started) / len(airports)


# --8<-- [start:reasons]
def reasons(rejected: gp.DeadLetters) -> dict[str, list[str]]:
    """Every reason rows were rejected for, with the rows (code or CSV line)."""
    rows: defaultdict[str, list[str]] = defaultdict(list)
    for letter in rejected:
        item, error = letter.item, letter.exception
        if isinstance(error, gp.RecordError):
            rows["malformed CSV row"].append(f"line {error.line}")
        elif isinstance(item, Airport):
            rows[str(error)].append(item.code)
        else:
            rows[str(error)].append(item["iata"])
    return rows
    # --8<-- [end:reasons]


def summary(report: Report, source: Path, target: Path, per_lookup: float) -> str:
    one_by_one = report.lookups * per_lookup
    lines = [
        f"read      {report.rows_in:5,} rows from {os.path.relpath(source)}",
        f"loaded    {report.rows_out:5,} airports in {report.batches} batches"
        f" into {target}",
        f"rejected  {len(report.rejected):5,} rows:",
    ]
    by_count = sorted(reasons(report.rejected).items(), key=lambda kv: -len(kv[1]))
    for reason, rows in by_count:
        shown = ", ".join(rows[:3]) + (", ..." if len(rows) > 3 else "")
        lines.append(f"          {len(rows):5}  {reason}: {shown}")
    lines += [
        f"wall time {report.seconds:.2f} s for the whole job,"
        f" with {WORKERS} threads for the lookups",
        f"speed-up  {one_by_one / report.seconds:.1f}x: one by one, the"
        f" {report.lookups:,} lookups alone take {one_by_one:.1f} s"
        f" ({per_lookup * 1000:.1f} ms each)",
    ]
    return "\n".join(lines)


def main(source: Path = DATA, target: Path | None = None, *, sample: int = 100) -> None:
    if target is None:
        target = Path(tempfile.gettempdir()) / "genpipe-etl-demo" / "airports.jsonl"
        target.parent.mkdir(exist_ok=True)
    report = run(source, target)
    print(summary(report, source, target, seconds_per_lookup(source, sample)))
    print("\nwhere the time went, stage by stage:")
    print(report.metrics)


if __name__ == "__main__":
    main(target=Path(sys.argv[1]) if len(sys.argv) > 1 else None)
