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


@reuses_tmp_path
@given(text=st.text(st.sampled_from("ab\r\n")))
def test_read_lines_streaming_equals_reading_whole(tmp_path: Path, text: str) -> None:
    path = tmp_path / "lines.txt"
    path.write_bytes(text.encode())
    lines = gp.read_lines(path)
    assert list(lines) == lines.eager()


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
    seen: list[tuple[int, str]] = []

    def placeholder(error: gp.RecordError, line: str) -> str:
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


@reuses_tmp_path
@given(text=st.text(st.sampled_from('1[]"x,\r\n '), max_size=40))
def test_read_jsonl_streaming_equals_reading_whole_even_with_bad_lines(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "values.jsonl"
    path.write_bytes(text.encode())
    streamed, whole = gp.DeadLetters(), gp.DeadLetters()
    assert list(gp.read_jsonl(path, on_error=streamed)) == (
        gp.read_jsonl(path, on_error=whole).eager()
    )
    assert failures(streamed) == failures(whole)


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
@given(text=st.text(st.sampled_from('ab,"\r\n'), max_size=40), strict=st.booleans())
def test_read_csv_streaming_equals_reading_whole_even_with_bad_rows(
    tmp_path: Path, text: str, strict: bool
) -> None:
    path = tmp_path / "table.csv"
    path.write_bytes(text.encode())
    streamed, whole = gp.DeadLetters(), gp.DeadLetters()
    lazy = outcome(lambda: list(gp.read_csv(path, strict=strict, on_error=streamed)))
    eager = outcome(gp.read_csv(path, strict=strict, on_error=whole).eager)
    assert lazy == eager
    assert failures(streamed) == failures(whole)


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
