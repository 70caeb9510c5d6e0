"""Text files opened for the file sources: decoding, byte-order marks, gzip damage.

Every reader opens its file with `open_lines`, so an undecodable line, a
byte-order mark or a damaged gzip stream is dealt with alike in each: the bad
line, or the line where the data broke off, becomes a `RecordError` naming the
file and the line, for the reader's ``on_error`` to handle.
"""

from __future__ import annotations

import codecs
import gzip
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

from genpipe._errors import RecordError
from genpipe._files import is_gzip

# Strict decoding that goes on past a bad byte: each undecodable byte b
# becomes the lone surrogate U+DC00 + b, which no strict decoder produces, so
# a line that holds one was not decodable and still shows which bytes were
# bad. (surrogateescape does the same for bytes >= 0x80 only, and so fails on
# UTF-16 and UTF-32.)
_MARK_UNDECODABLE = "genpipe.mark-undecodable"
_UNDECODABLE = re.compile("[\udc00-\udcff]+")


def _mark_undecodable(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    bad = error.object[error.start : error.end]
    return "".join(chr(0xDC00 + byte) for byte in bad), error.end


codecs.register_error(_MARK_UNDECODABLE, _mark_undecodable)

#: What reading a truncated or corrupt gzip stream raises.
DAMAGE = (EOFError, zlib.error, gzip.BadGzipFile)


class TextLines:
    """An open text file, and how to report what is wrong with its lines.

    The readers iterate `file` themselves, so that a line costs no more than
    their own loop; with ``strict`` decoding, a line that is not ASCII goes to
    `undecodable`, and an exception in `DAMAGE` from the iteration to
    `damaged`.
    """

    __slots__ = ("_encoding", "file", "path", "strict")

    def __init__(self, file: TextIO, path: str, *, encoding: str, strict: bool) -> None:
        self.file = file
        self.path = path
        self._encoding = encoding
        self.strict = strict

    def undecodable(self, line: str, number: int) -> RecordError | None:
        """The error for line ``number`` if it holds undecodable bytes, else None."""
        found = _UNDECODABLE.search(line)
        if found is None:
            return None
        bad = bytes(ord(mark) - 0xDC00 for mark in found.group())
        reason = "invalid or incomplete sequence"
        cause = UnicodeDecodeError(self._encoding, bad, 0, len(bad), reason)
        message = (
            f"cannot decode {bad!r} at column {found.start() + 1} as "
            f"{self._encoding}; pass the file's encoding=, or errors='replace' "
            "to read such bytes as U+FFFD"
        )
        error = RecordError(message, path=self.path, line=number)
        error.__cause__ = cause
        return error

    def damaged(self, exc: Exception, complete: int) -> RecordError:
        """The error for damage found after ``complete`` whole lines."""
        if isinstance(exc, EOFError):
            what = "the file is cut short: its compressed data ends early"
        else:
            what = f"the compressed data is damaged ({exc})"
        if complete:
            where = f"only lines 1-{complete} are complete"
        else:
            where = "no line is complete"
        error = RecordError(f"{what}; {where}", path=self.path, line=complete + 1)
        error.__cause__ = exc
        return error


def with_bytes_replaced(text: str) -> str:
    """``text`` with each run of undecodable bytes as one U+FFFD."""
    return _UNDECODABLE.sub("\ufffd", text)


@contextmanager
def open_lines(
    path: str, *, encoding: str, errors: str, newline: str | None
) -> Iterator[TextLines]:
    """Open ``path`` (through gzip if it ends in ``.gz``) for one pass over its lines.

    With the UTF-8 encoding a byte-order mark at the start is dropped, as
    ``utf-8-sig`` does; ``errors`` is that of `open`, and with ``"strict"``
    an undecodable line is reported rather than raised.
    """
    strict = errors == "strict"
    codec = "utf-8-sig" if codecs.lookup(encoding).name == "utf-8" else encoding
    decoding = _MARK_UNDECODABLE if strict else errors
    with _open_text(path, encoding=codec, errors=decoding, newline=newline) as text:
        yield TextLines(text, path, encoding=encoding, strict=strict)


def _open_text(path: str, *, encoding: str, errors: str, newline: str | None) -> TextIO:
    if is_gzip(path):
        return gzip.open(path, "rt", encoding=encoding, errors=errors, newline=newline)
    return open(path, encoding=encoding, errors=errors, newline=newline)
