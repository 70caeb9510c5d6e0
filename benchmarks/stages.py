"""``stages``: every sequential catalog stage against its fastest peer.

Each stage runs on a million ints (100,000 for the heavier ones) next to the
functions of the standard library, more-itertools, toolz and cytoolz that do
the same job, all consumed to the end by a zero-length ``deque``, which is
what ``gp.drain()`` does. Peers are split by what they are written in:
Python (more-itertools, toolz, a hand-written generator), like genpipe, or C
(builtins, itertools, functools, cytoolz). Python libraries often hand the
per-item loop to itertools, as genpipe does. The target is genpipe at most
1.05x its fastest Python peer; the C peers show what an extension module
would buy. Before timing, every variant's
output on a short input is checked against genpipe's, so a peer that does
a different job cannot win.
"""

from __future__ import annotations

import collections
import functools
import importlib
import itertools
import operator
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import genpipe as gp
from benchmarks.harness import Measured, Settings, Variant, measure
from benchmarks.report import Report, Table, raw_runs
from benchmarks.runner import main
from benchmarks.streams import add_one, drain, not_multiple_of_3

#: A lazy transform, or a sink, applied to the whole input.
Transform = Callable[[list[Any]], Any]

PYTHON = "Python"
C = "C"
#: What genpipe's time may be at most, relative to its fastest Python peer.
TARGET = 1.05


@dataclass(frozen=True)
class Peer:
    """A peer's way of doing a case's job."""

    name: str
    #: Imports what it needs and returns the transform; ImportError: missing.
    setup: Callable[[], Transform]

    @property
    def written_in(self) -> str:
        """Python for a library written in Python (or hand-written code), else C."""
        python = self.name.startswith(("toolz.", "more_itertools.", "hand-written"))
        return PYTHON if python else C


@dataclass(frozen=True)
class Case:
    """One stage, its input, and the peers that compute the same output."""

    #: The stage (or sink) as code, for the table.
    label: str
    #: genpipe's way: the stage applied to the input, or the sink's result.
    genpipe: Transform
    peers: tuple[Peer, ...]
    heavy: bool = False
    sink: bool = False
    #: Makes the input of ``size`` items.
    data: Callable[[int], list[Any]] = lambda size: list(range(size))
    #: Puts an output in one form (peers yield tuples where genpipe has lists).
    normal: Callable[[Any], Any] = list
    #: Why genpipe may miss the target here, for the notes column.
    note: str = ""


def stage_case(
    stage: gp.Stage[Any, Any], peers: tuple[Peer, ...], **options: Any
) -> Case:
    return Case(repr(stage), lambda items: items | stage, peers, **options)


def sink_case(
    sink: gp.Sink[Any, Any], peers: tuple[Peer, ...], *, note: str = ""
) -> Case:
    return Case(
        repr(sink),
        lambda items: items | sink,
        peers,
        sink=True,
        normal=_same,
        note=note,
    )


def _same(result: object) -> object:
    return result


def peer(name: str, make: Callable[[], Transform]) -> Peer:
    return Peer(name, make)


def module(name: str) -> Any:
    """Import a peer module; an ImportError marks its variants not installed."""
    return importlib.import_module(name)


def generator_of(step: Callable[[Iterable[Any]], Iterator[Any]]) -> Peer:
    """The hand-written generator function a user would write instead."""
    return Peer("hand-written generator", lambda: step)


# -- hand-written generators, the Python peer where no library has one --------


def mapped(items: Iterable[int]) -> Iterator[int]:
    for x in items:
        yield add_one(x)


def filtered(items: Iterable[int]) -> Iterator[int]:
    for x in items:
        if not_multiple_of_3(x):
            yield x


def twice(x: int) -> tuple[int, int]:
    return (x, x)


def flat_mapped(items: Iterable[int]) -> Iterator[int]:
    for x in items:
        yield from twice(x)


def tapped(items: Iterable[int]) -> Iterator[int]:
    for x in items:
        add_one(x)
        yield x


def sorted_lazily(items: Iterable[int]) -> Iterator[int]:
    yield from sorted(items, key=negate)


def negate(x: int) -> int:
    return -x


def tens(x: int) -> int:
    return x // 10


def mod_100(x: int) -> int:
    return x % 100


def below(limit: int) -> Callable[[int], bool]:
    return lambda x: x < limit


def keyed_buckets(items: Iterable[int]) -> Iterator[tuple[int, list[int]]]:
    """group_by(mod_100, size=10) written out: one dict of open lists."""
    buckets: dict[int, list[int]] = {}
    for x in items:
        k = mod_100(x)
        bucket = buckets.setdefault(k, [])
        bucket.append(x)
        if len(bucket) == 10:
            del buckets[k]
            yield k, bucket
    yield from buckets.items()


def windows(items: Iterable[int]) -> Iterator[tuple[int, ...]]:
    window: collections.deque[int] = collections.deque(maxlen=3)
    for x in items:
        window.append(x)
        if len(window) == 3:
            yield tuple(window)


def chained(parts: Iterable[Iterable[int]]) -> Iterator[int]:
    for part in parts:
        yield from part


def halves(size: int) -> list[list[int]]:
    return [list(range(size // 2)), list(range(size // 2, size))]


def repeats(size: int) -> list[int]:
    """Each value twice, far apart: half the items are repeats."""
    return [x % (size // 2 or 1) for x in range(size)]


def rows(size: int) -> list[list[int]]:
    return [list(range(i, i + 10)) for i in range(0, size, 10)]


def pairs(size: int) -> list[tuple[int, int]]:
    return [(x, x) for x in range(size)]


def items_of(group: Any) -> list[Any]:
    """A group's items, whether it is ``(key, list)`` or a plain sequence."""
    keyed = len(group) == 2 and isinstance(group[1], list)
    return list(group[1] if keyed else group)


def listed(
    groups: Iterable[tuple[Any, Iterable[Any]]],
) -> Iterator[tuple[Any, list[Any]]]:
    return ((k, list(group)) for k, group in groups)


def cases(size: int) -> list[Case]:
    """Every case, for an input of ``size`` items (the heavy ones get a tenth)."""
    half = size // 2
    return [
        stage_case(
            gp.map(add_one),
            (
                generator_of(mapped),
                peer("builtin map", lambda: functools.partial(map, add_one)),
            ),
            note="runs builtin map",
        ),
        stage_case(
            gp.filter(not_multiple_of_3),
            (
                generator_of(filtered),
                peer(
                    "builtin filter",
                    lambda: functools.partial(filter, not_multiple_of_3),
                ),
            ),
            note="runs builtin filter",
        ),
        stage_case(
            gp.flat_map(twice),
            (
                generator_of(flat_mapped),
                peer(
                    "toolz.mapcat",
                    lambda: functools.partial(module("toolz").mapcat, twice),
                ),
                peer(
                    "itertools.chain.from_iterable(map(...))",
                    lambda: (
                        lambda items: itertools.chain.from_iterable(map(twice, items))
                    ),
                ),
            ),
            note="runs itertools.chain over builtin map",
        ),
        stage_case(
            gp.starmap(operator.add),
            (
                peer(
                    "itertools.starmap",
                    lambda: functools.partial(itertools.starmap, operator.add),
                ),
            ),
            data=pairs,
            note="runs itertools.starmap",
        ),
        stage_case(
            gp.flatten(),
            (
                peer(
                    "more_itertools.flatten",
                    lambda: module("more_itertools").flatten,
                ),
                peer("toolz.concat", lambda: module("toolz").concat),
                peer("cytoolz.concat", lambda: module("cytoolz").concat),
                peer("itertools.chain.from_iterable", lambda: _from_iterable),
            ),
            data=rows,
            note="runs itertools.chain.from_iterable",
        ),
        stage_case(
            gp.tap(add_one),
            (
                generator_of(tapped),
                peer(
                    "more_itertools.side_effect",
                    lambda: functools.partial(
                        module("more_itertools").side_effect, add_one
                    ),
                ),
            ),
            note="a Python loop",
        ),
        stage_case(
            gp.enumerate(),
            (peer("builtin enumerate", lambda: enumerate),),
            note="runs builtin enumerate",
        ),
        stage_case(
            gp.scan(operator.add),
            (
                peer(
                    "toolz.accumulate",
                    lambda: functools.partial(module("toolz").accumulate, operator.add),
                ),
                peer(
                    "cytoolz.accumulate",
                    lambda: functools.partial(
                        module("cytoolz").accumulate, operator.add
                    ),
                ),
                peer(
                    "itertools.accumulate",
                    lambda: lambda items: itertools.accumulate(items, operator.add),
                ),
            ),
            note="runs itertools.accumulate",
        ),
        stage_case(
            gp.sort(key=negate),
            (generator_of(sorted_lazily), peer("sorted", _sorted_by_negation)),
            heavy=True,
            note="runs sorted in a generator",
        ),
        stage_case(
            gp.take(half),
            (
                peer("toolz.take", lambda: _first(module("toolz").take, half)),
                peer("cytoolz.take", lambda: _first(module("cytoolz").take, half)),
                peer(
                    "itertools.islice",
                    lambda: lambda items: itertools.islice(items, half),
                ),
            ),
            note="runs itertools.islice",
        ),
        stage_case(
            gp.skip(half),
            (
                peer("toolz.drop", lambda: _first(module("toolz").drop, half)),
                peer("cytoolz.drop", lambda: _first(module("cytoolz").drop, half)),
                peer(
                    "itertools.islice",
                    lambda: lambda items: itertools.islice(items, half, None),
                ),
            ),
            note="runs itertools.islice",
        ),
        stage_case(
            gp.take_while(below(size)),
            (
                peer(
                    "itertools.takewhile",
                    lambda: functools.partial(itertools.takewhile, below(size)),
                ),
            ),
            note="runs itertools.takewhile",
        ),
        stage_case(
            gp.drop_while(below(half)),
            (
                peer(
                    "itertools.dropwhile",
                    lambda: functools.partial(itertools.dropwhile, below(half)),
                ),
            ),
            note="runs itertools.dropwhile",
        ),
        stage_case(
            gp.distinct(),
            (
                peer(
                    "more_itertools.unique_everseen",
                    lambda: module("more_itertools").unique_everseen,
                ),
                peer("toolz.unique", lambda: module("toolz").unique),
                peer("cytoolz.unique", lambda: module("cytoolz").unique),
            ),
            data=repeats,
            note=(
                "a Python loop that names an unhashable item in its error; "
                "more-itertools skips repeats in C with filterfalse, which "
                "cannot tell which item was unhashable"
            ),
        ),
        stage_case(
            gp.distinct(key=negate),
            (
                peer(
                    "more_itertools.unique_everseen",
                    lambda: functools.partial(
                        module("more_itertools").unique_everseen, key=negate
                    ),
                ),
                peer(
                    "toolz.unique",
                    lambda: functools.partial(module("toolz").unique, key=negate),
                ),
                peer(
                    "cytoolz.unique",
                    lambda: functools.partial(module("cytoolz").unique, key=negate),
                ),
            ),
            data=repeats,
            note="a Python loop, as toolz.unique",
        ),
        stage_case(
            gp.batch(100),
            (
                peer(
                    "more_itertools.chunked",
                    lambda: functools.partial(module("more_itertools").chunked, n=100),
                ),
                peer(
                    "toolz.partition_all",
                    lambda: functools.partial(module("toolz").partition_all, 100),
                ),
                peer(
                    "cytoolz.partition_all",
                    lambda: functools.partial(module("cytoolz").partition_all, 100),
                ),
                *_batched(),
            ),
            normal=lambda batches: [list(batch) for batch in batches],
            note=(
                "lists, as more_itertools.chunked makes; toolz.partition_all "
                "builds tuples with zip_longest, which would lose a partial "
                "batch when upstream fails"
            ),
        ),
        stage_case(
            gp.window(3),
            (
                generator_of(windows),
                peer(
                    "more_itertools.sliding_window",
                    lambda: functools.partial(
                        module("more_itertools").sliding_window, n=3
                    ),
                ),
                peer(
                    "more_itertools.windowed",
                    lambda: functools.partial(module("more_itertools").windowed, n=3),
                ),
                peer(
                    "toolz.sliding_window",
                    lambda: functools.partial(module("toolz").sliding_window, 3),
                ),
                peer(
                    "cytoolz.sliding_window",
                    lambda: functools.partial(module("cytoolz").sliding_window, 3),
                ),
            ),
            note=(
                "zip over itertools.tee copies, behind one itertools.chain "
                "that keeps it lazy (more-itertools and toolz advance their "
                "copies when called)"
            ),
        ),
        stage_case(
            gp.pairwise(),
            (
                peer(
                    "toolz.sliding_window(2)",
                    lambda: functools.partial(module("toolz").sliding_window, 2),
                ),
                peer("itertools.pairwise", lambda: itertools.pairwise),
            ),
            note=(
                "the zip of window(2), which reuses its tuples; "
                "itertools.pairwise from Python 3.13, which does too"
            ),
        ),
        stage_case(
            gp.group_by(tens),
            (
                peer(
                    "toolz.partitionby",
                    lambda: functools.partial(module("toolz").partitionby, tens),
                ),
                peer(
                    "itertools.groupby",
                    lambda: lambda items: listed(itertools.groupby(items, tens)),
                ),
            ),
            normal=lambda groups: [items_of(group) for group in groups],
            note="runs itertools.groupby; one Python step per group",
        ),
        stage_case(
            gp.group_by(mod_100, size=10),
            (generator_of(keyed_buckets),),
            heavy=True,
            note=(
                "the bucket rules are one small class, shared with the timed "
                "group_by: one method call per item"
            ),
        ),
        Case(
            "chain(first_half, second_half)",
            lambda parts: gp.chain(*parts),
            (
                generator_of(chained),
                peer("toolz.concat", lambda: module("toolz").concat),
                peer("itertools.chain.from_iterable", lambda: _from_iterable),
            ),
            data=halves,
            note="runs itertools.chain.from_iterable, closing each part as it ends",
        ),
        sink_case(
            gp.reduce(operator.add),
            (
                peer(
                    "toolz.reduce",
                    lambda: functools.partial(module("toolz").reduce, operator.add),
                ),
                peer(
                    "functools.reduce",
                    lambda: functools.partial(functools.reduce, operator.add),
                ),
            ),
            note="runs functools.reduce",
        ),
        sink_case(
            gp.for_each(add_one),
            (
                peer("hand-written loop", lambda: _each_in_a_loop),
                peer(
                    "more_itertools.consume(map(...))",
                    lambda: _consumed(module("more_itertools").consume),
                ),
            ),
            note="a Python loop, which calls a Python fn as fast as builtin map",
        ),
    ]


def _from_iterable(items: Iterable[Iterable[int]]) -> Iterator[int]:
    return itertools.chain.from_iterable(items)


def _sorted_by_negation() -> Transform:
    return lambda items: sorted(items, key=negate)


def _first(take: Callable[[int, Iterable[int]], Iterator[int]], n: int) -> Transform:
    return functools.partial(take, n)


def _batched() -> tuple[Peer, ...]:
    batched = getattr(itertools, "batched", None)  # Python 3.12 and later
    if batched is None:
        return ()
    return (peer("itertools.batched", lambda: functools.partial(batched, n=100)),)


def _consumed(consume: Callable[[Iterator[int]], None]) -> Transform:
    return lambda items: consume(map(add_one, items))


def _each_in_a_loop(items: Iterable[int]) -> None:
    for x in items:
        add_one(x)


def check(case: Case, transforms: dict[str, Transform]) -> None:
    """Fail unless every peer computes what genpipe does on a short input."""
    data = case.data(1000)
    outputs = {
        name: case.normal(fn(data) if case.sink else list(fn(data)))
        for name, fn in transforms.items()
    }
    for name, output in outputs.items():
        if output != outputs["genpipe"]:
            raise AssertionError(f"{name} computes something else than {case.label}")


def timed(case: Case, fn: Transform, data: list[Any]) -> Callable[[], object]:
    if case.sink:
        return lambda: fn(data)
    return lambda: drain(fn(data))


def measure_case(case: Case, size: int, runs: int) -> list[tuple[Peer, Measured]]:
    """genpipe first, then each peer, interleaved; outputs checked first."""
    every = (Peer("genpipe", lambda: case.genpipe), *case.peers)
    ready: dict[str, Transform] = {}
    for each in every:
        try:
            ready[each.name] = each.setup()
        except ImportError:
            continue
    check(case, ready)
    data = case.data(size)

    def variant(each: Peer) -> Variant:
        return Variant(each.name, lambda: timed(case, each.setup(), data))

    return list(
        zip(every, measure([variant(each) for each in every], runs), strict=True)
    )


def best(result: Measured) -> float:
    """A variant's fastest run: what it costs when nothing else gets in the way."""
    return min(result.seconds)


def paired_ratio(result: Measured, peer: Measured) -> float:
    """The median over rounds of one variant's time over the other's.

    The two ran next to each other in each round, so a slow stretch of the
    machine slows both: stages this cheap move by tens of percent from one
    round to the next, their ratio in the same round far less.
    """
    return statistics.median(
        mine / theirs for mine, theirs in zip(result.seconds, peer.seconds, strict=True)
    )


def fastest(measured: list[tuple[Peer, Measured]], written_in: str) -> Measured | None:
    """The quickest installed peer written in ``written_in``."""
    candidates = [
        result
        for each, result in measured[1:]
        if each.written_in == written_in and not result.missing
    ]
    return min(candidates, key=best, default=None)


def row(
    case: Case, size: int, measured: list[tuple[Peer, Measured]]
) -> tuple[str, ...]:
    genpipe = measured[0][1]

    def against(peer: Measured | None) -> tuple[str, str]:
        if peer is None:
            return "—", "—"
        return peer.name, f"{paired_ratio(genpipe, peer):.2f}x"

    python = fastest(measured, PYTHON)
    if python is None:
        met = "—"
    else:
        met = "yes" if paired_ratio(genpipe, python) <= TARGET else "no"
    return (
        case.label,
        f"{size:,}",
        f"{best(genpipe) / size * 1e9:.1f}",
        *against(python),
        met,
        *against(fastest(measured, C)),
        case.note,
    )


def run(settings: Settings) -> Report:
    full = settings.size(1_000_000, 3_000)
    heavy = settings.size(100_000, 3_000)
    rows = []
    raw: dict[str, object] = {}
    for case in cases(full):
        size = heavy if case.heavy else full
        measured = measure_case(case, size, settings.runs)
        rows.append(row(case, size, measured))
        results = [result for _, result in measured]
        raw[case.label] = {"items": size, "runs": raw_runs(results)}
    table = Table(
        "Each stage against its fastest peers (ratio: genpipe time / peer time)",
        (
            "stage",
            "items",
            "genpipe ns/item (fastest run)",
            "fastest Python peer",
            "ratio",
            f"<= {TARGET:.2f}x",
            "fastest C peer",
            "ratio",
            "note",
        ),
        tuple(rows),
    )
    return Report(
        workload="stages",
        summary=(
            f"Every sequential stage on {full:,} ints ({heavy:,} for sort and "
            "keyed group_by), consumed to the end, against the peers that "
            f"compute the same output. Target: at most {TARGET:.2f}x the "
            "fastest peer written in Python. ns/item is genpipe's fastest run; "
            "a ratio is the median over rounds of genpipe's time over the "
            "peer's in the same round, which other processes on the machine "
            "move far less than either time."
        ),
        tables=(table,),
        raw=raw,
    )


if __name__ == "__main__":
    main({"stages": run})
