"""File sources: read_lines, read_csv, read_jsonl."""

from __future__ import annotations

import csv
import itertools
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypeVar, Unpack, cast

from genpipe._core import Base, Source, call_repr
from genpipe._errors import SKIPPED, OnError, Policy, RecordError
from genpipe._files import (
    CsvOptions,
    check_csv_options,
    check_encoding,
    check_errors,
    check_path,
    encoding_option,
)
from genpipe._text import DAMAGE, TextLines, open_lines, with_bytes_replaced

if TYPE_CHECKING:
    from _csv import Reader

T = TypeVar("T")

CsvRecord: TypeAlias = dict[str, str]
"""A row of `read_csv`: the header's names mapped to the row's fields."""

CsvHandler: TypeAlias = Callable[[RecordError, list[str] | None], CsvRecord]
"""A `read_csv` ``on_error`` handler: ``(error, fields) -> replacement row``.

``fields`` are the row's fields, or None when there is no row to give (the
csv parser rejected the text, or the file broke off). Raise `Skip` to drop
the row.
"""

LineHandler: TypeAlias = Callable[[RecordError, str | None], str]
"""A `read_lines` ``on_error`` handler: ``(error, line) -> replacement line``.

``line`` is the undecodable line with its bad bytes as U+FFFD, or None when
the file broke off. Raise `Skip` to drop it.
"""

JsonHandler: TypeAlias = Callable[[RecordError, str | None], Any]
"""A `read_jsonl` ``on_error`` handler: ``(error, line) -> replacement value``.

``line`` is the line without its newline (undecodable bytes as U+FFFD), or
None when the file broke off. Raise `Skip` to drop it.
"""


def read_lines(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    on_error: Literal["raise", "skip"] | LineHandler = "raise",
) -> Source[str]:
    """Stream the lines of a text file, without their line endings.

    Every iteration reopens the file, which stays open only while its iterator
    is in use; a path ending in ``.gz`` is decompressed on the fly. ``\\n``,
    ``\\r\\n`` and ``\\r`` all end a line. ``encoding`` and ``errors`` are
    those of `open`; a UTF-8 byte-order mark at the start is dropped. With
    ``errors="strict"`` a line that cannot be decoded is a malformed record: a
    `RecordError` naming the file and the line, which ``on_error`` handles as
    in `read_jsonl`, and reading goes on with the next line. So is a gzip
    file that breaks off, at the line where it does. Sharp edge: a last line
    needs no line ending, so ``"a\\n"`` and ``"a"`` both read as ``["a"]``.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "names.txt"
    >>> _ = path.write_bytes(b"ada\\r\\ngr\\xe2ce\\n")
    >>> gp.read_lines(path, on_error="skip") | gp.map(str.title) | gp.to_list()
    ['Ada']
    >>> gp.read_lines(path, encoding="latin-1") | gp.to_list()
    ['ada', 'grâce']
    """
    target = check_path("read_lines", path)
    check_encoding("read_lines", encoding)
    check_errors("read_lines", errors)
    policy = _record_policy("read_lines", on_error)

    def stream() -> Iterator[str]:
        with open_lines(target, encoding=encoding, errors=errors, newline=None) as text:
            yield from _line_records(text, policy, None)

    label = call_repr(
        "read_lines", target, **encoding_option(encoding, errors), **policy.options()
    )
    return Source(Base(stream, label, one_shot=False))


def read_jsonl(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    allow_nan: bool = True,
    on_error: Literal["raise", "skip"] | JsonHandler = "raise",
) -> Source[Any]:
    """Stream the JSON values of a JSON Lines file, one per line.

    A line that is not valid JSON, blank lines included, raises `RecordError`
    naming the file and the line, with the `json.JSONDecodeError` as its
    ``__cause__``. ``on_error="skip"`` drops such lines instead; a handler
    ``(error, line)`` gets the error and the line without its newline, and
    returns a replacement value or raises `Skip`. An undecodable line and a
    gzip file that breaks off are malformed records too, as in `read_lines`.
    Every iteration reopens the file; a path ending in ``.gz`` is
    decompressed on the fly. Sharp edge: like `json.loads`, it accepts the
    non-standard ``NaN``, ``Infinity`` and ``-Infinity`` (which `write_jsonl`
    writes for such floats); ``allow_nan=False`` makes them malformed.

    >>> import genpipe as gp
    >>> path = getfixture("tmp_path") / "events.jsonl"
    >>> _ = path.write_text('{"id": 1}\\nnot json\\n{"id": NaN}\\n')
    >>> gp.read_jsonl(path, on_error="skip") | gp.to_list()
    [{'id': 1}, {'id': nan}]
    >>> gp.read_jsonl(path, allow_nan=False, on_error="skip") | gp.to_list()
    [{'id': 1}]
    >>> gp.read_jsonl(path) | gp.to_list()
    Traceback (most recent call last):
    ...
    genpipe.RecordError: ...:2: invalid JSON: Expecting value (column 1)
    """
    target = check_path("read_jsonl", path)
    check_encoding("read_jsonl", encoding)
    check_errors("read_jsonl", errors)
    if not isinstance(allow_nan, bool):
        raise TypeError(
            f"read_jsonl() needs True or False for allow_nan, got {allow_nan!r}"
        )
    policy = _record_policy("read_jsonl", on_error)
    decode = json.loads if allow_nan else _finite_json

    def parse(line: str) -> Any:
        try:
            return decode(line)
        except json.JSONDecodeError as exc:
            raise _MalformedLineError(
                f"invalid JSON: {exc.msg} (column {exc.colno})"
            ) from exc

    def stream() -> Iterator[Any]:
        with open_lines(target, encoding=encoding, errors=errors, newline=None) as text:
            yield from _line_records(text, policy, parse)

    options: dict[str, object] = {} if allow_nan else {"allow_nan": False}
    label = call_repr(
        "read_jsonl",
        target,
        **encoding_option(encoding, errors),
        **options,
        **policy.options(),
    )
    return Source(Base(stream, label, one_shot=False))


def read_csv(
    path: str | os.PathLike[str],
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
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
    `Skip`. A quoted field that is never closed is a malformed row at the line
    where its row starts (the csv module would read the rest of the file into
    it); an undecodable line and a gzip file that breaks off are malformed
    records too, as in `read_lines`. Sharp edge: a malformed header always
    raises. Every iteration reopens the file; a path ending in ``.gz`` is
    decompressed on the fly; a UTF-8 byte-order mark is dropped.

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
    check_errors("read_csv", errors)
    check_csv_options("read_csv", csv_options)
    policy = _record_policy("read_csv", on_error)

    def recover(error: RecordError, fields: list[str] | None) -> Any:
        return policy.recover(error, fields)

    def stream() -> Iterator[CsvRecord]:
        with open_lines(target, encoding=encoding, errors=errors, newline="") as text:
            feed = _CsvFeed(text)
            rows = csv.reader(feed, **csv_options)
            header = _header(rows, feed)
            width = len(header)
            ended = rows.line_num  # the line the previous row ended on
            while True:  # restarts the loop after each row the csv parser rejects
                try:
                    for row in rows:
                        if feed.cut_short():
                            break
                        error = feed.problem(ended + 1)
                        if error is not None:
                            record = recover(error, _with_bytes_replaced(row))
                        elif len(row) == width:
                            record = dict(zip(header, row, strict=True))
                        elif row:
                            bad = _width_error(target, ended + 1, row, width)
                            record = recover(bad, row)
                        else:
                            record = SKIPPED  # a blank line
                        if record is not SKIPPED:
                            yield record
                        ended = rows.line_num
                    break
                except csv.Error as exc:
                    feed.undecodable = None  # its row is rejected anyway
                    record = recover(
                        _malformed(str(exc), target, rows.line_num, exc), None
                    )
                    ended = rows.line_num
                if record is not SKIPPED:
                    yield record
            if feed.damage is not None:
                record = recover(feed.damage, None)
                if record is not SKIPPED:
                    yield record

    def read_whole() -> list[CsvRecord]:
        # Independent of stream()'s loop: rows are pulled one at a time, the
        # header included, and their first lines counted, with nothing to restart.
        with open_lines(target, encoding=encoding, errors=errors, newline="") as text:
            feed = _CsvFeed(text)
            rows = csv.reader(feed, **csv_options)
            header: list[str] = []
            outcomes: list[Any] = []
            previous_end = 0
            while True:
                try:
                    row = next(rows)
                except StopIteration:
                    break
                except csv.Error as exc:
                    bad = _malformed(str(exc), target, rows.line_num, exc)
                    if not header:
                        raise bad from exc
                    feed.undecodable = None
                    outcomes.append(recover(bad, None))
                else:
                    if feed.cut_short():
                        break
                    error = feed.problem(previous_end + 1)
                    if not row:
                        pass
                    elif error is not None and not header:
                        raise error
                    elif error is not None:
                        outcomes.append(recover(error, _with_bytes_replaced(row)))
                    elif not header:
                        header = row
                    elif len(row) == len(header):
                        outcomes.append(dict(zip(header, row, strict=True)))
                    else:
                        bad = _width_error(target, previous_end + 1, row, len(header))
                        outcomes.append(recover(bad, row))
                previous_end = rows.line_num
        if feed.damage is not None:
            outcomes.append(recover(feed.damage, None))
        return [record for record in outcomes if record is not SKIPPED]

    options: dict[str, object] = dict(csv_options)
    label = call_repr(
        "read_csv",
        target,
        **encoding_option(encoding, errors),
        **policy.options(),
        **options,
    )
    return Source(Base(stream, label, one_shot=False, materialise=read_whole))


class _MalformedLineError(ValueError):
    """Raised by a line parser for a malformed line: its message describes it."""


def _reject_constant(name: str) -> Any:
    raise _MalformedLineError(
        f"invalid JSON: {name} is not a JSON number (allow_nan=False)"
    )


_finite_json = json.JSONDecoder(parse_constant=_reject_constant).decode


def _line_records(
    text: TextLines, policy: Policy, parse: Callable[[str], Any] | None
) -> Iterator[Any]:
    """Each line without its ``\\n``, parsed, or what ``on_error`` makes of it."""
    strict, number = text.strict, 0
    try:  # DAMAGE comes from reading the file (or a handler that raises one)
        lines = map(str.removesuffix, text.file, itertools.repeat("\n"))
        for number, line in enumerate(lines, 1):
            if strict and not line.isascii():
                error = text.undecodable(line, number)
                if error is not None:
                    record = policy.recover(error, with_bytes_replaced(line))
                    if record is not SKIPPED:
                        yield record
                    continue
            if parse is None:
                yield line
                continue
            try:
                record = parse(line)
            except _MalformedLineError as exc:
                error = RecordError(str(exc), path=text.path, line=number)
                error.__cause__ = exc.__cause__
                record = policy.recover(error, line)
            if record is not SKIPPED:
                yield record
    except DAMAGE as exc:
        record = policy.recover(text.damaged(exc, number), None)
        if record is not SKIPPED:
            yield record


class _CsvFeed:
    """The lines csv.reader parses, and what it cannot see in them.

    A line break is added to a last line without one, so that only a quoted
    field left open makes the parser read past the end: a row that arrives
    after the lines ran out had such a field (or was cut short by `damage`).
    The first undecodable line since the last row is kept in `undecodable`,
    for the row it is part of.
    """

    __slots__ = ("_text", "damage", "exhausted", "path", "undecodable")

    def __init__(self, text: TextLines) -> None:
        self._text = text
        self.path = text.path
        self.exhausted = False
        self.undecodable: RecordError | None = None
        self.damage: RecordError | None = None

    def __iter__(self) -> Iterator[str]:
        text = self._text
        strict, number, line = text.strict, 0, ""
        try:  # DAMAGE comes from reading the file (or a handler that raises one)
            for number, line in enumerate(text.file, 1):
                if strict and not line.isascii() and self.undecodable is None:
                    self.undecodable = text.undecodable(line, number)
                yield line
        except DAMAGE as exc:
            self.damage = text.damaged(exc, number)
        else:
            if line and not line.endswith(("\n", "\r")):
                yield "\n"
        self.exhausted = True

    def cut_short(self) -> bool:
        """Whether the row just parsed is what damage left of one (to drop)."""
        return self.exhausted and self.damage is not None

    def problem(self, first_line: int) -> RecordError | None:
        """What is wrong with the row just parsed (from ``first_line``), if any."""
        if self.exhausted:
            self.undecodable = None
            return _unclosed_quote(self.path, first_line)
        error, self.undecodable = self.undecodable, None
        return error


def _with_bytes_replaced(row: list[str]) -> list[str]:
    return [with_bytes_replaced(field) for field in row]


def _unclosed_quote(path: str, first_line: int) -> RecordError:
    return RecordError(
        "a quoted field on this row is never closed, so the csv parser would "
        "read the rest of the file into it",
        path=path,
        line=first_line,
    )


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


def _width_error(path: str, line: int, row: list[str], width: int) -> RecordError:
    message = f"expected {width} fields as in the header, got {len(row)}"
    return RecordError(message, path=path, line=line)


def _header(rows: Reader, feed: _CsvFeed) -> list[str]:
    """The first non-blank row; empty for a file without one. A bad one raises."""
    ended = 0
    try:
        for row in rows:
            if row:
                break
            ended = rows.line_num
        else:
            return []
    except csv.Error as exc:
        raise _malformed(str(exc), feed.path, rows.line_num, exc) from exc
    if feed.cut_short():
        return []  # the damage is reported after the (missing) rows
    error = feed.problem(ended + 1)
    if error is not None:
        raise error
    return row
