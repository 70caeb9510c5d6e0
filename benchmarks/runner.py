"""The command line shared by ``python -m benchmarks`` and each workload module."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from benchmarks.harness import Settings
from benchmarks.report import Report, machine, machine_markdown

Workload = Callable[[Settings], Report]

RESULTS = Path(__file__).parent / "results"
CHART = Path(__file__).parent.parent / "docs" / "img" / "benchmarks.png"
TITLE = "# genpipe benchmarks"
#: Fewer runs than this make a median that is mostly noise.
MIN_RUNS = 5


def main(
    workloads: Mapping[str, Workload],
    argv: Sequence[str] | None = None,
    *,
    publish: bool = False,
) -> None:
    """Run the workloads named on the command line (default: all), print, save.

    Each workload's Markdown tables are printed as soon as it is done, and the
    raw runs saved to ``benchmarks/results/<names>.json``. With ``publish``
    and every workload run, that file is ``latest.json``, the tables also go
    to ``results/latest.md`` and the ratios to the docs chart. A smoke run
    prints one line per workload instead, and the tables only of a workload
    where a genpipe variant failed, which fails the run; it saves to a
    temporary directory, so it checks the writers without touching the
    committed results.
    """
    args = parse(workloads, argv)
    settings = Settings(smoke=args.smoke, runs=args.runs)
    chosen = args.workloads or list(workloads)
    complete = publish and len(chosen) == len(workloads)
    description = machine()
    if settings.smoke:
        print(
            f"benchmarks, smoke run: {len(chosen)} workloads at tiny sizes", flush=True
        )
    else:
        print(f"{TITLE}\n\n{about(description, settings)}", flush=True)
    reports = []
    for name in chosen:
        started = time.perf_counter()
        report = workloads[name](settings)
        if not settings.smoke:
            print(report.markdown(), flush=True)
        elif report.failed:
            print(f"{name}: FAILED by {', '.join(report.failed)}\n{report.markdown()}")
        else:
            print(f"{name}: ok in {time.perf_counter() - started:.1f} s", flush=True)
        reports.append(report)
    label = "latest" if complete else "-".join(chosen)
    if settings.smoke:
        with tempfile.TemporaryDirectory() as scratch:
            save(Path(scratch), label, reports, description, settings)
        if any(report.failed for report in reports):
            sys.exit(1)
        return
    save(RESULTS, label, reports, description, settings)
    if complete:
        from benchmarks.chart import draw  # matplotlib is only in the bench group

        draw(reports, CHART)
        print(f"Wrote {RESULTS / 'latest.md'} and {CHART}")


@dataclass(frozen=True)
class Arguments:
    smoke: bool
    runs: int
    workloads: list[str]


def parse(workloads: Mapping[str, Workload], argv: Sequence[str] | None) -> Arguments:
    parser = argparse.ArgumentParser(
        description="Time genpipe against hand-written code and its peers."
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny sizes and few runs: checks the benchmarks work, judges nothing",
    )
    parser.add_argument(
        "--runs",
        type=int,
        help=f"timed runs per variant (default 7, or 3 with --smoke; "
        f"at least {MIN_RUNS} without --smoke)",
    )
    if len(workloads) > 1:
        parser.add_argument(
            "workloads",
            nargs="*",
            metavar="WORKLOAD",
            help=f"run only these, out of: {', '.join(workloads)}",
        )
    args = parser.parse_args(argv)
    runs: int = args.runs if args.runs is not None else 3 if args.smoke else 7
    if runs < (1 if args.smoke else MIN_RUNS):
        parser.error(
            f"--runs must be at least {MIN_RUNS} for a full run "
            "(a median of fewer runs is mostly noise), or at least 1 with --smoke"
        )
    chosen: list[str] = getattr(args, "workloads", [])
    unknown = [name for name in chosen if name not in workloads]
    if unknown:
        parser.error(f"unknown workload {unknown[0]!r}; choose from {list(workloads)}")
    return Arguments(smoke=args.smoke, runs=runs, workloads=chosen)


def save(
    directory: Path,
    label: str,
    reports: Sequence[Report],
    description: Mapping[str, object],
    settings: Settings,
) -> None:
    """Write the raw runs as JSON and, for a complete run, the tables as Markdown."""
    directory.mkdir(parents=True, exist_ok=True)
    raw = {
        "machine": description,
        "settings": {"smoke": settings.smoke, "runs": settings.runs},
        "workloads": {report.workload: report.raw for report in reports},
    }
    (directory / f"{label}.json").write_text(json.dumps(raw, indent=1) + "\n")
    if label == "latest":
        # The docs page includes the section between the markers (snippets).
        body = "\n".join([about(description, settings), *map(Report.markdown, reports)])
        (directory / "latest.md").write_text(
            f"{TITLE}\n\n<!-- --8<-- [start:results] -->\n{body}"
            "<!-- --8<-- [end:results] -->\n"
        )


def about(description: Mapping[str, object], settings: Settings) -> str:
    """The machine, the peers' versions and how many runs each median took."""
    smoke = (
        " (smoke run: tiny sizes, the numbers mean nothing)" if settings.smoke else ""
    )
    return (
        f"{machine_markdown(description)}\n"
        f"- Timings: medians of {settings.runs} interleaved runs per variant{smoke}\n"
    )
