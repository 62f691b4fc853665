"""What pyarrow's streaming reader pulls: the input re-encoded as UTF-8, held to a bounded
read-ahead, with EOF for every read once the summary is done.

``Utf8Feed`` is what pyarrow reads; it puts together a ``ByteSource`` (the input's bytes, up
to ``max_bytes``), a ``Utf8Converter`` (those bytes as valid UTF-8), an ``OutputScan`` (what
is counted, folded and cut as the output passes) and a ``ReadAhead`` (how far pyarrow's IO
threads may read ahead of the consumer, and when they stop).
"""

from __future__ import annotations

import codecs
import io
import itertools
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, BinaryIO

from csv_blank_lines import BlankLines
from csv_encoding import Encoding
from csv_long_fields import LongFields
from csv_long_records import LongRecords

# Silence from the consumer that means it waits for data rather than works on it.
STALL_S = 0.25


class ByteSource:
    """The input's bytes: the sample already read, then the rest of the stream, stopping at
    ``max_bytes`` of input (then ``truncated`` is set)."""

    def __init__(
        self, first: bytes, rest: BinaryIO, max_bytes: int | None, input_bytes: int
    ) -> None:
        self._first = first
        self._rest = rest
        self._max_bytes = max_bytes
        self.input_bytes = input_bytes  # read so far, with what was dropped before ``first``
        self.truncated = False
        # Kept so the caller can tell a failing source (transient: re-raised) from bad
        # bytes, whatever pyarrow wraps it in.
        self.error: BaseException | None = None

    def pull(self, size: int) -> bytes:
        if self._first:
            data, self._first = self._first, b""
        else:
            try:
                data = self._rest.read(size)
            except Exception as exc:
                self.error = exc
                raise
        if self._max_bytes is not None and data:
            room = self._max_bytes - self.input_bytes
            if room <= 0:
                self.truncated = True
                return b""
            if len(data) > room:
                data = data[:room]
                self.truncated = True
        self.input_bytes += len(data)
        return data


class Utf8Converter:
    """Input bytes as UTF-8. UTF-8 input passes through after validation (``bytes.isascii``
    is the fast path); invalid sequences found after the sniff window are replaced with
    U+FFFD and counted, never passed on (pyarrow would abort the whole read). Other
    encodings are decoded incrementally."""

    def __init__(self, codec: str | None) -> None:
        self._decoder = codecs.getincrementaldecoder(codec)("replace") if codec else None
        self._carry = b""  # the start of a UTF-8 character split across reads
        self.invalid_utf8 = 0
        self.first_invalid_offset: int | None = None

    def convert(self, data: bytes, final: bool, input_bytes: int) -> bytes:
        """``data`` as UTF-8; ``input_bytes``: the input read so far, ``data`` included."""
        if self._decoder is not None:
            text = self._decoder.decode(data, final)
            bad = text.count("\ufffd")
            if bad:
                if self.first_invalid_offset is None:
                    self.first_invalid_offset = input_bytes - len(data)
                self.invalid_utf8 += bad
            return text.encode("utf-8")
        data = self._carry + data
        self._carry = b""
        if data.isascii():
            return data
        try:
            data.decode("utf-8")
            return data
        except UnicodeDecodeError as exc:
            if not final and exc.start >= len(data) - 3 and exc.reason == "unexpected end of data":
                # A character split across reads: keep its start for the next read.
                self._carry = data[exc.start :]
                good = data[: exc.start]
                good.decode("utf-8")
                return good
        text = data.decode("utf-8", "replace")
        bad = text.count("\ufffd") - data.count("\ufffd".encode())
        if bad > 0:
            if self.first_invalid_offset is None:
                self.first_invalid_offset = input_bytes - len(data)
            self.invalid_utf8 += bad
        return text.encode("utf-8")

    def flush(self, input_bytes: int) -> bytes:
        """At the end of the input: what the decoder or a split character still holds."""
        out = self.convert(b"", True, input_bytes) if self._decoder or self._carry else b""
        if self._carry:
            out += self._carry.decode("utf-8", "replace").encode("utf-8")
            self.invalid_utf8 += 1
            self._carry = b""
        return out


class OutputScan:
    """What is counted and rewritten as the converted output passes: quotes and NUL bytes
    counted as read; from output byte ``scan_from`` on (past the header), runs of empty lines
    replaced with marker lines (see ``BlankLines``), and fields and records over the size
    limits replaced with stand-ins (see ``LongFields``, ``LongRecords``)."""

    def __init__(
        self,
        quote: str,
        blank_lines: BlankLines | None,
        scan_from: int,
        long_fields: LongFields | None,
        long_records: LongRecords | None,
    ) -> None:
        self._quote = quote.encode()[0]
        self.quotes = 0
        self.nul_bytes = 0
        self.blank_lines = blank_lines
        self.long_fields = long_fields
        self.long_records = long_records
        self._scan_from = scan_from
        self._produced = 0  # converted bytes, before blank-line markers

    def counted(self, out: bytes) -> bytes:
        """Quotes and NUL bytes counted as read, before long fields are cut out."""
        self.nul_bytes += out.count(0)
        self.quotes += out.count(self._quote)
        return out

    def past_header(self, out: bytes, final: bool) -> bytes:
        """Blank-line runs folded, long fields and records cut, after the header."""
        if self.blank_lines is None and self.long_fields is None and self.long_records is None:
            return out
        start = self._produced
        self._produced += len(out)
        if self._produced <= self._scan_from and not final:
            return out
        cut = min(len(out), max(0, self._scan_from - start))
        body = out[cut:]
        if body and self.blank_lines is not None:
            body = self.blank_lines.scan(body)
        if self.long_fields is not None:
            body = self.long_fields.scan(body, final)
        if self.long_records is not None:
            body = self.long_records.scan(body, final)
        return out[:cut] + body


class ReadAhead:
    """How far pyarrow's IO threads may read ahead of the consumer, and when they stop.

    pyarrow's streaming reader reads up to 32 blocks ahead on a background thread; holding
    it to ``ahead`` bytes past what was consumed keeps memory flat and low.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.output_bytes = 0  # handed to pyarrow
        self.released = 0  # of those, finished by the consumer
        self.ahead: int | None = None
        # The consumer's signs of life: while it works on what was read, readers wait.
        self.busy = False
        self._progress_at = time.monotonic()
        self.finished = False

    def release(self, nbytes: int) -> None:
        """The consumer finished about ``nbytes`` of what was read; let reading go on."""
        with self._cond:
            self.released += nbytes
            self._progress_at = time.monotonic()
            self._cond.notify_all()

    def progress(self) -> None:
        """The consumer is still working through what was read (called per invalid row, so
        lock-free: one assignment)."""
        self._progress_at = time.monotonic()

    def throttle(self) -> None:
        """An IO thread reading ahead waits while ``ahead`` bytes are unconsumed and the
        consumer is working on them. It reads on only when the consumer has shown no sign
        of life for STALL_S: then it is waiting for data, as for a record that spans more
        blocks than ``ahead``, and waiting longer would deadlock."""
        ahead = self.ahead
        if ahead is None or threading.current_thread() is threading.main_thread():
            return
        with self._cond:
            while not (self.finished or self.output_bytes - self.released < ahead):
                if self._cond.wait(STALL_S):
                    continue
                if not self.busy and time.monotonic() - self._progress_at >= STALL_S:
                    return

    def finish(self) -> None:
        """The summary is done: every later read (pyarrow's readahead) gets EOF at once,
        so no IO thread outlives ``summarize`` still pulling from the source."""
        with self._cond:
            self.finished = True
            self._cond.notify_all()


class Utf8Feed(io.RawIOBase):
    """What pyarrow reads: the input re-encoded as UTF-8, in the sizes it asks for.

    The bytes come from ``source`` (stopping at ``max_bytes``), are made valid UTF-8 by
    ``converter`` and counted and rewritten past the header by ``scan`` (with
    ``blank_lines``, ``long_fields``, ``long_records``); ``read_ahead`` holds pyarrow's IO
    threads back and ends every read once the summary is done.
    """

    def __init__(
        self,
        first: bytes,
        rest: BinaryIO,
        enc: Encoding,
        max_bytes: int | None,
        quote: str,
        blank_lines: BlankLines | None = None,
        scan_from: int = 0,
        long_fields: LongFields | None = None,
        skipped_bytes: int = 0,
        long_records: LongRecords | None = None,
    ) -> None:
        # Blank lines before the table, dropped before the sample was taken, were read too.
        self.source = ByteSource(first[enc.skip :], rest, max_bytes, enc.skip + skipped_bytes)
        self.converter = Utf8Converter(enc.codec)
        self.scan = OutputScan(quote, blank_lines, scan_from, long_fields, long_records)
        self.read_ahead = ReadAhead()
        self.eof = False
        self._buf = b""
        self._last = b""  # the last byte passed on
        # pyarrow reads on its IO threads, and keeps reading ahead after the consumer has
        # stopped; the consumer may also drain the rest itself. One reader at a time, and
        # nothing at all once ``read_ahead.finish`` is called.
        self._lock = threading.Lock()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = 1 << 20
        self.read_ahead.throttle()
        with self._lock:
            return b"" if self.read_ahead.finished else self._read(size)

    def _read(self, size: int) -> bytes:
        source, converter, scan = self.source, self.converter, self.scan
        while len(self._buf) < size and not self.eof:
            # Only what is missing: folding and cutting hold some back, and a second full
            # read would leave a block-sized remainder to copy at every read.
            data = source.pull(max(size - len(self._buf), 1 << 16))
            if not data:
                self.eof = True
                out = scan.past_header(scan.counted(converter.flush(source.input_bytes)), True)
                # End the last record: pyarrow cannot skip a header line that has no line
                # break after it. Never inside an open quote, where it would join the value.
                last = out[-1:] or self._last
                if last not in (b"", b"\n", b"\r") and scan.quotes % 2 == 0:
                    out += b"\n"
            else:
                converted = converter.convert(data, False, source.input_bytes)
                out = scan.past_header(scan.counted(converted), final=False)
            if out:
                self._last = out[-1:]
                self._buf += out
        out, self._buf = self._buf[:size], self._buf[size:]
        self.read_ahead.output_bytes += len(out)
        return out

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


@dataclass(frozen=True)
class HeaderEnd:
    """Where the lines before the data end in the output (see ``scan_offset``)."""

    offset: int  # UTF-8 bytes
    bare_cr: bool  # they end in a bare \r: a \n may follow


def scan_offset(text: str, skip_lines: int) -> HeaderEnd | None:
    """Where the first ``skip_lines`` physical lines of ``text`` end; None if the text has
    fewer."""
    if skip_lines == 0:
        return HeaderEnd(0, False)
    ends = re.finditer(r"\r\n|\r(?!\n)|\n", text)
    line_end = next(itertools.islice(ends, skip_lines - 1, None), None)
    if line_end is None:
        return None
    return HeaderEnd(len(text[: line_end.end()].encode("utf-8")), line_end.group() == "\r")
