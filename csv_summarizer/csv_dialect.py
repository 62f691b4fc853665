"""Input side of the summarizer: gzip, encoding, dialect and header, from a non-seekable stream.

Nothing here reads more than the sniff window ahead; the rest of the stream is handed on as
UTF-8 bytes through ``Utf8Feed`` (a file-like object pyarrow's streaming reader pulls from).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import itertools
import re
import secrets
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from csv_errors import CsvRejected

SNIFF_BYTES = 64 * 1024
# A first record longer than this without a line end is refused rather than held whole.
FIRST_RECORD_MAX_BYTES = 64 * 1024 * 1024
DELIMITERS = (",", ";", "\t", "|")
_BINARY_MAGIC = (
    (b"%PDF", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"\x7fELF", "elf"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"PAR1", "parquet"),
    (b"SQLite format 3\x00", "sqlite"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
# Bytes cp1252 leaves undefined; their presence means the text is not cp1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_GZIP_MAGIC = b"\x1f\x8b"


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
    if head == _GZIP_MAGIC:
        return Source(gzip.GzipFile(fileobj=body, mode="rb"), "gzip", raw)  # type: ignore[arg-type]
    return Source(body, None, raw)  # type: ignore[arg-type]


GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)


@dataclass
class Encoding:
    name: str  # reported name: utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252, iso-8859-1
    bom: bool
    codec: str | None  # None: bytes are UTF-8 already and pass through (validated)
    fallback: bool  # True: not UTF-8; chosen by elimination, flagged in the summary
    skip: int  # bytes of BOM to drop


def detect_encoding(sample: bytes, at_eof: bool) -> Encoding:
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", True, None, False, 3)
    if sample.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", True, "utf-16-le", False, 2)
    if sample.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", True, "utf-16-be", False, 2)
    for magic, kind in _BINARY_MAGIC:
        if sample.startswith(magic):
            raise CsvRejected("not_text", f"the object is binary ({kind} signature)")
    nuls = sample.count(0)
    if nuls:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = len(sample) / 2
        # UTF-16 without a BOM: NUL in every other byte of ASCII text.
        if odd > 0.4 * half and even < 0.02 * half:
            return Encoding("utf-16-le", False, "utf-16-le", True, 0)
        if even > 0.4 * half and odd < 0.02 * half:
            return Encoding("utf-16-be", False, "utf-16-be", True, 0)
    controls = sum(sample.count(c) for c in range(32) if c not in (9, 10, 12, 13))
    if nuls > 0.01 * len(sample) or controls > 0.05 * len(sample):
        raise CsvRejected(
            "not_text",
            f"the object looks binary: {nuls} NUL and {controls} control bytes in the "
            f"first {len(sample)} bytes",
        )
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, at_eof)
        return Encoding("utf-8", False, None, False, 0)
    except UnicodeDecodeError:
        pass
    high = {b for b in sample if 0x80 <= b <= 0x9F}
    if high and not (high & _CP1252_UNDEFINED):
        return Encoding("cp1252", False, "cp1252", True, 0)
    if high:
        return Encoding("iso-8859-1", False, "latin-1", True, 0)
    # No byte in 0x80-0x9F: cp1252 and latin-1 decode identically.
    return Encoding("iso-8859-1", False, "latin-1", True, 0)


class BlankLines:
    """Replaces each run of empty lines (outside quoted values) with one marker line.

    pyarrow turns an empty line into a row of ``column_count`` empty cells: 1 byte of input
    became ~5 bytes per column, so a 1,000-column header followed by a megabyte of line
    breaks took gigabytes. A marker line (one field, so a ragged record for pyarrow, skipped
    by the summarizer's invalid-row handler) says how many lines it stands for; the
    summarizer counts them as blank lines and adds them back into the line numbering.

    The quote state follows pyarrow's parser exactly (quote char opens a quoted value only
    at the start of a field; doubled inside; literal after the closing quote), in C-speed
    regex jumps: whole non-empty records at a time, one step per field only in a record
    split across reads. Only for two columns or more: with one, a marker would be a row.
    """

    LS, FS, UNQ, Q, QQ = range(5)

    def __init__(self, delimiter: str, quote: str) -> None:
        d = re.escape(delimiter.encode())
        q = re.escape(quote.encode())
        t = rb"(?:\r\n|\r(?!\n)|\n)"
        body = rb"[^" + q + rb"]*+(?:" + q + q + rb"[^" + q + rb"]*+)*+"
        field = (
            rb"(?:" + q + body + q + rb"[^" + d + rb"\r\n]*+"
            rb"|[^" + q + d + rb"\r\n][^" + d + rb"\r\n]*+|)"
        )
        self._records = re.compile(
            rb"(?>(?=[^\r\n])" + field + rb"(?:" + d + field + rb")*" + t + rb")*+"
        )
        self._run = re.compile(t + rb"++")
        self._body = re.compile(body)
        self._outside = re.compile(d + q + rb"|[\r\n]")
        # Quoted values as quote pairs, each opening quote at a field start (or doubling
        # the quote before it): where it holds, the parity of the quotes is the state.
        self._pairs = re.compile(
            rb"(?:[^"
            + q
            + rb"]*+(?<=["
            + d
            + rb"\r\n"
            + q
            + rb"])"
            + q
            + rb"[^"
            + q
            + rb"]*+"
            + q
            + rb")*+"
        )
        self._delim = delimiter.encode()[0]
        self._quote = quote.encode()[0]
        self.marker = ("~blank-" + secrets.token_hex(8) + "~").encode()
        self.state = self.LS
        self.cr: str | None = None  # a read ended in \r: "keep" or "drop" a \n that follows

    def scan(self, data: bytes) -> bytes:
        if not data:
            return data
        # Fast path, most reads of most files: no two line breaks in a row anywhere, and
        # none at the start of a line: nothing to replace, only the quote state to follow.
        if not (
            b"\n\n" in data
            or (b"\r" in data and (b"\r\r" in data or b"\n\r" in data))
            or ((self.state == self.LS or self.cr) and data[0] in (10, 13))
        ):
            self.cr = None
            self._follow(data)
            return data
        return self._scan(data)

    def _follow(self, data: bytes) -> None:
        """The state after ``data``, which holds no empty line."""
        n, q, st, i = len(data), self._quote, self.state, 0
        if st == self.QQ:
            st, i = (self.Q, 1) if data[0] == q else (self.UNQ, 0)
        elif st in (self.LS, self.FS) and data[0] == q:
            st, i = self.Q, 1
        elif st == self.UNQ and data[0] == q:
            self._walk(data)  # a literal quote: the pairs below would take it for a close
            return
        if st == self.Q:
            m = self._body.match(data, i)
            e = m.end() if m is not None else i
            if e >= n - 1:
                self.state = self.Q if e >= n else self.QQ
                return
            i = e + 1  # closed; data[i] is not a quote
        # Outside a quoted value at i, and data[i] is not a quote.
        m = self._pairs.match(data, i)
        e = m.end() if m is not None else i
        if e == n:
            self.state = self.QQ  # the last byte closes a pair, or starts a doubled quote
            return
        j = data.find(q, e)
        if j < 0:
            c = data[-1]
            if c == self._delim:
                self.state = self.FS
            elif c in (10, 13):
                self.state = self.LS
                self.cr = "keep" if c == 13 else None
            else:
                self.state = self.UNQ
            return
        if data.find(q, j + 1) < 0 and data[j - 1] in (self._delim, 10, 13, q):
            self.state = self.Q  # one quote left, and it opens a quoted value
            return
        self._walk(data)  # a quote inside an unquoted field: follow it exactly

    def _walk(self, data: bytes) -> None:
        """The state after ``data``, which holds no empty line: one step per quote."""
        n, q, st, i = len(data), self._quote, self.state, 0
        find = data.find
        while True:
            if st == self.Q:
                j = find(q, i)
                if j < 0:
                    break
                if j + 1 == n:
                    st = self.QQ
                    break
                if data[j + 1] == q:
                    i = j + 2  # doubled: still inside
                    continue
                st, i = self.UNQ, j + 1
                continue
            if st == self.QQ:
                if data[i] == q:
                    st, i = self.Q, i + 1
                    continue
                st = self.UNQ
            # Outside a quoted value: the next quote that starts a field opens one.
            j = find(q, i)
            while j >= 0 and not (
                (j == i and st in (self.LS, self.FS))
                or (j > i and data[j - 1] in (self._delim, 10, 13))
            ):
                j = find(q, j + 1)
            if j >= 0:
                st, i = self.Q, j + 1
                if i == n:
                    break
                continue
            if i < n:
                c = data[n - 1]
                if c == self._delim:
                    st = self.FS
                elif c in (10, 13):
                    st = self.LS
                    if c == 13:
                        self.cr = "keep"
                else:
                    st = self.UNQ
            break
        self.state = st

    def _scan(self, data: bytes) -> bytes:
        n = len(data)
        out: list[bytes] = []
        i = last = 0
        cr, self.cr = self.cr, None
        if cr and n and data[0] == 10:  # the \n of a \r\n split across reads
            i = 1
            if cr == "drop":
                last = 1
        st = self.state
        while i < n:
            if st == self.LS:
                if data[i] in (10, 13):
                    m = self._run.match(data, i)
                    assert m is not None
                    e = m.end()
                    run = data[i:e]
                    k = run.count(b"\n") + run.count(b"\r") - run.count(b"\r\n")
                    out.append(data[last:i])
                    out.append(self.marker + str(k).encode() + b"\n")
                    last = i = e
                    if data[e - 1] == 13 and e == n:
                        self.cr = "drop"
                    continue
                m = self._records.match(data, i)
                i = m.end() if m is not None else i
                if i == n:
                    if data[n - 1] == 13:
                        self.cr = "keep"
                    break
                if data[i] in (10, 13):
                    continue
                st = self.FS
            elif st == self.FS:
                if data[i] == self._quote:
                    st, i = self.Q, i + 1
                else:
                    st = self.UNQ
            elif st == self.UNQ:
                m = self._outside.search(data, i)
                if m is None:
                    st = self.FS if data[n - 1] == self._delim else self.UNQ
                    i = n
                elif data[m.start()] == self._delim:
                    st, i = self.Q, m.end()
                else:
                    j = m.start()
                    if data[j] == 13 and j + 1 < n and data[j + 1] == 10:
                        i = j + 2
                    else:
                        i = j + 1
                        if data[j] == 13 and i == n:
                            self.cr = "keep"
                    st = self.LS
            elif st == self.Q:
                m = self._body.match(data, i)
                e = m.end() if m is not None else i
                if e >= n:
                    i = n
                elif e + 1 == n:
                    st, i = self.QQ, n
                else:
                    st, i = self.UNQ, e + 1  # data[e + 1] is not a quote: closed
            else:  # QQ: a quote ended the last read inside a quoted value
                if data[i] == self._quote:
                    st, i = self.Q, i + 1
                else:
                    st = self.UNQ
        self.state = st
        if not out:
            return data[last:]
        out.append(data[last:])
        return b"".join(out)


class Utf8Feed(io.RawIOBase):
    """What pyarrow reads: the input re-encoded as UTF-8, in the sizes it asks for.

    UTF-8 input passes through after validation (``bytes.isascii`` is the fast path). Invalid
    sequences found after the sniff window are replaced with U+FFFD and counted, never
    passed on (pyarrow would abort the whole read). Other encodings are decoded
    incrementally. Counts NUL bytes; stops at ``max_bytes`` of input and sets ``truncated``.
    With ``blank_lines``, runs of empty lines from output byte ``scan_from`` on (past the
    header) are replaced with marker lines (see ``BlankLines``).
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
    ) -> None:
        self.blank_lines = blank_lines
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
        self._first = first[enc.skip :]
        self._rest = rest
        self._decoder = codecs.getincrementaldecoder(enc.codec)("replace") if enc.codec else None
        self._carry = b""
        self.input_bytes = enc.skip
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
            self._cond.notify_all()

    def _throttle(self) -> None:
        ahead = self.ahead
        if ahead is None or threading.current_thread() is threading.main_thread():
            return
        with self._cond:
            # A timeout, never a deadlock: a record spanning many blocks still gets read.
            self._cond.wait_for(
                lambda: self._finished or self.output_bytes - self.released < ahead, timeout=0.25
            )

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
            data = self._pull(max(n, 1 << 16))
            if not data:
                self.eof = True
                out = self._convert(b"", True) if self._decoder or self._carry else b""
                if self._carry:
                    out += self._carry.decode("utf-8", "replace").encode("utf-8")
                    self.invalid_utf8 += 1
                    self._carry = b""
                # End the last record: pyarrow cannot skip a header line that has no line
                # break after it. Never inside an open quote, where it would join the value.
                last = out[-1:] or self._last
                if (
                    last not in (b"", b"\n", b"\r")
                    and (self.quotes + out.count(self._quote)) % 2 == 0
                ):
                    out += b"\n"
            else:
                out = self._convert(data, False)
            if out and self.blank_lines is not None:
                out = self._blank_runs(out)
            if out:
                self._last = out[-1:]
                self.nul_bytes += out.count(0)
                self.quotes += out.count(self._quote)
                self._buf += out
        out, self._buf = self._buf[:n], self._buf[n:]
        self.output_bytes += len(out)
        return out

    def _blank_runs(self, out: bytes) -> bytes:
        assert self.blank_lines is not None
        start = self._produced
        self._produced += len(out)
        if self._produced <= self._scan_from:
            return out
        cut = max(0, self._scan_from - start)
        return out[:cut] + self.blank_lines.scan(out[cut:])

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


def scan_offset(text: str, skip_lines: int) -> tuple[int, bool] | None:
    """UTF-8 byte offset just past the first ``skip_lines`` physical lines of ``text``, and
    whether they end in a bare \r (a \n may follow); None if the text has fewer."""
    if skip_lines == 0:
        return 0, False
    ends = re.finditer(r"\r\n|\r(?!\n)|\n", text)
    m = next(itertools.islice(ends, skip_lines - 1, None), None)
    if m is None:
        return None
    return len(text[: m.end()].encode("utf-8")), m.group() == "\r"


@dataclass
class Dialect:
    delimiter: str
    quotechar: str
    line_terminator: str
    header: bool
    header_names: list[str]  # as written (padded to the column count)
    names: list[str]  # unique, non-blank
    skip_lines: int  # physical lines before the first data record
    duplicate_headers: list[dict[str, object]] = field(default_factory=list)
    blank_headers: list[int] = field(default_factory=list)
    header_field_count: int | None = None


# (\.\d*)? and not \.?\d*: the latter splits a run of digits between \d+ and \d* in n ways
# per try, and a long digit run that does not match then backtracks for minutes (ReDoS).
_INTLIKE = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_DATELIKE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)
_BOOLLIKE = frozenset({"true", "false", "t", "f", "yes", "no", "y", "n"})


def _cell_kind(cell: str, nulls: frozenset[str]) -> str:
    s = cell.strip()
    if s in nulls or not s:
        return "null"
    if _INTLIKE.match(s) or s.lower() in ("inf", "-inf", "infinity"):
        return "number"
    if _DATELIKE.match(s):
        return "date"
    if s.lower() in _BOOLLIKE:
        return "bool"
    return "string"


def _line_terminator(text: str) -> str:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    best = max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))
    return best[1] if best[0] else "\n"


def _records(text: str, delimiter: str, quotechar: str, limit: int) -> list[tuple[list[str], int]]:
    """First ``limit`` records with the physical line count consumed after each."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=False
    )
    out: list[tuple[list[str], int]] = []
    try:
        for row in reader:
            out.append((row, reader.line_num))
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _complete_part(text: str, at_eof: bool) -> str:
    if at_eof:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def sniff_dialect(text: str, at_eof: bool, null_tokens: frozenset[str]) -> Dialect:
    body = _complete_part(text, at_eof)
    best: tuple[tuple[float, ...], str, str] | None = None
    candidates = [(d, '"') for d in DELIMITERS]
    if "'" in body and '"' not in body:
        candidates += [(d, "'") for d in DELIMITERS]
    for rank, (delim, quote) in enumerate(candidates):
        if delim not in body:
            continue
        rows = [r for r, _ in _records(body, delim, quote, 200) if r and any(c.strip() for c in r)]
        if not rows:
            continue
        counts: dict[int, int] = {}
        for r in rows:
            counts[len(r)] = counts.get(len(r), 0) + 1
        mode, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if mode < 2:
            continue
        score = (freq / len(rows), float(mode), -float(rank))
        if best is None or score > best[0]:
            best = (score, delim, quote)
    delimiter, quotechar = (best[1], best[2]) if best else (",", '"')
    return _header(body, delimiter, quotechar, _line_terminator(body), null_tokens)


def _header(
    body: str,
    delimiter: str,
    quotechar: str,
    terminator: str,
    nulls: frozenset[str],
) -> Dialect:
    recs = _records(body, delimiter, quotechar, 300)
    leading_blank = 0
    while leading_blank < len(recs) and not any(c.strip() for c in recs[leading_blank][0]):
        leading_blank += 1
    recs_lines = recs[leading_blank:]
    lines_before = recs[leading_blank - 1][1] if leading_blank else 0
    if not recs_lines:
        raise CsvRejected("empty", "the file holds no records (only blank lines)")
    first, first_end = recs_lines[0]
    data = [r for r, _ in recs_lines[1:] if any(c.strip() for c in r)]
    counts: dict[int, int] = {}
    for r in data:
        counts[len(r)] = counts.get(len(r), 0) + 1
    # The most common width of the records that follow; on a tie the first record's (the
    # header's) width wins, so that the row that matches the header is never the ragged one.
    width = (
        max(counts.items(), key=lambda kv: (kv[1], kv[0] == len(first), kv[0]))[0]
        if counts
        else len(first)
    )
    header = _looks_like_header(first, data, nulls)
    if header:
        written = list(first)
        header_field_count = len(first)
        if len(written) < width:
            written += [""] * (width - len(written))
        written = written[:width]
        skip = first_end
    else:
        written = [""] * width
        header_field_count = None
        skip = lines_before
    names, dups, blanks = _unique_names(written, header)
    return Dialect(
        delimiter=delimiter,
        quotechar=quotechar,
        line_terminator=terminator,
        header=header,
        header_names=written,
        names=names,
        skip_lines=skip,
        duplicate_headers=dups,
        blank_headers=blanks,
        header_field_count=header_field_count,
    )


def _looks_like_header(first: list[str], data: list[list[str]], nulls: frozenset[str]) -> bool:
    if not data:
        return True  # a lone record is read as a header (header-only file)
    yes = no = 0
    for j, cell in enumerate(first):
        kinds: dict[str, int] = {}
        for r in data[:100]:
            if j < len(r):
                k = _cell_kind(r[j], nulls)
                if k != "null":
                    kinds[k] = kinds.get(k, 0) + 1
        if not kinds:
            continue
        main = max(kinds.items(), key=lambda kv: kv[1])[0]
        head = _cell_kind(cell, nulls)
        if main != "string":
            if head == main:
                no += 1
            elif head == "string":
                yes += 1
    if yes:
        return True
    if no:
        return False
    # Every column is text: a header unless a first-row value recurs in its column.
    for j, cell in enumerate(first):
        if cell.strip() and any(j < len(r) and r[j] == cell for r in data):
            return False
    return True


def _unique_names(
    written: list[str], header: bool
) -> tuple[list[str], list[dict[str, object]], list[int]]:
    names: list[str] = []
    taken: set[str] = set()
    positions: dict[str, list[int]] = {}
    blanks: list[int] = []
    base = [w.strip() for w in written]
    reserved = set(base)
    for i, name in enumerate(base, start=1):
        if not name:
            if header:
                blanks.append(i)
            name = f"column_{i}"
        positions.setdefault(name, []).append(i)
        candidate, k = name, 1
        while candidate in taken or (k > 1 and candidate in reserved):
            k += 1
            candidate = f"{name}_{k}"
        taken.add(candidate)
        names.append(candidate)
    dups: list[dict[str, object]] = [
        {"name": n, "positions": p} for n, p in positions.items() if len(p) > 1 and header
    ]
    return names, dups, blanks


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


def decode_sample(sample: bytes, enc: Encoding, at_eof: bool) -> str:
    body = sample[enc.skip :]
    codec = enc.codec or "utf-8"
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(body, at_eof)
    except UnicodeDecodeError as exc:
        raise CsvRejected(
            "undecodable",
            f"the first {len(sample)} bytes do not decode as {enc.name}: {exc.reason} "
            f"at byte {exc.start + enc.skip}",
        ) from exc
