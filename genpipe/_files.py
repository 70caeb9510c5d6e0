"""What file sources and sinks share: argument checks, gzip, atomic replacement."""

from __future__ import annotations

import codecs
import csv
import errno
import gzip
import io
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import IO, TYPE_CHECKING, TextIO, TypedDict

from genpipe._core import describe

if TYPE_CHECKING:
    from _csv import _DialectLike, _QuotingType


class CsvOptions(TypedDict, total=False):
    """The keyword arguments `csv.reader` and `csv.writer` take."""

    dialect: _DialectLike
    delimiter: str
    quotechar: str | None
    escapechar: str | None
    doublequote: bool
    skipinitialspace: bool
    lineterminator: str
    quoting: _QuotingType
    strict: bool


def check_path(factory: str, path: object) -> str:
    """Return ``path`` as a str if it is a non-empty str or `os.PathLike` path."""
    if isinstance(path, str | os.PathLike):
        text = os.fspath(path)
        if isinstance(text, str):
            if not text:
                raise ValueError(f"{factory}() needs a file path, got an empty string")
            return text
    raise TypeError(
        f"{factory}() needs a file path as a str or pathlib.Path, got {describe(path)}"
    )


def check_encoding(factory: str, encoding: object) -> None:
    if not isinstance(encoding, str):
        raise TypeError(
            f"{factory}() needs encoding as a str such as 'utf-8', "
            f"got {describe(encoding)}"
        )
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise ValueError(
            f"{factory}() got the unknown encoding {encoding!r}; "
            "pass a codec name such as 'utf-8' or 'latin-1'"
        ) from None


def encoding_option(encoding: str, errors: str = "strict") -> dict[str, object]:
    """``encoding`` and ``errors`` as keywords for a ``repr``, unless the defaults."""
    shown: dict[str, object] = {}
    if encoding != "utf-8":
        shown["encoding"] = encoding
    if errors != "strict":
        shown["errors"] = errors
    return shown


def check_csv_options(factory: str, options: CsvOptions) -> None:
    try:
        csv.reader((), **options)
    except (TypeError, csv.Error) as exc:
        raise TypeError(
            f"{factory}() got csv options {options} that the csv module rejects "
            f"({exc}); pass csv.reader's keyword arguments, such as "
            "delimiter=';' or dialect='excel-tab'"
        ) from exc


def check_errors(factory: str, errors: object) -> None:
    if not isinstance(errors, str):
        raise TypeError(
            f"{factory}() needs errors as a str such as 'strict' or 'replace', "
            f"got {describe(errors)}"
        )
    try:
        codecs.lookup_error(errors)
    except LookupError:
        raise ValueError(
            f"{factory}() got the unknown errors={errors!r}; pass what open() "
            "takes: 'strict', 'replace', 'ignore', 'backslashreplace', ..."
        ) from None


def is_gzip(path: str) -> bool:
    return path.endswith(".gz")


@contextmanager
def replacing(factory: str, path: str, *, encoding: str) -> Iterator[TextIO]:
    """Write text that replaces ``path`` only if the ``with`` block completes.

    The text goes to a temporary file in the same folder, so the final rename
    stays on one filesystem and is atomic: readers see the old file or the
    new one, never a partial one. The new file keeps the mode of the file it
    replaces. An exception in the block deletes the temporary file and leaves
    ``path`` as it was; a process killed outright (SIGKILL, power loss) leaves
    it behind, named by `temporary_name` for whoever cleans up. A path ending
    in ``.gz`` is written compressed; line endings are written exactly as
    given. A folder that does not exist fails here, before the block runs, so
    nothing is read from the stream for a write that cannot happen.
    """
    folder = os.path.dirname(path) or os.curdir
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            errno.ENOENT,
            f"{factory}() cannot write {path!r}: its folder {folder!r} does not "
            "exist; create it first (os.makedirs)",
        )
    try:
        mode: int | None = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        mode = None
    name = os.path.basename(path)
    temporary = os.path.join(folder, temporary_name(name))
    try:
        with _durable_text(
            temporary, encoding=encoding, final_name=name, mode=mode
        ) as text:
            yield text
        os.replace(temporary, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.remove(temporary)
        raise


def temporary_name(name: str) -> str:
    """The hidden name a file is written under until it replaces ``name``.

    It says which file it is for, that genpipe wrote it and from which process,
    so that one a crash left behind can be told apart and deleted by hand:
    ``.orders.csv.genpipe-4711-9f86d081.tmp``.
    """
    return f".{name}.genpipe-{os.getpid()}-{secrets.token_hex(4)}.tmp"


@contextmanager
def _durable_text(
    path: str, *, encoding: str, final_name: str, mode: int | None
) -> Iterator[TextIO]:
    """Create ``path`` and write text to it; fsync it if the block completes.

    ``final_name``, the name the file will be renamed to, decides whether it is
    compressed and is the name the gzip header records. ``mode`` is that of the
    file it will replace; a new file gets the usual 0o666 minus the umask
    (not tempfile.mkstemp's private 0o600).
    """
    # O_BINARY (Windows only) keeps the C runtime from translating newlines.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    # Created with at most the final mode, so that replacing a private file
    # never exposes its new contents, even briefly.
    descriptor = os.open(path, flags, 0o666 if mode is None else mode)
    try:
        if mode is not None:
            os.chmod(path, mode)  # the umask may have cleared some of its bits
        # The descriptor outlives the file objects so that it can be fsynced
        # after they have flushed everything, gzip's trailer included.
        with (
            open(descriptor, "wb", closefd=False) as raw,
            io.TextIOWrapper(
                _compressed(raw, final_name) if is_gzip(final_name) else raw,
                encoding=encoding,
                newline="",
            ) as text,
        ):
            yield text
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _compressed(raw: IO[bytes], final_name: str) -> gzip.GzipFile:
    return gzip.GzipFile(filename=final_name, mode="wb", fileobj=raw)
