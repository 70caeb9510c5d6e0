"""progress: a tqdm progress bar for the items that pass a point of the pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from genpipe._core import Stage, call_repr
from genpipe._validate import check_int

T = TypeVar("T")


def progress(
    desc: str | None = None, *, total: int | None = None, **tqdm_options: Any
) -> Stage[T, T]:
    """Show a progress bar counting the items that pass, and pass them on.

    It needs tqdm (``pip install genpipe[progress]``). ``total`` gives the
    bar an end and an ETA; other keywords go to `tqdm.tqdm` (``unit=``,
    ``file=``, ``mininterval=`` ...). Each run of the pipeline gets a fresh
    bar, closed when the stream ends, is closed, or stops early. An item is
    counted when it is handed downstream. Place it where the count means
    something to you: after a filter it counts what was kept.

    Sharp edge: tqdm draws on stderr by default; pass ``disable=True`` (or
    leave it out of batch jobs) where nobody watches a terminal. A disabled
    bar costs nothing per item.

    >>> import io
    >>> import genpipe as gp
    >>> screen = io.StringIO()
    >>> range(3) | gp.progress("rows", file=screen, ascii=True) | gp.to_list()
    [0, 1, 2]
    >>> "rows: 3it" in screen.getvalue()
    True
    """
    try:
        from tqdm import tqdm
    except ImportError:
        raise ImportError(
            "progress() needs tqdm: pip install genpipe[progress]"
        ) from None
    if desc is not None and not isinstance(desc, str):
        raise TypeError(f"progress() needs a str for desc, got {desc!r}")
    if total is not None:
        check_int("progress", "total", total, minimum=0)

    def counted(items: Iterable[T]) -> Iterator[T]:
        bar = tqdm(desc=desc, total=total, **tqdm_options)
        if bar.disable:
            # A bar nobody sees costs nothing: the items go past untouched.
            bar.close()
            return iter(items)
        return _counting(items, bar)

    shown_desc = [desc] if desc is not None else []
    shown_total = {"total": total} if total is not None else {}
    return Stage(counted, list, call_repr("progress", *shown_desc, **shown_total))


def _counting(items: Iterable[T], bar: Any) -> Iterator[T]:
    with bar:
        for item in items:
            bar.update()
            yield item
