"""Run a pipeline's lazy face once, recording the stream between every two stages."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from genpipe._core import Stage
from genpipe._run import close_chain


@dataclass
class Tape:
    """The items that went past one point of a lazy run, in the order they went."""

    items: list[Any] = field(default_factory=list)
    #: True when the stream at this point was read to its end; False when the
    #: reader stopped early (a later `take`) and the tape holds only a prefix.
    complete: bool = False


def _recording(stream: Iterable[Any], tape: Tape) -> Iterator[Any]:
    for item in stream:
        tape.items.append(item)
        yield item
    tape.complete = True


def run_recorded(head: Iterator[Any], parts: tuple[Stage[Any, Any], ...]) -> list[Tape]:
    """Pull the whole lazy pipeline ``head | parts[0] | ...`` and close it.

    The result holds one tape per point of the pipeline: ``tapes[0]`` is what
    the first stage pulled from ``head``, ``tapes[k]`` what stage ``k`` (from
    1) yielded to its reader. The recorders only pass items on, so the stages
    run exactly as in ``list(pipeline(items))``, in one pass.
    """
    tapes = [Tape() for _ in range(len(parts) + 1)]
    chain = [head, _recording(head, tapes[0])]
    for part, tape in zip(parts, tapes[1:], strict=True):
        chain.append(part(chain[-1]))
        chain.append(_recording(chain[-1], tape))
    try:
        deque(chain[-1], maxlen=0)
    finally:
        close_chain(chain)
    return tapes
