"""Compare a lazy stream with its eager reference, and say how they differ."""

from __future__ import annotations

import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genpipe._core import Comparison as Kind

#: An element equality: ``equal(lazy_item, eager_item)`` is truthy when they match.
Equal = Callable[[Any, Any], object]

_short = reprlib.Repr()
_short.maxlist = _short.maxtuple = _short.maxset = _short.maxdict = 8
_short.maxstring = _short.maxother = _short.maxlong = 60
_short.maxlevel = 3

_TAIL = 5


def show(value: object) -> str:
    """A repr short enough for one line of a failure message."""
    return _short.repr(value)


def show_prefix(items: Sequence[Any]) -> str:
    """``items`` as a list, eliding the start rather than the end, which matters."""
    if len(items) <= _TAIL + 1:
        return show(list(items))
    tail = ", ".join(show(item) for item in items[-_TAIL:])
    return f"[...{len(items) - _TAIL} items..., {tail}]"


def same(lazy_item: object, eager_item: object) -> bool:
    """Python's own element test for lists: identity first, then ``==``."""
    return lazy_item is eager_item or lazy_item == eager_item


@dataclass(frozen=True)
class Comparison:
    """What may legitimately differ between a lazy result and the eager one."""

    #: False: the same items, in any order.
    ordered: bool = True
    #: True: the items are groups cut differently; compare their items. A
    #: group is a list, or a ``(key, list)`` pair whose items are compared
    #: key by key (keyed groups may come in any order across keys).
    flattened: bool = False

    @classmethod
    def allowed_by(cls, kind: Kind, *, ordered: bool) -> Comparison:
        """The comparison a stage's `Stage.comparison` allows, or a looser one."""
        return cls(
            ordered=ordered and kind != "multiset", flattened=kind == "regrouped"
        )

    @property
    def name(self) -> str:
        if self.flattened:
            return "flattened" if self.ordered else "flattened multiset"
        return "exact" if self.ordered else "multiset"

    def differences(
        self, lazy: list[Any], eager: list[Any], *, complete: bool, equal: Equal
    ) -> list[str]:
        """Lines that say how ``lazy`` differs from ``eager``; none if they agree.

        When ``complete`` is false the lazy stream was not read to its end,
        so ``lazy`` need only be a prefix (or, unordered, a sub-multiset) of
        ``eager``.
        """
        if self.flattened and _keyed(lazy) and _keyed(eager):
            if self.ordered:
                return _keyed_differences(lazy, eager, complete, equal)
            lazy = [(key, item) for key, group in lazy for item in group]
            eager = [(key, item) for key, group in eager for item in group]
        elif self.flattened:
            lazy = [item for group in lazy for item in group]
            eager = [item for group in eager for item in group]
        if self.ordered:
            return _ordered_differences(lazy, eager, complete, equal, self.flattened)
        return _multiset_differences(lazy, eager, complete, equal)


def _ordered_differences(
    lazy: list[Any], eager: list[Any], complete: bool, equal: Equal, flattened: bool
) -> list[str]:
    index = _first_difference(lazy, eager, complete, equal)
    if index is None:
        return []
    where = "flattened index" if flattened else "index"
    return [
        f"first difference at {where} {index}: "
        f"lazy {_at(lazy, index)}, eager {_at(eager, index)}",
        f"shortest differing prefix: lazy {show_prefix(lazy[: index + 1])}, "
        f"eager {show_prefix(eager[: index + 1])}",
    ]


def _keyed(groups: list[Any]) -> bool:
    """Whether every group is a ``(key, list)`` pair, as ``group_by`` yields."""
    return all(
        isinstance(group, tuple) and len(group) == 2 and isinstance(group[1], list)
        for group in groups
    )


def _keyed_differences(
    lazy: list[Any], eager: list[Any], complete: bool, equal: Equal
) -> list[str]:
    lazy_items, eager_items = _items_by_key(lazy), _items_by_key(eager)
    keys = [*eager_items, *(key for key in lazy_items if key not in eager_items)]
    for key in keys:
        mine, reference = lazy_items.get(key, []), eager_items.get(key, [])
        index = _first_difference(mine, reference, complete, equal)
        if index is not None:
            return [
                f"first difference for key {show(key)} at index {index} of its "
                f"items: lazy {_at(mine, index)}, eager {_at(reference, index)}",
                f"shortest differing prefix of its items: lazy "
                f"{show_prefix(mine[: index + 1])}, eager "
                f"{show_prefix(reference[: index + 1])}",
            ]
    return []


def _items_by_key(groups: list[tuple[Any, list[Any]]]) -> dict[Any, list[Any]]:
    """Each key's items, its groups joined in the order they came."""
    joined: dict[Any, list[Any]] = {}
    for key, group in groups:
        joined.setdefault(key, []).extend(group)
    return joined


def _first_difference(
    lazy: list[Any], eager: list[Any], complete: bool, equal: Equal
) -> int | None:
    for index, (lazy_item, eager_item) in enumerate(zip(lazy, eager, strict=False)):
        if not equal(lazy_item, eager_item):
            return index
    if len(lazy) > len(eager) or (complete and len(lazy) < len(eager)):
        return min(len(lazy), len(eager))
    return None


def _at(items: list[Any], index: int) -> str:
    return show(items[index]) if index < len(items) else "(ended)"


def _multiset_differences(
    lazy: list[Any], eager: list[Any], complete: bool, equal: Equal
) -> list[str]:
    # Search from the front: concurrent stages emit nearly in input order, so
    # a match is usually among the first few candidates.
    unmatched = list(eager)
    extra: list[Any] = []
    for item in lazy:
        match = next((i for i, c in enumerate(unmatched) if equal(item, c)), None)
        if match is None:
            extra.append(item)
        else:
            del unmatched[match]
    lines = []
    if extra:
        lines.append(f"only in the lazy result: {show(extra)}")
    if complete and unmatched:
        lines.append(f"only in the eager result: {show(unmatched)}")
    return lines
