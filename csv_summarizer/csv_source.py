"""The byte stream the summarizer reads: gzip or not, counted, and its first sample.

Nothing here reads more than the sample ahead of the consumer; the sample is extended only
until it holds the whole first record.
"""

from __future__ import annotations

import gzip
import io
import zlib
from dataclasses import dataclass
from typing import Any, BinaryIO

import file_signatures
from csv_errors import CsvRejectedError

SNIFF_BYTES = 64 * 1024
# A first record longer than this without a line end is refused rather than held whole.
FIRST_RECORD_MAX_BYTES = 64 * 1024 * 1024


def _read_full(stream: BinaryIO, n: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


class _Prefixed(io.RawIOBase):
    """A stream with some already-read bytes put back in front of it."""

    def __init__(self, prefix: bytes, stream: BinaryIO) -> None:
        self._prefix = prefix
        self._stream = stream

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._prefix:
            if n is None or n < 0:
                out, self._prefix = self._prefix + self._stream.read(), b""
                return out
            out, self._prefix = self._prefix[:n], self._prefix[n:]
            return out
        return self._stream.read(n) if n is not None and n >= 0 else self._stream.read()

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class _CountingStream(io.RawIOBase):
    """Counts the bytes pulled from the underlying (possibly compressed) stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.count = 0

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n)
        self.count += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


@dataclass
class Source:
    """The decompressed byte stream plus what was learnt opening it."""

    stream: BinaryIO
    compression: str | None
    raw: _CountingStream


def open_source(stream: BinaryIO) -> Source:
    raw = _CountingStream(stream)
    head = _read_full(raw, 2)  # type: ignore[arg-type]
    if not head:
        raise CsvRejectedError("empty", "the object is empty (0 bytes)")
    body = _Prefixed(head, raw)  # type: ignore[arg-type]
    if file_signatures.identify(head) == file_signatures.GZIP:
        return Source(gzip.GzipFile(fileobj=body, mode="rb"), "gzip", raw)  # type: ignore[arg-type]
    return Source(body, None, raw)  # type: ignore[arg-type]


GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)

_BLANK = b" \t\r\n"
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass
class BlankPrefix:
    """The blank lines before the table, read and dropped; ``stream`` goes on after them."""

    stream: BinaryIO
    lines: int  # line breaks dropped (\r\n is one)
    nbytes: int  # bytes dropped
    at_limit: bool  # stopped at ``limit`` bytes, all of them blank


def _breaks(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


def skip_blank_lines(stream: BinaryIO, limit: int | None = None) -> BlankPrefix:
    """Drop whole lines of spaces and tabs, or of nothing, from the start of ``stream``,
    a read at a time: the sample then starts at the table, however many there are.

    A UTF-8 BOM stays in front; text that looks like UTF-16 (a BOM, or a NUL as its first
    other byte) is left whole, since its line breaks are two bytes. Stops once ``limit``
    bytes were dropped.
    """
    head = _read_full(stream, SNIFF_BYTES)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return BlankPrefix(_Prefixed(head, stream), 0, 0, False)  # type: ignore[arg-type]
    bom = _UTF8_BOM if head.startswith(_UTF8_BOM) else b""
    data, lines, nbytes = head[len(bom) :], 0, 0
    while True:
        rest = data.lstrip(_BLANK)
        if rest:  # the table starts in ``data``: drop the whole lines before it
            first = len(data) - len(rest)
            line_start = max(data.rfind(b"\n", 0, first), data.rfind(b"\r", 0, first)) + 1
            cut = 0 if rest[0] == 0 else line_start
            break
        more = _read_full(stream, SNIFF_BYTES)
        if not more:
            cut = len(data)  # nothing but blank lines
            break
        # Keep the unfinished last line (the first line's indent, maybe), or a last \r
        # that a \n may follow; of a line of spaces longer than a read, only its end.
        cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
        if cut == len(data) and data.endswith(b"\r"):
            cut -= 1
        cut = max(cut, len(data) - SNIFF_BYTES)
        lines += _breaks(data[:cut])
        nbytes += cut
        data = data[cut:] + more
        if limit is not None and nbytes >= limit:
            return BlankPrefix(_Prefixed(data, stream), lines, nbytes, True)  # type: ignore[arg-type]
    lines += _breaks(data[:cut])
    nbytes += cut
    return BlankPrefix(_Prefixed(bom + data[cut:], stream), lines, nbytes, False)  # type: ignore[arg-type]


def read_sample(
    stream: BinaryIO, first_record_max_bytes: int = FIRST_RECORD_MAX_BYTES
) -> tuple[bytes, bool]:
    """The first SNIFF_BYTES, extended until they hold a whole line: the header and the
    column count come from the whole first record, however long (a one-line file of
    100,000 columns included). Returns (sample, whether the stream ended)."""
    sample = _read_full(stream, SNIFF_BYTES)
    at_eof = len(sample) < SNIFF_BYTES
    while not at_eof and b"\n" not in sample and b"\r" not in sample:
        if len(sample) >= first_record_max_bytes:
            raise CsvRejectedError(
                "unparseable",
                f"no line end in the first {first_record_max_bytes} bytes: the first "
                "record cannot be read",
            )
        more = _read_full(stream, min(len(sample), first_record_max_bytes - len(sample)))
        at_eof = not more
        sample += more
    return sample, at_eof
