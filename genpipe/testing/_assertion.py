"""`assert_lazy_equals_eager`: run both faces of a pipeline and explain a difference."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from genpipe._core import Comparison as Kind
from genpipe._core import Sink, Source, Stage, describe, source_parts
from genpipe.testing._compare import Comparison, Equal, same, show
from genpipe.testing._record import Tape, run_recorded

T = TypeVar("T")

_NOT_GIVEN: Any = object()


@overload
def assert_lazy_equals_eager(
    pipeline: Stage[T, Any],
    items: Iterable[T],
    *,
    ordered: bool = True,
    equal: Callable[[Any, Any], object] | None = None,
) -> None: ...
@overload
def assert_lazy_equals_eager(
    pipeline: Source[Any],
    *,
    ordered: bool = True,
    equal: Callable[[Any, Any], object] | None = None,
) -> None: ...
def assert_lazy_equals_eager(
    pipeline: Stage[Any, Any] | Source[Any],
    items: Iterable[Any] = _NOT_GIVEN,
    *,
    ordered: bool = True,
    equal: Callable[[Any, Any], object] | None = None,
) -> None:
    """Check that streaming ``pipeline`` gives what its eager face computes.

    Pass a stage and its input items, or a `Source` alone (its base must be
    finite). The lazy face runs once, end to end, as ``list(...)`` would run
    it; the eager face runs stage by stage on lists. A difference raises
    `AssertionError` saying which comparison was used, where the results
    first differ, the shortest differing prefixes, and the first stage whose
    lazy output differs from its eager output on the same input.

    The comparison follows the stages' `Stage.comparison`: exact, unless a
    stage may reorder (``thread_map(ordered=False)``, `merge`: compared as
    multisets) or regroup (``batch(max_wait=...)``: compared flattened).
    Stages after such a stage depend on the order it happened to yield, so
    the check then goes piece by piece: each later piece must turn what the
    lazy run actually fed it into what its eager face computes from that.
    ``ordered=False`` compares every piece as a multiset, for stages of your
    own that reorder. ``equal(lazy_item, eager_item)`` replaces ``==`` for
    every item compared, including the items between stages.

    An exception from either run propagates unchanged, with a note saying
    which run raised it.

    Sharp edge: both runs see the same input objects, so a function that
    mutates its argument in place makes them disagree.

    >>> import genpipe as gp
    >>> from genpipe.testing import assert_lazy_equals_eager
    >>> assert_lazy_equals_eager(gp.map(abs) | gp.window(2), [-1, 2, -3])
    >>> seen = []
    >>> def seen_so_far(n):
    ...     return len(seen)
    >>> leaky = gp.tap(seen.append) | gp.map(seen_so_far)
    >>> assert_lazy_equals_eager(leaky, [7, 8])
    Traceback (most recent call last):
    ...
    AssertionError: lazy and eager results differ
      pipeline: tap(list.append) | map(seen_so_far)
      input: [7, 8]
      comparison: exact, as every stage keeps order and grouping
      first difference at index 0: lazy 1, eager 4
      shortest differing prefix: lazy [1], eager [4]
      first stage to diverge: map(seen_so_far) (stage 2 of 2)
        its input: [7, 8]
        lazy output: [1, 2]
        eager output: [4, 4]
    """
    __tracebackhide__ = True  # pytest shows the caller's line, not this one
    subject = _Subject.of(pipeline, items)
    with _noted(f"raised while running the lazy face of {subject.label}"):
        tapes = run_recorded(subject.open_input(), subject.parts)
    with _noted(f"raised while comparing with the eager face of {subject.label}"):
        failure = subject.failure(tapes, ordered=ordered, equal=equal or same)
    if failure is not None:
        raise AssertionError(failure)


@contextmanager
def _noted(note: str) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        exc.add_note(note)
        raise


@dataclass(frozen=True)
class _Subject:
    """A pipeline under test: its input, as each face sees it, and its stages."""

    label: str
    parts: tuple[Stage[Any, Any], ...]
    #: The input as the eager face sees it.
    reference: list[Any]
    #: The source's label, for a `Source`; None when the caller gave items.
    source_label: str | None = None
    #: Opens the input as the lazy face sees it; None: it reads ``reference``.
    open_lazy: Callable[[], Iterator[Any]] | None = None
    #: What may differ between the two inputs (a `merge` source's order).
    input_kind: Kind = "exact"

    @classmethod
    def of(cls, pipeline: object, items: Iterable[Any]) -> _Subject:
        if isinstance(pipeline, Stage):
            if items is _NOT_GIVEN:
                raise TypeError(
                    "assert_lazy_equals_eager() needs the input items for a "
                    "stage: pass them second, or pipe them into it first"
                )
            return cls(repr(pipeline), pipeline.parts, list(items))
        if isinstance(pipeline, Source):
            if items is not _NOT_GIVEN:
                raise TypeError(
                    "assert_lazy_equals_eager() takes no items with a Source: "
                    "the source already holds its input"
                )
            base, parts = source_parts(pipeline)
            reference = base.materialise()
            if base.one_shot:
                # It cannot be read twice: both faces get the one reading.
                return cls(repr(pipeline), parts, reference, base.label)
            return cls(
                repr(pipeline),
                parts,
                reference,
                base.label,
                open_lazy=base.open,
                input_kind=base.comparison,
            )
        hint = " without its sink" if isinstance(pipeline, Sink) else ""
        raise TypeError(
            "assert_lazy_equals_eager() checks a Stage (with items) or a "
            f"Source; pass the pipeline{hint}, got {describe(pipeline)}"
        )

    def open_input(self) -> Iterator[Any]:
        return iter(self.reference) if self.open_lazy is None else self.open_lazy()

    def failure(self, tapes: list[Tape], *, ordered: bool, equal: Equal) -> str | None:
        """Why the recorded lazy run disagrees with the eager face, or None."""
        source = Comparison.allowed_by(self.input_kind, ordered=ordered)
        lines = source.differences(
            tapes[0].items, self.reference, complete=tapes[0].complete, equal=equal
        )
        if lines:
            culprit = [f"first stage to diverge: the source {self.source_label}"]
            return self._message(self._explain(ordered, source, None), lines, culprit)
        start = 0
        for end in self._piece_ends():
            lines, culprit = self._piece_failure(tapes, start, end, ordered, equal)
            if lines:
                comparison = self._comparison_at(end, ordered)
                how = self._explain(ordered, comparison, (start, end))
                return self._message(how, lines, culprit)
            start = end
        return None

    def _piece_ends(self) -> list[int]:
        """Where the check is cut: after every stage that may reorder or regroup.

        Its output is compared loosely; the stages after it must then turn
        the items it actually yielded into what their eager face computes.
        """
        cuts = {k for k, part in enumerate(self.parts, 1) if part.comparison != "exact"}
        return sorted((cuts | {len(self.parts)}) - {0})

    def _comparison_at(self, point: int, ordered: bool) -> Comparison:
        kind = self.input_kind if point == 0 else self.parts[point - 1].comparison
        return Comparison.allowed_by(kind, ordered=ordered)

    def _piece_failure(
        self, tapes: list[Tape], start: int, end: int, ordered: bool, equal: Equal
    ) -> tuple[list[str], list[str]]:
        """How stages ``start..end`` (a piece) failed, and which stage did it."""
        loose_input = start > 0 or self.input_kind != "exact"
        outputs = [tapes[start].items if loose_input else self.reference]
        for part in self.parts[start:end]:
            outputs.append(part.eager(outputs[-1]))
        lines = self._comparison_at(end, ordered).differences(
            tapes[end].items, outputs[-1], complete=tapes[end].complete, equal=equal
        )
        if not lines:
            return [], []
        # The piece's last stage differs at worst, so some stage does.
        point = next(
            point
            for point in range(start + 1, end + 1)
            if self._comparison_at(point, ordered).differences(
                tapes[point].items,
                outputs[point - start],
                complete=tapes[point].complete,
                equal=equal,
            )
        )
        read = "" if tapes[point].complete else " (read no further)"
        return lines, [
            f"first stage to diverge: {self.parts[point - 1]!r} "
            f"(stage {point} of {len(self.parts)})",
            f"  its input: {show(outputs[point - start - 1])}",
            f"  lazy output: {show(tapes[point].items)}{read}",
            f"  eager output: {show(outputs[point - start])}",
        ]

    def _explain(
        self, ordered: bool, used: Comparison, piece: tuple[int, int] | None
    ) -> str:
        """Which comparison was used, and why."""
        loose = (
            [(self.source_label, self.input_kind)] if self.input_kind != "exact" else []
        )
        loose += [
            (repr(p), p.comparison) for p in self.parts if p.comparison != "exact"
        ]
        if not loose:
            why = (
                "as every stage keeps order and grouping"
                if ordered
                else "as ordered=False"
            )
            return f"{used.name}, {why}"
        reasons = "; ".join(_reason(label, kind) for label, kind in loose)
        whole = (0, len(self.parts))
        if len(loose) == 1 and piece == whole and self.input_kind == "exact":
            return f"{used.name}, because {reasons}"
        where = (
            "the source"
            if piece is None
            else (" | ".join(repr(p) for p in self.parts[piece[0] : piece[1]]))
        )
        return (
            f"piece by piece, because {reasons}; the stages after such a stage "
            "are checked against what it actually yielded"
            f"\n  failing piece: {where} ({used.name})"
        )

    def _message(self, how: str, lines: list[str], culprit: list[str]) -> str:
        header = ["lazy and eager results differ", f"pipeline: {self.label}"]
        if self.source_label is None:
            header.append(f"input: {show(self.reference)}")
        header.append(f"comparison: {how}")
        return "\n  ".join([*header, *lines, *culprit])


def _reason(label: str | None, kind: Kind) -> str:
    if kind == "multiset":
        return f"{label} yields items in the order they complete"
    return f"{label} groups items by timing"
