"""`Source.to_mermaid`: a pipeline as a Mermaid flowchart, with figures if given."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from genpipe._metrics import MetricsTable, StageMetrics

if TYPE_CHECKING:
    from genpipe._core import Source


def mermaid(flow: Source[object], metrics: MetricsTable | None = None) -> str:
    """The flowchart of ``flow``: a rounded box for a source, a box for a stage,
    a double-edged box for a stage with threads of its own; ``metrics`` (a
    run's `Run.metrics`) adds each stage's counts, and rates on the arrows.
    """
    lines = ["flowchart LR"]
    rows = iter(metrics) if metrics is not None else None
    elapsed = metrics.elapsed_seconds if metrics is not None else 0.0
    numbers = iter(range(1_000_000))
    _draw(flow, lines, numbers, rows, elapsed)
    return "\n".join(lines) + "\n"


def _draw(
    flow: Source[object],
    lines: list[str],
    numbers: Iterator[int],
    rows: Iterator[StageMetrics] | None,
    elapsed: float,
) -> str:
    """Draw ``flow``'s nodes and arrows; return the id of its last node."""
    base, stages = flow._base, flow._stage
    feeding = [_draw(part, lines, numbers, None, elapsed) for part in base.sources]
    row = next(rows) if rows is not None else None
    node = f"n{next(numbers)}"
    # A merge's own label repeats its sources, which are drawn feeding it.
    label = base.label.partition("(")[0] if feeding else base.label
    shape = ("{{", "}}") if feeding else ("([", "])")
    lines.append(f"    {node}{shape[0]}{_text(label, row)}{shape[1]}")
    for source_node in feeding:
        lines.append(f"    {source_node} --> {node}")
    for part in () if stages is None else stages.parts:
        previous, previous_row = node, row
        row = next(rows) if rows is not None else None
        node = f"n{next(numbers)}"
        opening, closing = ("[[", "]]") if part._concurrent else ("[", "]")
        lines.append(f"    {node}{opening}{_text(part._label, row)}{closing}")
        lines.append(f"    {previous} {_arrow(previous_row, elapsed)} {node}")
    return node


def _text(label: str, row: StageMetrics | None) -> str:
    shown = _escape(label)
    if row is not None:
        shown += f"<br/>in {row.items_in:,} · out {row.items_out:,}"
        if row.errors:
            shown += f" · {row.errors:,} failed"
        if row.busy_seconds:
            shown += f"<br/>busy {row.busy_seconds:.2f} s"
    return f'"{shown}"'


def _arrow(row: StageMetrics | None, elapsed: float) -> str:
    if row is None:
        return "-->"
    rate = f", {row.items_out / elapsed:,.0f}/s" if elapsed > 0 else ""
    return f'-->|"{row.items_out:,}{rate}"|'


def _escape(label: str) -> str:
    # Mermaid's own entity codes: a quote ends the label, < and > read as HTML.
    return label.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
