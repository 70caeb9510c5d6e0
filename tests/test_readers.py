"""File sources: parsing, errors with line numbers, on_error, laziness, file handles."""

from __future__ import annotations

import csv
import gzip
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genpipe as gp

#: Hypothesis examples reuse one tmp_path: each example overwrites its files.
reuses_tmp_path = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

needs_proc_fd = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="lists open files via /proc/self/fd"
)


def descriptors_open_on(path: Path) -> list[str]:
    """The file descriptors of this process that refer to ``path``."""
    folder = "/proc/self/fd"
    found = []
    for descriptor in os.listdir(folder):
        try:
            target = os.readlink(os.path.join(folder, descriptor))
        except FileNotFoundError:  # the descriptor listdir itself used
            continue
        if target == str(path):
            found.append(descriptor)
    return found


def outcome(read: Callable[[], list[Any]]) -> tuple[str, Any]:
    """What reading gave: ("records", list) or ("error", message and line)."""
    try:
        return "records", read()
    except gp.RecordError as err:
        return "error", (str(err), err.line)


def record_error(source: gp.Source[Any]) -> gp.RecordError:
    """The `RecordError` that reading the whole of ``source`` raises."""
    with pytest.raises(gp.RecordError) as caught:
        list(source)
    return caught.value


def failures(letters: gp.DeadLetters) -> list[tuple[Any, str]]:
    return [(letter.item, str(letter.exception)) for letter in letters]


# read_lines


def test_read_lines_strips_every_kind_of_line_ending(tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"unix\nwindows\r\nold mac\rlast")
    assert list(gp.read_lines(path)) == ["unix", "windows", "old mac", "last"]


def test_read_lines_of_a_file_ending_in_a_newline_has_no_empty_last_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("a\n\nb\n")
    assert list(gp.read_lines(path)) == ["a", "", "b"]


def test_read_lines_of_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_text("")
    assert list(gp.read_lines(path)) == []


def test_read_lines_decodes_with_the_given_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Zürich\n".encode("latin-1"))
    assert list(gp.read_lines(path, encoding="latin-1")) == ["Zürich"]


# read_jsonl


def test_read_jsonl_yields_one_value_per_line(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text('{"a": [1, 2.5]}\n"text"\nnull\n')
    assert list(gp.read_jsonl(path)) == [{"a": [1, 2.5]}, "text", None]


def test_read_jsonl_error_names_file_and_line_with_the_parser_error_as_cause(
    tmp_path: Path,
) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text('1\n2\n{"a": \n4\n')
    error = record_error(gp.read_jsonl(path))
    assert error.path == str(path)
    assert error.line == 3
    assert str(error).startswith(f"{path}:3: invalid JSON: ")
    assert isinstance(error.__cause__, json.JSONDecodeError)


def test_read_jsonl_counts_a_blank_line_as_malformed(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text("1\n\n3\n")
    with pytest.raises(gp.RecordError, match=r":2: invalid JSON"):
        list(gp.read_jsonl(path))


def test_read_jsonl_skip_drops_malformed_lines_and_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text("1\nnope\n3\n{\n5\n")
    assert list(gp.read_jsonl(path, on_error="skip")) == [1, 3, 5]


def test_read_jsonl_handler_gets_the_error_and_the_line_without_its_newline(
    tmp_path: Path,
) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text("1\nnope\n3\n")
    seen: list[tuple[int, str | None]] = []

    def placeholder(error: gp.RecordError, line: str | None) -> str:
        seen.append((error.line, line))
        return f"<{line}>"

    assert list(gp.read_jsonl(path, on_error=placeholder)) == [1, "<nope>", 3]
    assert seen == [(2, "nope")]


def test_read_jsonl_handler_raising_skip_drops_the_line(tmp_path: Path) -> None:
    path = tmp_path / "values.jsonl"
    path.write_text("1\nnope\n3\n")
    rejected = gp.DeadLetters()
    assert list(gp.read_jsonl(path, on_error=rejected)) == [1, 3]
    assert failures(rejected) == [
        ("nope", f"{path}:2: invalid JSON: Expecting value (column 1)")
    ]


# read_csv


def test_read_csv_yields_dicts_keyed_by_the_header(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('name,born\nada,1815\n"hopper, grace",1906\n')
    assert list(gp.read_csv(path)) == [
        {"name": "ada", "born": "1815"},
        {"name": "hopper, grace", "born": "1906"},
    ]


def test_read_csv_passes_csv_options_to_the_parser(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name;born\n'ada; countess';1815\n")
    people = gp.read_csv(path, delimiter=";", quotechar="'")
    assert list(people) == [{"name": "ada; countess", "born": "1815"}]


def test_read_csv_skips_blank_lines_before_and_between_rows(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("\nname\n\nada\n\n\ngrace\n")
    assert list(gp.read_csv(path)) == [{"name": "ada"}, {"name": "grace"}]


@pytest.mark.parametrize("text", ["", "\n\n", "name,born\n"])
def test_read_csv_without_data_rows_yields_nothing(tmp_path: Path, text: str) -> None:
    path = tmp_path / "people.csv"
    path.write_text(text)
    assert list(gp.read_csv(path)) == []


def test_read_csv_error_names_the_first_line_of_the_bad_row_counting_quoted_lines(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.csv"
    path.write_text('id,note\n1,"two\nlines"\n\n2,"and\r\nthree\nlines",extra\n')
    error = record_error(gp.read_csv(path))
    assert error.line == 5
    assert str(error) == f"{path}:5: expected 2 fields as in the header, got 3"


def test_read_csv_parser_error_is_the_cause_and_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "strict.csv"
    path.write_text('id,note\n1,ok\n2,"closed"junk\n3,ok\n')
    error = record_error(gp.read_csv(path, strict=True))
    assert error.line == 3
    assert isinstance(error.__cause__, csv.Error)


def test_read_csv_skip_goes_on_after_wrong_widths_and_parser_errors(
    tmp_path: Path,
) -> None:
    path = tmp_path / "strict.csv"
    path.write_text('id,note\n1,ok\n2,"closed"junk\n3\n4,ok\n')
    rows = gp.read_csv(path, strict=True, on_error="skip")
    assert list(rows) == [{"id": "1", "note": "ok"}, {"id": "4", "note": "ok"}]


def test_read_csv_handler_gets_the_fields_or_none_when_the_parser_failed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "strict.csv"
    path.write_text('id,note\n1\n2,"closed"junk\n3,ok\n')
    rejected = gp.DeadLetters()
    rows = gp.read_csv(path, strict=True, on_error=rejected)
    assert list(rows) == [{"id": "3", "note": "ok"}]
    assert failures(rejected) == [
        (["1"], f"{path}:2: expected 2 fields as in the header, got 1"),
        (None, f"{path}:3: ',' expected after '\"'"),
    ]


def test_read_csv_handler_return_value_replaces_the_row(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text("name,born\nada\n")

    def pad(error: gp.RecordError, fields: list[str] | None) -> dict[str, str]:
        return {"name": (fields or ["?"])[0], "born": "unknown"}

    assert list(gp.read_csv(path, on_error=pad)) == [{"name": "ada", "born": "unknown"}]


def test_read_csv_malformed_header_raises_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "strict.csv"
    path.write_text('"id"x,note\n1,ok\n')
    error = record_error(gp.read_csv(path, strict=True, on_error="skip"))
    assert error.line == 1
    assert isinstance(error.__cause__, csv.Error)


@reuses_tmp_path
@given(
    text=st.lists(st.sampled_from([b"a", b"b", b",", b'"', b"\r", b"\n", b"\xff"]))
    .map(b"".join)
    .filter(lambda text: len(text) <= 40),
    strict=st.booleans(),
)
def test_read_csv_streaming_equals_reading_whole_even_with_bad_rows(
    tmp_path: Path, text: bytes, strict: bool
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(text)
    streamed, whole = gp.DeadLetters(), gp.DeadLetters()
    lazy = outcome(lambda: list(gp.read_csv(path, strict=strict, on_error=streamed)))
    eager = outcome(gp.read_csv(path, strict=strict, on_error=whole).eager)
    assert lazy == eager
    assert failures(streamed) == failures(whole)


# Hostile input: undecodable bytes, byte-order marks, open quotes, damaged gzip

READERS = {
    "read_lines": gp.read_lines,
    "read_jsonl": gp.read_jsonl,
    "read_csv": gp.read_csv,
}


def latin1_orders(tmp_path: Path) -> Path:
    """A UTF-8 CSV with one Latin-1 byte on line 3 (column 7), valid JSON per line."""
    path = tmp_path / "orders.csv"
    path.write_bytes(b'"id"\n"1"\n"caf\xe9"\n"3"\n')
    return path


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS)
def test_an_undecodable_line_is_a_record_error_naming_file_line_and_column(
    tmp_path: Path, reader: Callable[..., gp.Source[Any]]
) -> None:
    path = latin1_orders(tmp_path)
    error = record_error(reader(path))
    assert (error.path, error.line) == (str(path), 3)
    assert str(error).startswith(f"{path}:3: cannot decode b'\\xe9' at column 5")
    assert isinstance(error.__cause__, UnicodeDecodeError)


@pytest.mark.parametrize(
    ("reader", "good", "bad_item"),
    [
        (gp.read_lines, ['"id"', '"1"', '"3"'], '"caf\ufffd"'),
        (gp.read_jsonl, ["id", "1", "3"], '"caf\ufffd"'),
        (gp.read_csv, [{"id": "1"}, {"id": "3"}], ["caf\ufffd"]),
    ],
    ids=READERS,
)
def test_on_error_handles_an_undecodable_line_and_reading_goes_on(
    tmp_path: Path,
    reader: Callable[..., gp.Source[Any]],
    good: list[Any],
    bad_item: Any,
) -> None:
    path = latin1_orders(tmp_path)
    for read in ("lazy", "eager"):
        rejected = gp.DeadLetters()
        source = reader(path, on_error=rejected)
        assert (list(source) if read == "lazy" else source.eager()) == good
        [letter] = rejected
        assert letter.item == bad_item
        assert isinstance(letter.exception, gp.RecordError)
        assert letter.exception.line == 3


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS)
def test_errors_replace_reads_undecodable_bytes_as_replacement_characters(
    tmp_path: Path, reader: Callable[..., gp.Source[Any]]
) -> None:
    path = latin1_orders(tmp_path)
    assert len(list(reader(path, errors="replace"))) == 4 - (reader is gp.read_csv)


def test_an_undecodable_line_in_utf16_is_reported_too(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("héllo\nwörld\n".encode("utf-16") + b"\x00\xd8")
    rejected = gp.DeadLetters()
    lines = gp.read_lines(path, encoding="utf-16", on_error=rejected)
    assert list(lines) == ["héllo", "wörld"]
    assert [letter.exception.line for letter in rejected] == [3]  # type: ignore[attr-defined]


def test_an_undecodable_header_raises_even_when_skipping(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(b"n\xe4me\nada\n")
    with pytest.raises(gp.RecordError, match=r":1: cannot decode"):
        list(gp.read_csv(path, on_error="skip"))


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS)
@pytest.mark.parametrize("argument", ["errors", "encoding"])
def test_an_unknown_codec_or_error_handler_is_refused_when_built(
    tmp_path: Path, reader: Callable[..., gp.Source[Any]], argument: str
) -> None:
    with pytest.raises(ValueError, match=f"unknown {argument}"):
        reader(tmp_path / "never-read.txt", **{argument: "no-such-thing"})


@pytest.mark.parametrize("name", ["bom.txt", "bom.txt.gz"])
def test_every_reader_drops_a_utf8_byte_order_mark(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    text = "\ufeff1\n2\n".encode()
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    assert read_all_three(path) == {
        "lines": ["1", "2"],
        "jsonl": [1, 2],
        "csv": [{"1": "2"}],
    }


@pytest.mark.parametrize("ending", ["\n", ""])
def test_an_unterminated_quote_is_a_record_error_where_its_row_starts(
    tmp_path: Path, ending: str
) -> None:
    path = tmp_path / "open-quote.csv"
    path.write_text(f'id,note\n1,fine\n2,"never closed\n3,gone{ending}')
    for read in (list, lambda source: source.eager()):
        with pytest.raises(gp.RecordError) as caught:
            read(gp.read_csv(path))
        assert caught.value.line == 3
        assert "quoted field on this row is never closed" in str(caught.value)
    rejected = gp.DeadLetters()
    assert list(gp.read_csv(path, on_error=rejected)) == [{"id": "1", "note": "fine"}]
    assert [letter.item for letter in rejected] == [
        ["2", f"never closed\n3,gone{ending or chr(10)}"]
    ]


@pytest.mark.parametrize("text", ['a,b\n1,"2"', "a,b\n1,2", 'a,"b"'])
def test_a_last_row_without_a_line_break_is_read_as_usual(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "no-final-newline.csv"
    path.write_text(text)
    source = gp.read_csv(path)
    assert (
        list(source)
        == source.eager()
        == ([{"a": "1", "b": "2"}] if "1" in text else [])
    )


def cut_short_gzip(path: Path, lines: int) -> None:
    """A gzip file of ``lines`` JSON lines, truncated in the middle."""
    whole = gzip.compress(b"".join(b"%d\n" % n for n in range(lines)))
    path.write_bytes(whole[: len(whole) // 2])


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS)
def test_a_truncated_gzip_file_is_a_record_error_after_its_last_complete_line(
    tmp_path: Path, reader: Callable[..., gp.Source[Any]]
) -> None:
    path = tmp_path / "numbers.txt.gz"
    cut_short_gzip(path, 20_000)
    read: list[Any] = []
    with pytest.raises(gp.RecordError) as caught:
        read.extend(reader(path))
    complete = caught.value.line - 1
    assert 0 < complete < 20_000
    assert str(caught.value).endswith(
        f"the file is cut short: its compressed data ends early; "
        f"only lines 1-{complete} are complete"
    )
    assert isinstance(caught.value.__cause__, EOFError)


@pytest.mark.parametrize("reader", READERS.values(), ids=READERS)
def test_on_error_records_a_truncated_gzip_file_and_keeps_every_complete_line(
    tmp_path: Path, reader: Callable[..., gp.Source[Any]]
) -> None:
    path = tmp_path / "numbers.txt.gz"
    cut_short_gzip(path, 20_000)
    for read in ("lazy", "eager"):
        rejected = gp.DeadLetters()
        source = reader(path, on_error=rejected)
        records = list(source) if read == "lazy" else source.eager()
        [letter] = rejected
        assert letter.item is None
        complete = letter.exception.line - 1  # type: ignore[attr-defined]
        expected = [str(n) for n in range(complete)]
        assert (
            records
            == {
                gp.read_lines: expected,
                gp.read_jsonl: list(range(complete)),
                gp.read_csv: [{"0": n} for n in expected[1:]],
            }[reader]
        )


def test_a_file_named_gz_that_is_not_gzip_is_a_record_error_at_line_1(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plain.csv.gz"
    path.write_text("a,b\n1,2\n")
    error = record_error(gp.read_csv(path))
    assert error.line == 1
    assert "the compressed data is damaged (Not a gzipped file" in str(error)


def test_read_jsonl_accepts_nan_and_infinity_unless_allow_nan_is_false(
    tmp_path: Path,
) -> None:
    path = tmp_path / "floats.jsonl"
    path.write_text("1.5\nNaN\n-Infinity\n")
    assert [repr(value) for value in gp.read_jsonl(path)] == ["1.5", "nan", "-inf"]
    rejected = gp.DeadLetters()
    assert list(gp.read_jsonl(path, allow_nan=False, on_error=rejected)) == [1.5]
    assert failures(rejected) == [
        ("NaN", f"{path}:2: invalid JSON: NaN is not a JSON number (allow_nan=False)"),
        (
            "-Infinity",
            f"{path}:3: invalid JSON: -Infinity is not a JSON number (allow_nan=False)",
        ),
    ]
    assert repr(gp.read_jsonl(path, allow_nan=False)).endswith(", allow_nan=False)")


# Every reader: gzip, laziness, re-iteration, file handles


def read_all_three(path: Path) -> dict[str, list[Any]]:
    return {
        "lines": list(gp.read_lines(path)),
        "jsonl": list(gp.read_jsonl(path)),
        "csv": list(gp.read_csv(path)),
    }


def test_every_reader_decompresses_a_gz_path(tmp_path: Path) -> None:
    path = tmp_path / "numbers.gz"
    with gzip.open(path, "wt") as out:
        out.write("1\n2\n")
    assert read_all_three(path) == {
        "lines": ["1", "2"],
        "jsonl": [1, 2],
        "csv": [{"1": "2"}],
    }


def test_every_reader_rereads_the_file_on_each_iteration(tmp_path: Path) -> None:
    path = tmp_path / "numbers"
    path.write_text("1\n2\n")
    sources = [gp.read_lines(path), gp.read_jsonl(path), gp.read_csv(path)]
    first = [list(each) for each in sources]
    path.write_text("7\n8\n9\n")
    assert first == [["1", "2"], [1, 2], [{"1": "2"}]]
    assert [list(each) for each in sources] == [
        ["7", "8", "9"],
        [7, 8, 9],
        [{"7": "8"}, {"7": "9"}],
    ]


def file_sources(path: Path) -> list[gp.Source[Any]]:
    return [gp.read_lines(path), gp.read_jsonl(path), gp.read_csv(path)]


@pytest.mark.parametrize("name", ["numbers.txt", "numbers.txt.gz"])
def test_a_reader_opens_its_file_only_when_pulled(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    for each in file_sources(path):
        iterator = iter(each)
        with pytest.raises(FileNotFoundError):
            next(iterator)


@needs_proc_fd
@pytest.mark.parametrize("name", ["numbers.txt", "numbers.txt.gz"])
def test_a_reader_closes_its_file_when_its_iterator_is_closed(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    with gzip.open(path, "wt") if name.endswith(".gz") else open(path, "w") as out:
        out.write("1\n2\n3\n")
    for each in file_sources(path):
        iterator = iter(each)
        next(iterator)
        assert descriptors_open_on(path), repr(each)
        iterator.close()
        assert not descriptors_open_on(path), repr(each)


@needs_proc_fd
def test_a_reader_closes_its_file_after_break_exhaustion_and_with(
    tmp_path: Path,
) -> None:
    path = tmp_path / "numbers"
    path.write_text("1\n2\n3\n")
    for each in file_sources(path):
        for _ in each:
            break
        assert not descriptors_open_on(path), f"break: {each!r}"
        assert len(list(each)) >= 2
        assert not descriptors_open_on(path), f"exhausted: {each!r}"
        with each.open() as iterator:
            next(iterator)
        assert not descriptors_open_on(path), f"with: {each!r}"
