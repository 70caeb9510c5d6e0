"""File sinks: write_lines, write_csv, write_jsonl, all atomic."""

from __future__ import annotations

import csv
import itertools
import json
import operator
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any, TextIO, TypeVar, Unpack, cast

from genpipe._core import Sink, call_repr, describe
from genpipe._files import (
    CsvOptions,
    check_csv_options,
    check_encoding,
    check_path,
    encoding_option,
    replacing,
)

T = TypeVar("T")

# JSON Lines files are UTF-8, so non-ASCII text is written as itself.
_to_json = json.JSONEncoder(ensure_ascii=False).encode


def write_lines(
    path: str | os.PathLike[str], *, encoding: str = "utf-8"
) -> Sink[str, int]:
    """Write each string as a line of a text file; return how many were written.

    Each line ends with ``\\n``. The file is replaced atomically: it appears,
    complete, only when the stream ends, and a stream that raises leaves any
    previous file untouched. A path ending in ``.gz`` is written compressed.
    Sharp edge: a string that contains a line break becomes several lines.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "names.txt"
    >>> ["ada", "grace"] | gp.map(str.upper) | gp.write_lines(path)
    2
    >>> path.read_text()
    'ADA\\nGRACE\\n'
    """
    target = check_path("write_lines", path)
    check_encoding("write_lines", encoding)

    def write(lines: Iterator[str]) -> int:
        with replacing("write_lines", target, encoding=encoding) as out:
            return _write_counted(out, map(operator.add, lines, itertools.repeat("\n")))

    return Sink(write, call_repr("write_lines", target, **encoding_option(encoding)))


def write_jsonl(path: str | os.PathLike[str]) -> Sink[Any, int]:
    """Write each value as one line of JSON (UTF-8); return how many were written.

    Values are encoded like `json.dumps` does, except that non-ASCII text is
    written as itself rather than escaped. The file is replaced atomically, as
    with `write_lines`; a path ending in ``.gz`` is written compressed. Sharp
    edge: a value JSON cannot encode (a set, a datetime) raises `TypeError`
    and no file is written; convert such values upstream with `map`.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "events.jsonl"
    >>> [{"id": 1, "city": "Zürich"}, [2, None]] | gp.write_jsonl(path)
    2
    >>> print(path.read_text(), end="")
    {"id": 1, "city": "Zürich"}
    [2, null]
    """
    target = check_path("write_jsonl", path)

    def write(values: Iterator[Any]) -> int:
        with replacing("write_jsonl", target, encoding="utf-8") as out:
            lines = map(operator.add, map(_to_json, values), itertools.repeat("\n"))
            return _write_counted(out, lines)

    return Sink(write, call_repr("write_jsonl", target))


def write_csv(
    path: str | os.PathLike[str],
    fieldnames: Sequence[str] | None = None,
    *,
    encoding: str = "utf-8",
    **csv_options: Unpack[CsvOptions],
) -> Sink[Mapping[str, object], int]:
    """Write dicts as the rows of a CSV file under a header; return the row count.

    The columns are ``fieldnames``, or by default the first record's keys in
    their order. A record without some column gets an empty field there, and
    `None` is written as an empty field too; a record with a key that is not
    a column raises `ValueError` naming the record, and no file is written.
    ``csv_options`` are those of `csv.writer`. The file is replaced
    atomically, as with `write_lines`; a path ending in ``.gz`` is written
    compressed. Sharp edge: an empty stream writes an empty file, with no
    header unless ``fieldnames`` is given.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "people.csv"
    >>> [{"name": "ada", "born": 1815}, {"name": "grace"}] | gp.write_csv(path)
    2
    >>> path.read_text().splitlines()
    ['name,born', 'ada,1815', 'grace,']
    """
    target = check_path("write_csv", path)
    if fieldnames is not None:
        fieldnames = _check_fieldnames(fieldnames)
    check_encoding("write_csv", encoding)
    check_csv_options("write_csv", csv_options)

    def write(records: Iterator[Mapping[str, object]]) -> int:
        with replacing("write_csv", target, encoding=encoding) as out:
            writer = csv.writer(out, **csv_options)
            columns = fieldnames
            if columns is None:
                first = next(records, None)
                if first is None:
                    return 0
                columns = _columns_of(first)
                records = itertools.chain([first], records)
            writer.writerow(columns)
            counted, total = _counting(records)
            writer.writerows(map(_row_maker(columns), counted))
            return total()

    shown = (target,) if fieldnames is None else (target, fieldnames)
    options: dict[str, object] = dict(csv_options)
    label = call_repr("write_csv", *shown, **encoding_option(encoding), **options)
    return Sink(write, label)


def _counting(items: Iterable[T]) -> tuple[Iterator[T], Callable[[], int]]:
    """Pass ``items`` through and count them, with no Python code per item.

    Call the returned function once, after the iterator is exhausted.
    """
    seen = itertools.count()
    # zip pulls from ``items`` first, so ``seen`` is never advanced past the end.
    paired = zip(items, seen, strict=False)
    return map(operator.itemgetter(0), paired), partial(next, seen)


def _write_counted(out: TextIO, lines: Iterable[str]) -> int:
    counted, total = _counting(lines)
    out.writelines(counted)
    return total()


def _check_fieldnames(fieldnames: object) -> list[str]:
    if isinstance(fieldnames, str) or not isinstance(fieldnames, Iterable):
        names: list[object] = []
    else:
        names = list(fieldnames)
    if not names or not all(isinstance(name, str) for name in names):
        raise TypeError(
            "write_csv() needs fieldnames as a non-empty list of str such as "
            f"['id', 'name'], got {describe(fieldnames)}"
        )
    if len(set(names)) < len(names):
        raise ValueError(f"write_csv() got a column twice in fieldnames {names}")
    return cast("list[str]", names)


def _not_a_mapping(record: object) -> TypeError:
    return TypeError(
        f"write_csv() writes mappings such as {{'id': 1, 'name': 'ada'}} as rows, "
        f"got {describe(record)} of type {type(record).__name__}; make dicts of "
        "the items upstream, e.g. with gp.map(...)"
    )


def _columns_of(first: Mapping[str, object]) -> list[str]:
    if not isinstance(first, Mapping):
        raise _not_a_mapping(first)
    if not first:
        raise ValueError(
            "write_csv() got an empty first record, so there are no columns; "
            "pass fieldnames=[...]"
        )
    return list(first)


def _row_maker(columns: list[str]) -> Callable[[Mapping[str, object]], list[object]]:
    known = frozenset(columns)

    def row(record: Mapping[str, object]) -> list[object]:
        try:
            keys = record.keys()
        except AttributeError:
            raise _not_a_mapping(record) from None
        if keys <= known:
            return [record.get(column) for column in columns]
        unexpected = [key for key in record if key not in known]
        raise ValueError(
            f"write_csv() got the record {describe(record)} with keys "
            f"{unexpected} that are not columns {columns}; pass fieldnames= "
            "with every key, or drop the extra keys upstream"
        )

    return row
