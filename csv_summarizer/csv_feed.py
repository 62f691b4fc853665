"""What pyarrow's streaming reader pulls: the input re-encoded as UTF-8, held to a bounded
read-ahead, with EOF for every read once the summary is done."""

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


class Utf8Feed(io.RawIOBase):
    """What pyarrow reads: the input re-encoded as UTF-8, in the sizes it asks for.

    UTF-8 input passes through after validation (``bytes.isascii`` is the fast path). Invalid
    sequences found after the sniff window are replaced with U+FFFD and counted, never
    passed on (pyarrow would abort the whole read). Other encodings are decoded
    incrementally. Counts NUL bytes; stops at ``max_bytes`` of input and sets ``truncated``.
    With ``blank_lines``, runs of empty lines from output byte ``scan_from`` on (past the
    header) are replaced with marker lines (see ``BlankLines``); with ``long_fields``,
    fields over the size limit are replaced with stand-ins (see ``LongFields``).
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
        self.blank_lines = blank_lines
        self.long_fields = long_fields
        self.long_records = long_records
        self._scan_from = scan_from
        self._produced = 0  # converted bytes, before blank-line markers
        self._quote = quote.encode()[0]
        self.quotes = 0
        self.source_error: BaseException | None = None
        # pyarrow's streaming reader reads up to 32 blocks ahead on a background thread;
        # holding it to ``ahead`` bytes past what was consumed keeps memory flat and low.
        self._cond = threading.Condition()
        self.released = 0
        self.ahead: int | None = None
        # The consumer's signs of life: while it works on what was read, readers wait.
        self.busy = False
        self._progress_at = time.monotonic()
        self._first = first[enc.skip :]
        self._rest = rest
        self._decoder = codecs.getincrementaldecoder(enc.codec)("replace") if enc.codec else None
        self._carry = b""
        # Blank lines before the table, dropped before the sample was taken, were read too.
        self.input_bytes = enc.skip + skipped_bytes
        self.output_bytes = 0
        self.nul_bytes = 0
        self.invalid_utf8 = 0
        self.first_invalid_offset: int | None = None
        self.truncated = False
        self.eof = False
        self._max_bytes = max_bytes
        self._buf = b""
        self._last = b""  # the last byte passed on
        # pyarrow reads on its IO threads, and keeps reading ahead after the consumer has
        # stopped; the consumer may also drain the rest itself. One reader at a time, and
        # nothing at all once ``finish`` is called.
        self._lock = threading.Lock()
        self._finished = False

    def readable(self) -> bool:
        return True

    def _pull(self, n: int) -> bytes:
        if self._first:
            data, self._first = self._first, b""
        else:
            try:
                data = self._rest.read(n)
            except Exception as exc:
                # Kept so the caller can tell a failing source (transient: re-raised)
                # from bad bytes, whatever pyarrow wraps it in.
                self.source_error = exc
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

    def _convert(self, data: bytes, final: bool) -> bytes:
        if self._decoder is not None:
            text = self._decoder.decode(data, final)
            bad = text.count("\ufffd")
            if bad:
                if self.first_invalid_offset is None:
                    self.first_invalid_offset = self.input_bytes - len(data)
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
                self.first_invalid_offset = self.input_bytes - len(data)
            self.invalid_utf8 += bad
        return text.encode("utf-8")

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

    def _throttle(self) -> None:
        """An IO thread reading ahead waits while ``ahead`` bytes are unconsumed and the
        consumer is working on them. It reads on only when the consumer has shown no sign
        of life for STALL_S: then it is waiting for data, as for a record that spans more
        blocks than ``ahead``, and waiting longer would deadlock."""
        ahead = self.ahead
        if ahead is None or threading.current_thread() is threading.main_thread():
            return
        with self._cond:
            while not (self._finished or self.output_bytes - self.released < ahead):
                if self._cond.wait(STALL_S):
                    continue
                if not self.busy and time.monotonic() - self._progress_at >= STALL_S:
                    return

    def finish(self) -> None:
        """The summary is done: every later read (pyarrow's readahead) gets EOF at once,
        so no IO thread outlives ``summarize`` still pulling from the source."""
        with self._cond:
            self._finished = True
            self._cond.notify_all()

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = 1 << 20
        self._throttle()
        with self._lock:
            return b"" if self._finished else self._read(n)

    def _read(self, n: int) -> bytes:
        while len(self._buf) < n and not self.eof:
            # Only what is missing: folding and cutting hold some back, and a second full
            # read would leave a block-sized remainder to copy at every read.
            data = self._pull(max(n - len(self._buf), 1 << 16))
            if not data:
                self.eof = True
                out = self._convert(b"", True) if self._decoder or self._carry else b""
                if self._carry:
                    out += self._carry.decode("utf-8", "replace").encode("utf-8")
                    self.invalid_utf8 += 1
                    self._carry = b""
                out = self._past_header(self._counted(out), final=True)
                # End the last record: pyarrow cannot skip a header line that has no line
                # break after it. Never inside an open quote, where it would join the value.
                last = out[-1:] or self._last
                if last not in (b"", b"\n", b"\r") and self.quotes % 2 == 0:
                    out += b"\n"
            else:
                out = self._past_header(self._counted(self._convert(data, False)), final=False)
            if out:
                self._last = out[-1:]
                self._buf += out
        out, self._buf = self._buf[:n], self._buf[n:]
        self.output_bytes += len(out)
        return out

    def _counted(self, out: bytes) -> bytes:
        """Quotes and NUL bytes counted as read, before long fields are cut out."""
        self.nul_bytes += out.count(0)
        self.quotes += out.count(self._quote)
        return out

    def _past_header(self, out: bytes, final: bool) -> bytes:
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

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
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
