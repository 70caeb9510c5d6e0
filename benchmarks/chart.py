"""The docs chart: each timed workload's variants as time relative to its baseline.

matplotlib is in the ``bench`` dependency group only, so this module is
imported only by a full run.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

from benchmarks.report import Report

matplotlib.use("Agg")  # no display: render straight to a file

import matplotlib.pyplot as plt

GENPIPE_COLOUR = "#d62728"
PEER_COLOUR = "#7f7f7f"


def draw(reports: Sequence[Report], path: Path) -> None:
    """One panel per workload with ratios, on a shared log scale; genpipe in red.

    A log scale keeps a 0.8x and a 30x bar readable in one figure; the dashed
    line at 1 is each workload's baseline.
    """
    charted = [report for report in reports if report.ratios]
    heights = [len(report.ratios) for report in charted]
    figure, axes = plt.subplots(
        len(charted),
        1,
        figsize=(8, 0.32 * sum(heights) + 1.1 * len(charted)),
        gridspec_kw={"height_ratios": heights},
        sharex=True,
        squeeze=False,
    )
    for axis, report in zip(axes[:, 0], charted, strict=True):
        names = list(report.ratios)
        ratios = [report.ratios[name] for name in names]
        colours = [
            GENPIPE_COLOUR if name.startswith("genpipe") else PEER_COLOUR
            for name in names
        ]
        axis.barh(names, ratios, color=colours)
        axis.invert_yaxis()
        axis.axvline(1.0, color="black", linestyle="--", linewidth=0.8)
        for position, ratio in enumerate(ratios):
            axis.annotate(
                f"{ratio:.2f}x",
                (ratio, position),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        axis.set_title(
            f"{report.workload}  (baseline: {report.baseline})", fontsize=10, loc="left"
        )
        axis.set_xscale("log")
    every_ratio = [ratio for report in charted for ratio in report.ratios.values()]
    # Room on the right for the longest bar's label.
    axes[-1, 0].set_xlim(min(every_ratio) / 1.5, max(every_ratio) * 3)
    axes[-1, 0].set_xlabel("time relative to the baseline (log scale; lower is faster)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
