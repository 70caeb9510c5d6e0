"""What a workload reports: Markdown tables for people, raw runs for JSON."""

from __future__ import annotations

import importlib.metadata
import os
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.harness import Measured

#: Every package the benchmarks compare against, for the machine description.
PEERS = ("toolz", "cytoolz", "more-itertools", "pypeln", "streamable")


@dataclass(frozen=True)
class Table:
    """A titled Markdown table."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            "| " + " | ".join(self.headers) + " |",
            "|"
            + "|".join("---" if i == 0 else "--:" for i in range(len(self.headers)))
            + "|",
        ]
        lines += ["| " + " | ".join(row) + " |" for row in self.rows]
        return "\n".join(lines)


@dataclass(frozen=True)
class Report:
    """Everything one workload found.

    ``ratios`` (variant name to time relative to ``baseline``, lower is
    faster) feeds the chart; workloads judged pass/fail leave it empty, and
    name in ``failed`` the genpipe variants that did not pass (a smoke run
    fails on any). ``raw`` holds every measured number, for the JSON file.
    """

    workload: str
    summary: str
    tables: tuple[Table, ...]
    raw: Mapping[str, object]
    baseline: str = ""
    ratios: Mapping[str, float] = field(default_factory=dict)
    failed: tuple[str, ...] = ()

    def markdown(self) -> str:
        parts = [f"## {self.workload}", "", self.summary]
        parts += ["\n" + table.markdown() for table in self.tables]
        return "\n".join(parts) + "\n"


def speed_table(
    title: str, measured: Sequence[Measured], items: int, baselines: Sequence[str]
) -> Table:
    """Median ns per item, its spread over the runs, and ratios to each baseline.

    A ratio below 1 means faster than that baseline.
    """
    medians = {each.name: each.median for each in measured if not each.missing}
    headers: tuple[str, ...] = ("variant", "ns/item (median)", "range of runs, ns/item")
    headers += tuple(f"vs {name}" for name in baselines)
    rows = []
    for each in measured:
        if each.missing:
            rows.append((each.name, each.missing) + ("—",) * (len(headers) - 2))
            continue
        per_item = [seconds / items * 1e9 for seconds in each.seconds]
        ratios = tuple(
            ratio_text(each.median, medians.get(baseline)) for baseline in baselines
        )
        spread = f"{min(per_item):.1f}-{max(per_item):.1f}"
        rows.append((each.name, f"{each.median / items * 1e9:.1f}", spread, *ratios))
    return Table(title, headers, tuple(rows))


def ratio_text(value: float, baseline: float | None) -> str:
    return "—" if baseline is None else f"{value / baseline:.2f}x"


def ratios_to(measured: Sequence[Measured], baseline: str) -> dict[str, float]:
    """Each installed variant's median time divided by the baseline's."""
    medians = {each.name: each.median for each in measured if not each.missing}
    if baseline not in medians:
        return {}
    return {name: median / medians[baseline] for name, median in medians.items()}


def raw_runs(measured: Sequence[Measured]) -> dict[str, object]:
    """Every run's seconds per variant (or why it did not run), for the JSON file."""
    return {
        each.name: {"missing": each.missing}
        if each.missing
        else {"seconds": list(each.seconds), "median": each.median}
        for each in measured
    }


def machine() -> dict[str, object]:
    """What the numbers were measured on: CPU, cores, Python, peer versions."""
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "peers": {name: installed_version(name) for name in PEERS},
    }


def machine_markdown(description: Mapping[str, object]) -> str:
    peers = description["peers"]
    assert isinstance(peers, Mapping)
    versions = ", ".join(f"{name} {version}" for name, version in peers.items())
    return (
        f"- Machine: {description['cpu']}, {description['cores']} cores, "
        f"{description['platform']}\n"
        f"- Python: {description['python']}\n"
        f"- Peers: {versions}"
    )


def cpu_model() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor() or platform.machine()


def installed_version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
