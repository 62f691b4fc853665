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
from csv_errors import CsvRejected

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
        raise CsvRejected("empty", "the object is empty (0 bytes)")
    body = _Prefixed(head, raw)  # type: ignore[arg-type]
    if file_signatures.identify(head) == file_signatures.GZIP:
        return Source(gzip.GzipFile(fileobj=body, mode="rb"), "gzip", raw)  # type: ignore[arg-type]
    return Source(body, None, raw)  # type: ignore[arg-type]


GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


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
            raise CsvRejected(
                "unparseable",
                f"no line end in the first {first_record_max_bytes} bytes: the first "
                "record cannot be read",
            )
        more = _read_full(stream, min(len(sample), first_record_max_bytes - len(sample)))
        at_eof = not more
        sample += more
    return sample, at_eof
