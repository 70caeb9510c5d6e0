"""File sources: read_lines, read_csv, read_jsonl."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TextIO, TypeVar, Unpack, cast

from genpipe._core import Base, Source, call_repr
from genpipe._errors import SKIPPED, OnError, Policy, RecordError
from genpipe._files import (
    CsvOptions,
    check_csv_options,
    check_encoding,
    check_path,
    encoding_option,
    open_text,
    read_text,
)

if TYPE_CHECKING:
    from _csv import Reader

T = TypeVar("T")

CsvRecord = dict[str, str]
#: A read_csv handler gets the error and the row's fields (None when the csv
#: parser rejected the text) and returns a record to use instead.
CsvHandler = Callable[[RecordError, list[str] | None], CsvRecord]
JsonHandler = Callable[[RecordError, str], Any]


def read_lines(path: str | os.PathLike[str], *, encoding: str = "utf-8") -> Source[str]:
    """Stream the lines of a text file, without their line endings.

    Every iteration reopens the file, which stays open only while its iterator
    is in use; a path ending in ``.gz`` is decompressed on the fly. ``\\n``,
    ``\\r\\n`` and ``\\r`` all end a line. Sharp edge: a last line needs no
    line ending, so ``"a\\n"`` and ``"a"`` both read as ``["a"]``.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "names.txt"
    >>> _ = path.write_text("ada\\r\\ngrace\\n")
    >>> gp.read_lines(path) | gp.map(str.title) | gp.to_list()
    ['Ada', 'Grace']
    """
    target = check_path("read_lines", path)
    check_encoding("read_lines", encoding)

    def stream() -> Iterator[str]:
        with open_text(target, encoding=encoding, newline=None) as text:
            yield from _without_newlines(text)

    def read_whole() -> list[str]:
        return _split_lines(read_text(target, encoding=encoding, newline=None))

    label = call_repr("read_lines", target, **encoding_option(encoding))
    return Source(Base(stream, label, one_shot=False, materialise=read_whole))


def read_jsonl(
    path: str | os.PathLike[str],
    *,
    on_error: Literal["raise", "skip"] | JsonHandler = "raise",
) -> Source[Any]:
    """Stream the JSON values of a JSON Lines file (UTF-8), one per line.

    A line that is not valid JSON, blank lines included, raises `RecordError`
    naming the file and the line, with the `json.JSONDecodeError` as its
    ``__cause__``. ``on_error="skip"`` drops such lines instead; a handler
    ``(error, line)`` gets the error and the line without its newline, and
    returns a replacement value or raises `Skip`. Every iteration reopens the
    file; a path ending in ``.gz`` is decompressed on the fly.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "events.jsonl"
    >>> _ = path.write_text('{"id": 1}\\nnot json\\n{"id": 3}\\n')
    >>> gp.read_jsonl(path, on_error="skip") | gp.to_list()
    [{'id': 1}, {'id': 3}]
    >>> gp.read_jsonl(path) | gp.to_list()
    Traceback (most recent call last):
    ...
    genpipe.RecordError: ...:2: invalid JSON: Expecting value (column 1)
    """
    target = check_path("read_jsonl", path)
    policy = _record_policy("read_jsonl", on_error)

    def values(lines: Iterable[str]) -> Iterator[Any]:
        for number, line in enumerate(lines, 1):
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"invalid JSON: {exc.msg} (column {exc.colno})"
                value = policy.recover(_malformed(message, target, number, exc), line)
                if value is SKIPPED:
                    continue
            yield value

    def stream() -> Iterator[Any]:
        with open_text(target, encoding="utf-8", newline=None) as text:
            yield from values(_without_newlines(text))

    def read_whole() -> list[Any]:
        text = read_text(target, encoding="utf-8", newline=None)
        return list(values(_split_lines(text)))

    label = call_repr("read_jsonl", target, **policy.options())
    return Source(Base(stream, label, one_shot=False, materialise=read_whole))


def read_csv(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    on_error: Literal["raise", "skip"] | CsvHandler = "raise",
    **csv_options: Unpack[CsvOptions],
) -> Source[CsvRecord]:
    """Stream the rows of a CSV file as dicts keyed by its header row.

    ``csv_options`` are those of `csv.reader` (``delimiter=";"``, ...). Blank
    lines are skipped. A row with more or fewer fields than the header, or
    text the csv parser rejects, raises `RecordError` naming the file and the
    row's first physical line (the header is line 1; a quoted field spanning
    lines counts them all). ``on_error="skip"`` drops such rows instead; a
    handler ``(error, fields)`` gets the error and the row's fields (None if
    the parser rejected the text), and returns a replacement dict or raises
    `Skip`. Sharp edge: a malformed header always raises. Every iteration
    reopens the file; a path ending in ``.gz`` is decompressed on the fly.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "people.csv"
    >>> _ = path.write_text('name,note\\nada,"math,\\nengines"\\ngrace\\n')
    >>> gp.read_csv(path, on_error="skip") | gp.to_list()
    [{'name': 'ada', 'note': 'math,\\nengines'}]
    >>> gp.read_csv(path) | gp.to_list()
    Traceback (most recent call last):
    ...
    genpipe.RecordError: ...:4: expected 2 fields as in the header, got 1
    """
    target = check_path("read_csv", path)
    check_encoding("read_csv", encoding)
    check_csv_options("read_csv", csv_options)
    policy = _record_policy("read_csv", on_error)

    def stream() -> Iterator[CsvRecord]:
        with open_text(target, encoding=encoding, newline="") as text:
            rows = csv.reader(text, **csv_options)
            header = _header(rows, target)
            width = len(header)
            ended = rows.line_num  # the line the previous row ended on
            while True:  # restarts the loop after each row the csv parser rejects
                try:
                    for row in rows:
                        if len(row) == width:
                            yield dict(zip(header, row, strict=True))
                        elif row:
                            record = _recover_row(policy, target, ended + 1, row, width)
                            if record is not SKIPPED:
                                yield record
                        ended = rows.line_num
                    return
                except csv.Error as exc:
                    bad = _malformed(str(exc), target, rows.line_num, exc)
                    record = policy.recover(bad, None)
                    ended = rows.line_num
                if record is not SKIPPED:
                    yield record

    def read_whole() -> list[CsvRecord]:
        # Independent of stream(): the text is read whole and parsed one row
        # at a time, the header included, with no loop to restart.
        text = read_text(target, encoding=encoding, newline="")
        rows = csv.reader(io.StringIO(text, newline=""), **csv_options)
        header: list[str] = []
        outcomes: list[Any] = []
        previous_end = 0
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return [record for record in outcomes if record is not SKIPPED]
            except csv.Error as exc:
                bad = _malformed(str(exc), target, rows.line_num, exc)
                if not header:
                    raise bad from exc
                outcomes.append(policy.recover(bad, None))
            else:
                if not header:
                    header = row
                elif len(row) == len(header):
                    outcomes.append(dict(zip(header, row, strict=True)))
                elif row:
                    first_line = previous_end + 1
                    outcomes.append(
                        _recover_row(policy, target, first_line, row, len(header))
                    )
            previous_end = rows.line_num

    options: dict[str, object] = dict(csv_options)
    label = call_repr(
        "read_csv",
        target,
        **encoding_option(encoding),
        **policy.options(),
        **options,
    )
    return Source(Base(stream, label, one_shot=False, materialise=read_whole))


def _without_newlines(text: TextIO) -> Iterator[str]:
    """The lines of a file opened with universal newlines, without their ``\\n``."""
    return map(str.removesuffix, text, itertools.repeat("\n"))


def _split_lines(text: str) -> list[str]:
    """The lines of text read with universal newlines (so only ``\\n`` ends one)."""
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def _record_policy(factory: str, on_error: object) -> Policy:
    # A malformed record stays malformed: readers apply on_error, never retries.
    return Policy(
        factory,
        on_error=cast(OnError, on_error),
        retries=0,
        backoff=0.0,
        retry_on=Exception,
        sleep=time.sleep,
    )


def _malformed(message: str, path: str, line: int, cause: Exception) -> RecordError:
    error = RecordError(message, path=path, line=line)
    error.__cause__ = cause
    return error


def _recover_row(
    policy: Policy, path: str, line: int, row: list[str], width: int
) -> Any:
    message = f"expected {width} fields as in the header, got {len(row)}"
    return policy.recover(RecordError(message, path=path, line=line), row)


def _header(rows: Reader, path: str) -> list[str]:
    """The first non-blank row; empty for a file without one."""
    try:
        return next((row for row in rows if row), [])
    except csv.Error as exc:
        raise _malformed(str(exc), path, rows.line_num, exc) from exc
