"""File sinks: round trips through the readers, atomic replacement and gzip."""

from __future__ import annotations

import gzip
import os
import re
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import genpipe as gp
from tests.doubles import TrackedSource
from tests.strategies import lines

#: Hypothesis examples reuse one tmp_path: each example overwrites its files.
reuses_tmp_path = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

#: Text as it appears in records: any character but lone surrogates (no codec
#: writes them), with the characters that CSV must quote made frequent.
record_text = st.text(
    st.sampled_from(',;"\r\n \x00') | st.characters(codec="utf-8"),
    max_size=8,
)


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[list[str], list[dict[str, str]]]:
    """Columns, and records that have exactly those keys."""
    columns = draw(st.lists(record_text, min_size=1, max_size=4, unique=True))
    fields = st.lists(record_text, min_size=len(columns), max_size=len(columns))
    rows = draw(st.lists(fields, max_size=6))
    return columns, [dict(zip(columns, row, strict=True)) for row in rows]


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | record_text,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(record_text, inner, max_size=3)
    ),
    max_leaves=8,
)

compressions = pytest.mark.parametrize("suffix", ["", ".gz"], ids=["plain", "gzip"])


# Round trips: what a writer writes, its reader reads back


def assert_reads_back(
    written: list[Any], write: gp.Sink[Any, int], read: gp.Source[Any]
) -> None:
    """``write`` counts every item of ``written``, and ``read`` gives them back."""
    assert written | write == len(written)
    assert list(read) == read.eager() == written


@compressions
@reuses_tmp_path
@given(written=st.lists(lines, max_size=6))
def test_write_lines_then_read_lines_gives_the_lines_back(
    tmp_path: Path, suffix: str, written: list[str]
) -> None:
    path = tmp_path / f"out.txt{suffix}"
    assert_reads_back(written, gp.write_lines(path), gp.read_lines(path))


@compressions
@reuses_tmp_path
@given(written=st.lists(json_values, max_size=6))
def test_write_jsonl_then_read_jsonl_gives_the_values_back(
    tmp_path: Path, suffix: str, written: list[Any]
) -> None:
    path = tmp_path / f"out.jsonl{suffix}"
    assert_reads_back(written, gp.write_jsonl(path), gp.read_jsonl(path))


@compressions
@reuses_tmp_path
@given(table=csv_tables(), name_columns=st.booleans())
def test_write_csv_then_read_csv_gives_the_records_back(
    tmp_path: Path,
    suffix: str,
    table: tuple[list[str], list[dict[str, str]]],
    name_columns: bool,
) -> None:
    columns, records = table
    path = tmp_path / f"out.csv{suffix}"
    write = gp.write_csv(path, columns) if name_columns else gp.write_csv(path)
    assert_reads_back(records, write, gp.read_csv(path))


# write_lines and write_jsonl


def test_write_lines_writes_a_newline_after_every_line(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    ["a", "", "b"] | gp.write_lines(path)
    assert path.read_bytes() == b"a\n\nb\n"


def test_write_lines_encodes_with_the_given_encoding(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    ["Zürich"] | gp.write_lines(path, encoding="latin-1")
    assert path.read_bytes() == "Zürich\n".encode("latin-1")


def test_write_jsonl_writes_non_ascii_text_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    [{"city": "Zürich"}] | gp.write_jsonl(path)
    assert path.read_bytes() == '{"city": "Zürich"}\n'.encode()


def test_write_jsonl_of_a_value_json_cannot_encode_writes_no_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.jsonl"
    with pytest.raises(TypeError, match="set is not JSON serializable"):
        [1, {2}] | gp.write_jsonl(path)
    assert os.listdir(tmp_path) == []


# write_csv


def test_write_csv_takes_the_columns_from_the_first_record(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    [{"b": 1, "a": 2}, {"a": 3, "b": 4}] | gp.write_csv(path)
    assert path.read_text().splitlines() == ["b,a", "1,2", "4,3"]


def test_write_csv_writes_missing_keys_and_none_as_empty_fields(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    records: list[dict[str, int | None]] = [{"a": 1, "b": None}, {"b": 2}]
    records | gp.write_csv(path, ["a", "b"])
    assert path.read_text().splitlines() == ["a,b", "1,", ",2"]


def test_write_csv_record_with_an_unknown_key_is_an_error_naming_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.csv"
    path.write_text("old")
    records = [{"a": 1}, {"a": 2, "zip": 3}]
    with pytest.raises(
        ValueError, match=r"record \{'a': 2, 'zip': 3\} with keys \['zip'\]"
    ):
        records | gp.write_csv(path)
    assert os.listdir(tmp_path) == ["out.csv"]
    assert path.read_text() == "old"


def test_write_csv_passes_csv_options_to_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    [{"a": "x;y", "b": 1}] | gp.write_csv(path, delimiter=";", lineterminator="\n")
    assert path.read_text() == 'a;b\n"x;y";1\n'


def test_write_csv_of_an_empty_stream_writes_a_header_only_if_given(
    tmp_path: Path,
) -> None:
    unnamed, named = tmp_path / "unnamed.csv", tmp_path / "named.csv"
    assert [] | gp.write_csv(unnamed) == 0
    assert [] | gp.write_csv(named, ["a", "b"]) == 0
    assert unnamed.read_text() == ""
    assert named.read_bytes() == b"a,b\r\n"


def test_write_csv_with_an_empty_first_record_asks_for_fieldnames(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match=r"empty first record.*pass fieldnames="):
        [{}] | gp.write_csv(tmp_path / "out.csv")
    assert os.listdir(tmp_path) == []


# Every writer: atomic replacement, gzip, permissions

Writer = Callable[[Path], gp.Sink[Any, int]]

WRITERS: dict[str, tuple[Writer, list[Any]]] = {
    "lines": (gp.write_lines, ["a", "b", "c"]),
    "jsonl": (gp.write_jsonl, [1, 2, 3]),
    "csv": (gp.write_csv, [{"n": 1}, {"n": 2}, {"n": 3}]),
}
every_writer = pytest.mark.parametrize(
    ("write", "items"), WRITERS.values(), ids=WRITERS
)


class HalfwayError(Exception):
    """Raised by a stream partway through."""


def failing_after_first(items: list[Any]) -> Iterator[Any]:
    yield items[0]
    raise HalfwayError


@every_writer
def test_a_stream_failing_halfway_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    path = tmp_path / "out"
    path.write_text("old")
    with pytest.raises(HalfwayError):
        failing_after_first(items) | write(path)
    assert os.listdir(tmp_path) == ["out"]
    assert path.read_text() == "old"


@every_writer
def test_a_stream_failing_halfway_creates_no_file(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    with pytest.raises(HalfwayError):
        failing_after_first(items) | write(tmp_path / "out")
    assert os.listdir(tmp_path) == []


@every_writer
def test_the_old_file_stays_until_the_stream_ends_then_is_replaced(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    path = tmp_path / "out"
    path.write_text("old")
    during: list[tuple[str, list[str]]] = []

    def look(_: object) -> None:
        during.append((path.read_text(), sorted(os.listdir(tmp_path))))

    assert items | gp.tap(look) | write(path) == len(items)
    assert all(text == "old" for text, _ in during)
    names = during[-1][1]
    assert len(names) == 2
    assert re.fullmatch(rf"\.out\.genpipe-{os.getpid()}-[0-9a-f]{{8}}\.tmp", names[0])
    assert os.listdir(tmp_path) == ["out"]
    assert path.read_text() != "old"


@every_writer
def test_a_gz_path_is_written_as_gzip_naming_the_final_file(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    path = tmp_path / "out.gz"
    items | write(path)
    compressed = path.read_bytes()
    assert compressed.startswith(b"\x1f\x8b")
    assert compressed[10:14] == b"out\x00"  # the name in the header, minus .gz
    assert len(gzip.decompress(compressed).splitlines()) >= len(items)


@every_writer
def test_a_new_file_gets_the_usual_permissions(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    umask = os.umask(0o027)
    try:
        items | write(tmp_path / "out")
    finally:
        os.umask(umask)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o640


@every_writer
def test_writing_into_a_missing_folder_names_the_target_and_reads_nothing(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    target = tmp_path / "missing" / "out.gz"
    upstream = TrackedSource(items)
    with pytest.raises(FileNotFoundError) as caught:
        upstream | gp.buffer() | write(target)
    assert str(caught.value).endswith(
        f"cannot write {str(target)!r}: its folder {str(target.parent)!r} does not "
        "exist; create it first (os.makedirs)"
    )
    assert upstream.pulls == 0
    assert os.listdir(tmp_path) == []


@every_writer
def test_replacing_a_file_keeps_its_mode(
    tmp_path: Path, write: Writer, items: list[Any]
) -> None:
    path = tmp_path / "secret"
    path.write_text("old")
    path.chmod(0o600)
    umask = os.umask(0o022)
    try:
        items | write(path)
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o664)
    items | write(path)
    assert path.stat().st_mode & 0o777 == 0o664


def test_a_killed_writer_leaves_its_target_alone_and_a_temporary_file_naming_it(
    tmp_path: Path,
) -> None:
    program = textwrap.dedent(
        """
        import os, signal, sys
        import genpipe as gp

        def die(line):
            if line == "b":
                os.kill(os.getpid(), signal.SIGKILL)

        print(os.getpid(), flush=True)
        ["a", "b", "c"] | gp.tap(die) | gp.write_lines(sys.argv[1])
        """
    )
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    killed = subprocess.run(
        [sys.executable, "-c", program, str(target)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert killed.returncode == -signal.SIGKILL
    assert target.read_text() == "old\n"
    [left] = [name for name in os.listdir(tmp_path) if name != "out.txt"]
    pid = killed.stdout.strip()
    assert re.fullmatch(rf"\.out\.txt\.genpipe-{pid}-[0-9a-f]{{8}}\.tmp", left)


def test_write_csv_of_items_that_are_not_mappings_says_what_it_writes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "rows.csv"
    message = r"write_csv\(\) writes mappings such as .* got 1 of type int"
    with pytest.raises(TypeError, match=message):
        [1, 2] | gp.write_csv(path)  # type: ignore[operator]
    with pytest.raises(TypeError, match=r"got \['b'\] of type list"):
        [{"a": 1}, ["b"]] | gp.write_csv(path)  # type: ignore[operator]
    assert os.listdir(tmp_path) == []
