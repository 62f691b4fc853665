"""Input side of the summarizer: gzip, encoding, dialect and header, from a non-seekable stream.

Nothing here reads more than the sniff window ahead; the rest of the stream is handed on as
UTF-8 bytes through ``Utf8Feed`` (a file-like object pyarrow's streaming reader pulls from).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import threading
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from csv_errors import CsvRejected

SNIFF_BYTES = 64 * 1024
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


class Utf8Feed(io.RawIOBase):
    """What pyarrow reads: the input re-encoded as UTF-8, in the sizes it asks for.

    UTF-8 input passes through after validation (``bytes.isascii`` is the fast path). Invalid
    sequences found after the sniff window are replaced with U+FFFD and counted, never
    passed on (pyarrow would abort the whole read). Other encodings are decoded
    incrementally. Counts NUL bytes; stops at ``max_bytes`` of input and sets ``truncated``.
    """

    def __init__(
        self, first: bytes, rest: BinaryIO, enc: Encoding, max_bytes: int | None, quote: str
    ) -> None:
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
        self._codec = enc.codec
        self._decoder = codecs.getincrementaldecoder(enc.codec)("replace") if enc.codec else None
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
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
            if out:
                self._last = out[-1:]
                self.nul_bytes += out.count(0)
                self.quotes += out.count(self._quote)
                self._buf += out
        out, self._buf = self._buf[:n], self._buf[n:]
        self.output_bytes += len(out)
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


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
    sample_text: str = ""


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
    return _header(body, delimiter, quotechar, _line_terminator(body), null_tokens, text)


def _header(
    body: str,
    delimiter: str,
    quotechar: str,
    terminator: str,
    nulls: frozenset[str],
    text: str,
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
    width = max(counts.items(), key=lambda kv: (kv[1], kv[0]))[0] if counts else len(first)
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
        sample_text=text,
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


def read_sample(stream: BinaryIO) -> tuple[bytes, bool]:
    sample = _read_full(stream, SNIFF_BYTES)
    at_eof = len(sample) < SNIFF_BYTES
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
