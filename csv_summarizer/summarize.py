"""Streaming CSV summarizer: one pass, bounded memory, exact where it says so.

Entry point for the handler and the benchmarks::

    summary = summarize(stream, CsvLimits())      # dict, valid against summary.schema.json
    summary_key("csv/2026/sales.csv")              # "summaries/2026/sales.csv.json"

The error report for rejected input is written by the handler (pipeline_runtime.outcomes),
in the same shape for both functions.

The stream is read once, front to back, in blocks (never to /tmp, never whole). Input that
cannot be summarized at all raises ``CsvRejectedError`` with a reason code (see ``REASONS``);
every other problem is reported inside the summary under ``issues``.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from csv_batch import add_batch
from csv_blank_lines import BlankLines
from csv_classify import longest_bytes
from csv_columns import ColumnState
from csv_dialect import Dialect, sniff_dialect
from csv_encoding import decode_sample, detect_encoding
from csv_errors import REASONS, CsvRejectedError
from csv_feed import Utf8Feed, scan_offset
from csv_long_fields import LongFields
from csv_long_records import LongRecords
from csv_readings import file_default
from csv_source import GZIP_ERRORS, open_source, read_sample, skip_blank_lines

__all__ = [
    "REASONS",
    "SCHEMA_VERSION",
    "CsvLimits",
    "CsvRejectedError",
    "error_report_key",
    "summarize",
    "summary_key",
]

SCHEMA_VERSION = "1.1"  # 1.1 added each column's `format`
DEFAULT_UPLOAD_PREFIX = "csv/"
DEFAULT_SUMMARY_PREFIX = "summaries/"

DEFAULT_NULL_TOKENS: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "n/a",
    "null",
    "NULL",
    "Null",
    "None",
    "nan",
    "NaN",
    "-",
    "#N/A",
)


@dataclass(frozen=True)
class CsvLimits:
    """Limits and knobs; every one is reported in the summary's ``limits``."""

    max_field_bytes: int = 1_048_576
    distinct_cap: int = 100_000
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS
    whitespace_is_null: bool = True
    max_examples: int = 10
    max_columns: int = 10_000
    max_bytes: int | None = None  # decompressed input bytes to read; see over_max_bytes
    # Past max_bytes: "truncate" summarizes what was read and sets truncated; "reject"
    # raises CsvRejectedError("too_large"). Either way nothing past the limit is read.
    over_max_bytes: Literal["truncate", "reject"] = "truncate"
    misfit_tolerance: float = 0.01  # a type holds if >= 99% of non-null values fit it
    quantile_sample: int = 65_536
    top_k: int = 5
    # Longer values are shown cut to this many characters, marked truncated (top values,
    # misfit examples, string min/max); only that much of each is kept.
    max_value_chars: int = 200
    block_size: int = 4 << 20
    memory_budget_bytes: int = 96 << 20  # exact-distinct values (bytes) + samples, all columns


def summary_key(
    source_key: str,
    upload_prefix: str = DEFAULT_UPLOAD_PREFIX,
    summary_prefix: str = DEFAULT_SUMMARY_PREFIX,
) -> str:
    """``csv/2026/sales.csv`` -> ``summaries/2026/sales.csv.json`` (whole key kept)."""
    return summary_prefix + _relative(source_key, upload_prefix) + ".json"


def error_report_key(
    source_key: str,
    upload_prefix: str = DEFAULT_UPLOAD_PREFIX,
    summary_prefix: str = DEFAULT_SUMMARY_PREFIX,
) -> str:
    """``csv/2026/sales.csv`` -> ``summaries/2026/sales.csv.error.json``."""
    return summary_prefix + _relative(source_key, upload_prefix) + ".error.json"


def _relative(source_key: str, upload_prefix: str) -> str:
    rel = source_key.removeprefix(upload_prefix).lstrip("/")
    if not rel:
        raise ValueError(f"no object name in key {source_key!r}")
    return rel


def summarize(
    stream: BinaryIO,
    limits: CsvLimits | None = None,
    time_left: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Summarize a CSV (optionally gzip) byte stream; see the module docstring.

    ``time_left``: seconds the caller can still give, asked before each batch; when they
    would not cover another batch as slow as the slowest so far, the summary stops with
    ``CsvRejectedError("too_slow")``.
    """
    limits = limits or CsvLimits()
    src = open_source(stream)
    try:
        # Blank lines before the table are dropped as they are read, never held: the
        # sample starts at the table whatever their length.
        blank_prefix = skip_blank_lines(src.stream, limits.max_bytes)
        sample, at_eof = read_sample(blank_prefix.stream)
    except GZIP_ERRORS as exc:
        raise CsvRejectedError("corrupt_gzip", f"gzip stream is corrupt: {exc}") from exc
    if blank_prefix.at_limit:
        if limits.over_max_bytes == "reject":
            raise CsvRejectedError(
                "too_large", f"the CSV holds more than {limits.max_bytes} bytes of blank lines"
            )
        raise CsvRejectedError("empty", f"the first {limits.max_bytes} bytes hold only blank lines")
    if not sample:
        if blank_prefix.nbytes:
            raise CsvRejectedError("empty", "the object holds only whitespace")
        raise CsvRejectedError("empty", "the object decompresses to 0 bytes")
    enc = detect_encoding(sample, at_eof)
    text = decode_sample(sample, enc, at_eof)
    if not text.strip():
        raise CsvRejectedError("empty", "the object holds only whitespace")
    null_set = frozenset(limits.null_tokens)
    dialect = sniff_dialect(text, at_eof, null_set)
    if len(dialect.names) > limits.max_columns:
        raise CsvRejectedError(
            "too_many_columns",
            f"{len(dialect.names)} columns, more than the limit of {limits.max_columns}",
        )
    # Empty lines become marker lines before pyarrow sees them (a row of empty cells per
    # column each, otherwise); with one column a marker would be a row, and costs no more.
    blank = None
    header_end = scan_offset(text, dialect.skip_lines)
    if len(dialect.names) > 1 and header_end is not None:
        blank = BlankLines(dialect.delimiter, dialect.quotechar)
        if header_end.bare_cr:
            blank.cr = "keep"
    # Fields over the limit are cut out as they stream by: pyarrow would stop at one longer
    # than its block, and hold it whole.
    long_fields = (
        LongFields(dialect.delimiter, dialect.quotechar, limits.max_field_bytes)
        if header_end is not None
        else None
    )
    # Records longer than pyarrow's block, of fields within the limit, likewise: pyarrow
    # would stop at the first, and every later row would be lost.
    long_records = (
        LongRecords(
            dialect.delimiter,
            dialect.quotechar,
            record_limit(limits),
            len(dialect.names),
            long_fields.token if long_fields is not None else b"",
        )
        if header_end is not None
        else None
    )
    feed = Utf8Feed(
        sample,
        blank_prefix.stream,
        enc,
        limits.max_bytes,
        dialect.quotechar,
        blank_lines=blank,
        scan_from=header_end.offset if header_end is not None else 0,
        long_fields=long_fields,
        skipped_bytes=blank_prefix.nbytes,
        long_records=long_records,
    )
    run = _Run(dialect, limits, feed, time_left, lines_before=blank_prefix.lines)
    summary = run.execute()
    if feed.source.truncated and limits.over_max_bytes == "reject":
        compressed = " once decompressed" if src.compression else ""
        raise CsvRejectedError(
            "too_large", f"the CSV holds more than {limits.max_bytes} bytes{compressed}"
        )
    summary["dialect"]["encoding"] = enc.name
    summary["dialect"]["bom"] = enc.bom
    summary["dialect"]["encoding_fallback"] = enc.fallback
    summary["dialect"]["compression"] = src.compression
    summary["compressed_bytes"] = src.raw.count if src.compression else None
    if enc.fallback:
        summary["issues"]["encoding_fallback"] = {
            "encoding": enc.name,
            "message": "not valid UTF-8; decoded as "
            + enc.name
            + " (chosen by elimination, check accented characters)",
        }
    return summary


def block_bytes(limits: CsvLimits) -> int:
    """pyarrow's block: room for a record with a field at the limit, every byte a quote."""
    return max(limits.block_size, 2 * limits.max_field_bytes + (64 << 10))


def record_limit(limits: CsvLimits) -> int:
    """The longest record pyarrow is given (line break excluded): well within its block."""
    return block_bytes(limits) - (32 << 10)


class _BatchLines:
    """Maps positions in one batch to physical line numbers (1-based, header included).

    pyarrow numbers every record it parses (ragged ones included, via the invalid-row
    handler); a record's line is its number plus the line breaks inside quoted values of
    all earlier records.
    """

    def __init__(
        self,
        base: int,
        extra0: int,
        invalid: list[tuple[int, int]],
        row_breaks: pa.Array | None,
    ) -> None:
        self.base = base
        self.extra0 = extra0
        self.invalid = invalid  # (record number, line breaks inside it), ascending
        self.row_breaks = row_breaks
        self._cum: pa.Array | None = None
        # For invalid_line in O(log n): a file can hold a million ragged rows in one flush.
        self._numbers = [num for num, _ in invalid]
        self._breaks_before = list(itertools.accumulate((br for _, br in invalid), initial=0))

    def _before(self, i: int) -> int:
        """Line breaks inside valid rows 0..i-1 of this batch."""
        if self.row_breaks is None or i == 0:
            return 0
        if self._cum is None:
            self._cum = pc.cumulative_sum(self.row_breaks)
        return int(self._cum[i - 1].as_py())

    def lines(self, rows: list[int]) -> list[int]:
        out = []
        for i in rows:
            rec = self.base + 1 + i
            inv_breaks = 0
            for num, br in self.invalid:
                if num <= rec:
                    rec += 1
                    inv_breaks += br
                else:
                    break
            out.append(rec + self.extra0 + self._before(i) + inv_breaks)
        return out

    def invalid_line(self, number: int) -> int:
        count = bisect.bisect_left(self._numbers, number)  # invalid records before it
        valid_before = number - self.base - 1 - count
        return number + self.extra0 + self._before(valid_before) + self._breaks_before[count]


def _stand_in(value: str, token: str) -> tuple[int, int]:
    """(bytes, line breaks) of the long field a stand-in replaced (see LongFields)."""
    nbytes, nbreaks = value[len(token) :].split(":")
    return int(nbytes), int(nbreaks)


def _line_breaks_in(col: pa.Array) -> bool:
    bufs = col.buffers()
    if len(bufs) < 3 or bufs[2] is None or len(col) == 0:
        return False
    offsets = pa.Array.from_buffers(pa.int32(), len(col) + 1, [None, bufs[1]], offset=col.offset)
    start, end = offsets[0].as_py(), offsets[len(col)].as_py()
    data = bufs[2].slice(start, end - start).to_pybytes()
    return b"\n" in data or b"\r" in data


def _data_bytes(col: pa.Array) -> int:
    """At least the bytes of ``col``'s values together, in O(1): its data buffer's size."""
    bufs = col.buffers()
    return 0 if len(bufs) < 3 or bufs[2] is None else bufs[2].size


def _row_breaks(col: pa.Array) -> pa.Array:
    lf = pc.count_substring(col, "\n")
    cr = pc.count_substring(col, "\r")
    crlf = pc.count_substring(col, "\r\n")
    return pc.subtract(pc.add(lf, cr), crlf)


# One long-lived thread parses ahead for every run in the process, rather than a new thread
# per batch: thousands of thread starts per file, and per-thread allocator state each time.
_PARSE_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-next-batch")


class _Run:
    def __init__(
        self,
        dialect: Dialect,
        limits: CsvLimits,
        feed: Utf8Feed,
        time_left: Callable[[], float] | None = None,
        lines_before: int = 0,
    ) -> None:
        self.d = dialect
        self.limits = limits
        self.feed = feed
        self.time_left = time_left
        ncols = len(dialect.names)
        self.ncols = ncols
        # Each column's share of the budget bounds all it keeps: exact values, sample,
        # sketches. Past ~1,500 columns, the sketches shrink with it (below their full size
        # a wide file's columns would together outgrow the function's memory).
        per_col = limits.memory_budget_bytes // max(1, ncols)
        cap = max(100, min(limits.distinct_cap, per_col // 2 // 16))
        sample = max(256, min(limits.quantile_sample, per_col // 2 // 16))
        self.effective_distinct_cap = cap
        self.effective_sample = sample
        # A quarter for the HyperLogLog's one-byte registers (16 KiB at most, 1 KiB at least).
        hll_precision = min(14, max(10, (per_col // 4).bit_length() - 1))
        # A quarter for the heavy hitters: per key, two labels of up to ~250 bytes.
        heavy_capacity = min(256, max(16, per_col // 4 // 512))
        nulls = [t for t in limits.null_tokens]
        null_set = pa.array(nulls, pa.string())
        null_token_bytes = longest_bytes(null_set)
        default_reading = file_default(dialect.delimiter)
        self.cols = [
            ColumnState(
                position=i + 1,
                name=dialect.names[i],
                header=dialect.header_names[i] if dialect.header else "",
                null_set=null_set,
                null_token_bytes=null_token_bytes,
                whitespace_is_null=limits.whitespace_is_null,
                distinct_cap=cap,
                # The floor keeps a few exact values per column when there are thousands.
                distinct_bytes=max(4 << 10, per_col // 2),
                sample_size=sample,
                max_examples=limits.max_examples,
                top_k=limits.top_k,
                value_chars=limits.max_value_chars,
                hll_precision=hll_precision,
                heavy_capacity=heavy_capacity,
                default_reading=default_reading,
            )
            for i in range(ncols)
        ]
        self.records_done = dialect.skip_lines
        # Line breaks not seen by pyarrow, before the current batch: blank lines dropped
        # before the sample, then line breaks inside quoted values.
        self.extra = lines_before
        # record number, fields, line breaks inside, blank lines it stands for
        self.pending: deque[tuple[int, int, int, int]] = deque()
        self.rows = 0
        self.blank_lines = 0
        self.blank_first: list[int] = []
        self.ragged = 0
        self.ragged_first: list[dict[str, int]] = []
        self.oversized = 0
        # ((line, field position), as reported), lowest lines first
        self.oversized_first: list[tuple[tuple[int, int], dict[str, Any]]] = []
        self.truncated = False
        self.parse_error: str | None = None
        self.unterminated: dict[str, int] | None = None
        self.last_record_line = 0
        self.callbacks = 0  # records pyarrow handed to ``_invalid``
        self.last_record_breaks = 0
        blank = feed.scan.blank_lines
        self._marker = blank.marker.decode() if blank is not None else ""
        long_fields = feed.scan.long_fields
        self._long_token = long_fields.token.decode() if long_fields is not None else ""
        self.long_found = 0  # stand-ins for long fields found so far (see LongFields)
        # record number of a ragged record -> its long fields (field index, bytes)
        self.pending_long: dict[int, list[tuple[int, int]]] = {}
        long_records = feed.scan.long_records
        self._record_token = long_records.token.decode() if long_records is not None else ""
        self.pending_records: dict[int, int] = {}  # record number -> bytes of a long record
        self.records_too_large = 0
        self.records_too_large_first: list[dict[str, int]] = []
        self.batch_long: list[tuple[int, int, int]] = []  # this batch's: row, column, bytes

    # pyarrow calls this for every record whose field count differs from the header's.
    def _invalid(self, row: Any) -> str:
        self.feed.read_ahead.progress()  # parsing goes on: the feed's readers keep waiting
        self.callbacks += 1
        text = row.text or ""
        number = row.number if row.number is not None else self.records_done + 1
        blank = self.feed.scan.blank_lines
        if blank is not None and text.startswith(self._marker):
            # A run of empty lines the feed replaced: one record, ``count`` lines.
            count = int(text[len(self._marker) :].strip())
            self.pending.append((number, 0, count - 1, count))
            return "skip"
        if self._record_token and text.startswith(self._record_token):
            # A record too long for pyarrow the feed replaced: one row, never summarized.
            nbytes, nbreaks = _stand_in(text.rstrip(self.d.delimiter), self._record_token)
            self.pending_records[number] = nbytes
            self.pending.append((number, 0, nbreaks, 0))
            return "skip"
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        if self._long_token and self._long_token in text:
            breaks += self._ragged_long(number, text)
        self.pending.append((number, row.actual_columns, breaks, int(not text.strip())))
        return "skip"

    def _ragged_long(self, number: int, text: str) -> int:
        """Note the long fields of a ragged record; return the line breaks they held."""
        fields = next(csv.reader([text], delimiter=self.d.delimiter, quotechar=self.d.quotechar))
        breaks = 0
        for j, field in enumerate(fields):
            if field.startswith(self._long_token):
                nbytes, nbreaks = _stand_in(field, self._long_token)
                self.pending_long.setdefault(number, []).append((j, nbytes))
                self.long_found += 1
                breaks += nbreaks
        return breaks

    def execute(self) -> dict[str, Any]:
        internal = [f"c{i}" for i in range(self.ncols)]
        lim = self.limits
        block = block_bytes(lim)
        self.block = block
        self.feed.read_ahead.ahead = 3 * block
        reader = None
        upcoming: Future[pa.RecordBatch] | None = None
        summarizing = False
        try:
            reader = pcsv.open_csv(
                self.feed,
                read_options=pcsv.ReadOptions(
                    use_threads=False,
                    block_size=block,
                    skip_rows=self.d.skip_lines,
                    column_names=internal,
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=self.d.delimiter,
                    quote_char=self.d.quotechar,
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=self._invalid,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(internal, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    check_utf8=False,
                ),
            )
            slowest_s = 0.0  # the longest batch so far, read and summarized
            while True:
                started = time.monotonic()
                try:
                    batch = upcoming.result() if upcoming else reader.read_next_batch()
                except StopIteration:
                    break
                # Stop while another batch as slow as the slowest still fits in the time left.
                if self.time_left is not None and self.time_left() <= slowest_s:
                    raise CsvRejectedError(
                        "too_slow",
                        f"stopped after {self.rows} rows: the rest would not be summarized "
                        "within the function's timeout",
                    )
                summarizing = True  # errors from here on are bugs, never the reader's
                # pyarrow parses the next batch (releasing the GIL) while this one is
                # summarized. Not once a record was handed back to Python (ragged rows,
                # blank-line markers): each would wait for the GIL this thread holds.
                upcoming = None if self.callbacks else _PARSE_AHEAD.submit(reader.read_next_batch)
                self.feed.read_ahead.busy = True  # no reading ahead while this batch is summarized
                self._batch(batch)
                self.feed.read_ahead.busy = summarizing = False
                slowest_s = max(slowest_s, time.monotonic() - started)
        except (pa.ArrowException, *GZIP_ERRORS) as exc:
            if summarizing:
                raise
            if self.feed.source.error is not None and not isinstance(
                self.feed.source.error, GZIP_ERRORS
            ):
                raise self.feed.source.error from exc
            self._stopped(exc)
        finally:
            self.feed.read_ahead.finish()
            if upcoming is not None:
                wait([upcoming])  # no thread may read from a closed reader
            if reader is not None:
                reader.close()
        self._flush_invalid()
        if self.feed.scan.quotes % 2 and self.parse_error is None and self.last_record_breaks:
            self.unterminated = {
                "line": self.last_record_line,
                "lines_swallowed": self.last_record_breaks,
            }
            self.truncated = True
        if self.feed.source.truncated:
            self.truncated = True
        return self._result()

    def _stopped(self, exc: BaseException) -> None:
        """The reader gave up mid-file: keep what was summarized, say where and why."""
        self.truncated = True
        self._flush_invalid()
        line = self.records_done + self.extra + 1
        try:
            while self.feed.read(1 << 20):
                pass
        except GZIP_ERRORS as gz:
            self.parse_error = f"gzip stream is corrupt: {gz}"
            return
        if isinstance(exc, GZIP_ERRORS):
            self.parse_error = f"gzip stream is corrupt: {exc}"
        elif self.feed.scan.quotes % 2:
            self.unterminated = {"line": line, "lines_swallowed": -1}
            self.parse_error = "unterminated quote"
        else:
            self.parse_error = f"CSV reader stopped near line {line}: {exc}"

    def _take_invalid(self, n: int, final: bool) -> tuple[int, list[tuple[int, int, int, int]]]:
        """Invalid records interleaved with the next ``n`` valid rows (all left if final)."""
        end = self.records_done + n
        taken: list[tuple[int, int, int, int]] = []
        while self.pending and (final or self.pending[0][0] <= end):
            taken.append(self.pending.popleft())
            end += 1
        return end, taken

    def _flush_invalid(self) -> None:
        if self.pending:
            self._place(0, None, final=True)

    def _record_invalid(self, line: int, fields: int, blank: int) -> None:
        if blank:
            self.blank_lines += blank
            room = self.limits.max_examples - len(self.blank_first)
            if room > 0:
                self.blank_first.extend(range(line, line + min(blank, room)))
            return
        self.ragged += 1
        if len(self.ragged_first) < self.limits.max_examples:
            self.ragged_first.append({"line": line, "fields": fields})

    def _batch(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        cols = batch.columns
        self.feed.read_ahead.release(self.block)
        lines = self._place(n, cols, final=False)
        if n == 0:
            return
        keep = self._row_filter(cols, lines)
        if keep is not None:
            positions = pc.indices_nonzero(keep)
            cols = [pc.filter(c, keep) for c in cols]

            def remap(ix: list[int]) -> list[int]:
                return lines.lines([positions[i].as_py() for i in ix])

            locate: Callable[[list[int]], list[int]] = remap
        else:
            locate = lines.lines
        if len(cols[0]):
            add_batch(self.cols, cols, locate)

    def _place(self, n: int, cols: list[pa.Array] | None, final: bool) -> _BatchLines:
        """Number this batch's records and lines; record its ragged and blank lines."""
        base = self.records_done
        end, invalid = self._take_invalid(n, final)
        self.records_done = end
        row_breaks = None
        if cols and self.feed.scan.quotes:
            broken = [c for c in cols if _line_breaks_in(c)]
            if broken:
                row_breaks = _row_breaks(broken[0])
                for c in broken[1:]:
                    row_breaks = pc.add(row_breaks, _row_breaks(c))
        self.batch_long = []
        # Stand-ins are looked for only while some that were passed on are not found yet.
        long_fields, long_records = self.feed.scan.long_fields, self.feed.scan.long_records
        dropped = long_records.long_fields_within if long_records else 0
        if cols and long_fields is not None and long_fields.cuts - dropped > self.long_found:
            row_breaks = self._find_long(cols, row_breaks)
        lines = _BatchLines(base, self.extra, [(num, br) for num, _, br, _ in invalid], row_breaks)
        for num, fields, _, blank in invalid:
            line = lines.invalid_line(num)
            nbytes = self.pending_records.pop(num, None)
            if nbytes is not None:
                self._record_too_large(line, nbytes)
                continue
            self._record_invalid(line, fields, blank)
            for j, nbytes in self.pending_long.pop(num, ()):
                self._record_oversized(line, j, nbytes)
        total_breaks = sum(br for _, _, br, _ in invalid)
        if row_breaks is not None:
            total_breaks += pc.sum(row_breaks).as_py() or 0
        if n:
            self.last_record_line = lines.lines([n - 1])[0]
            self.last_record_breaks = row_breaks[n - 1].as_py() if row_breaks is not None else 0
        if invalid and invalid[-1][0] == end:
            self.last_record_line = lines.invalid_line(end)
            self.last_record_breaks = 0 if invalid[-1][3] else invalid[-1][2]
        self.extra += total_breaks
        return lines

    def _find_long(self, cols: list[pa.Array], row_breaks: pa.Array | None) -> pa.Array | None:
        """Find this batch's stand-ins for long fields (into ``batch_long``); return the row
        line breaks with theirs added back."""
        token = self._long_token
        shortest = len(token.encode())
        extra: dict[int, int] = {}
        for j, c in enumerate(cols):
            if _data_bytes(c) < shortest:
                continue
            hit = pc.starts_with(c, token)
            if not pc.any(hit).as_py():
                continue
            rows = pc.indices_nonzero(hit)
            for i, value in zip(rows.to_pylist(), c.take(rows).to_pylist(), strict=True):
                nbytes, nbreaks = _stand_in(value, token)
                self.batch_long.append((i, j, nbytes))
                self.long_found += 1
                if nbreaks:
                    extra[i] = extra.get(i, 0) + nbreaks
        self.batch_long.sort()
        if not extra:
            return row_breaks
        n = len(cols[0])
        added = pa.array([extra.get(i, 0) for i in range(n)], pa.int64())
        if row_breaks is None:
            return added
        return pc.add(pc.cast(row_breaks, pa.int64()), added)

    def _record_too_large(self, line: int, nbytes: int) -> None:
        """A record too long for pyarrow's block, cut out: a row of no column."""
        self.records_too_large += 1
        self.truncated = True
        if len(self.records_too_large_first) < self.limits.max_examples:
            self.records_too_large_first.append({"line": line, "bytes": nbytes})

    def _record_oversized(self, line: int, j: int, nbytes: int) -> None:
        """A field over the limit, the ``j``-th of its record (from 0), as it was read."""
        self.oversized += 1
        self.truncated = True
        first = self.oversized_first
        if len(first) == self.limits.max_examples and (line, j) >= first[-1][0]:
            return
        # Ragged records are placed before the rows of their batch: keep the lowest lines.
        name = self.d.names[j] if j < self.ncols else f"column_{j + 1}"
        bisect.insort(first, ((line, j), {"line": line, "column": name, "bytes": nbytes}))
        del first[self.limits.max_examples :]

    def _row_filter(self, cols: list[pa.Array], lines: _BatchLines) -> pa.Array | None:
        """Drop blank rows (every field empty) and rows with an oversized field."""
        n = len(cols[0])
        drop = None
        lens0 = pc.binary_length(cols[0])
        if pc.min(lens0).as_py() == 0:
            empty = pc.equal(lens0, 0)
            for c in cols[1:]:
                if not pc.any(empty).as_py():
                    break
                empty = pc.and_(empty, pc.equal(pc.binary_length(c), 0))
            nblank = pc.sum(empty).as_py() or 0
            if nblank:
                self.blank_lines += nblank
                # Merged with the batch's blank-line markers, recorded first: keep the lowest.
                first = lines.lines(
                    pc.indices_nonzero(empty)[: self.limits.max_examples].to_pylist()
                )
                if (
                    len(self.blank_first) < self.limits.max_examples
                    or first[0] < self.blank_first[-1]
                ):
                    self.blank_first = sorted(self.blank_first + first)[: self.limits.max_examples]
                drop = empty
        self.rows += n - (pc.sum(drop).as_py() if drop is not None else 0)
        if self.batch_long:
            # A row with a long field is left out of the statistics, as one over the limit
            # that pyarrow read whole (below): counted in rows, never in a column.
            rows = [i for i, _, _ in self.batch_long]
            for (_, j, nbytes), line in zip(self.batch_long, lines.lines(rows), strict=True):
                self._record_oversized(line, j, nbytes)
            marked = pc.is_in(pa.array(range(n), pa.int64()), value_set=pa.array(rows, pa.int64()))
            drop = marked if drop is None else pc.or_(drop, marked)
        limit = self.limits.max_field_bytes
        for j, c in enumerate(cols):
            if _data_bytes(c) <= limit:
                continue  # no field can be longer than all of them together
            lens = pc.binary_length(c)
            if pc.max(lens).as_py() > limit:
                big = pc.greater(lens, limit)
                idx = pc.indices_nonzero(big)[: self.limits.max_examples].to_pylist()
                self.oversized += pc.sum(big).as_py() - len(idx)
                for i, line in zip(idx, lines.lines(idx), strict=True):
                    self._record_oversized(line, j, lens[i].as_py())
                drop = big if drop is None else pc.or_(drop, big)
        return None if drop is None else pc.invert(drop)

    def _rows(self) -> int:
        return self.rows + self.ragged + self.records_too_large

    def _result(self) -> dict[str, Any]:
        lim = self.limits
        tol = lim.misfit_tolerance
        columns = [c.result(tol) for c in self.cols]
        empty_cols = [c["name"] for c in columns if c["type"] == "null"]
        d = self.d
        issues: dict[str, Any] = {
            "ragged_rows": {"count": self.ragged, "first": self.ragged_first},
            "blank_lines": {"count": self.blank_lines, "first_lines": self.blank_first},
            "duplicate_headers": d.duplicate_headers,
            "blank_headers": d.blank_headers,
            "empty_columns": empty_cols,
            "unterminated_quote": self.unterminated,
            "field_too_large": {
                "count": self.oversized,
                "limit_bytes": lim.max_field_bytes,
                "first": [shown for _, shown in self.oversized_first],
            },
            "undecodable_bytes": {
                "count": self.feed.converter.invalid_utf8,
                "first_byte_offset": self.feed.converter.first_invalid_offset,
            },
            "nul_bytes": self.feed.scan.nul_bytes,
            "header_only": self._rows() == 0 and d.header,
            "parse_error": self.parse_error,
        }
        if d.header and d.header_field_count is not None and d.header_field_count != self.ncols:
            issues["header_field_count"] = {
                "header_fields": d.header_field_count,
                "data_fields": self.ncols,
            }
        if self.records_too_large:
            # Only when there is one: every other summary reads exactly as before.
            issues["record_too_large"] = {
                "count": self.records_too_large,
                "limit_bytes": record_limit(lim),
                "first": self.records_too_large_first,
            }
        misfit_cols = [c["name"] for c in columns if c["misfits"]["count"]]
        issues["columns_with_misfits"] = misfit_cols
        return {
            "schema_version": SCHEMA_VERSION,
            "status": "ok",
            "dialect": {
                "encoding": "utf-8",
                "bom": False,
                "encoding_fallback": False,
                "compression": None,
                "delimiter": d.delimiter,
                "quotechar": d.quotechar,
                "line_terminator": d.line_terminator,
                "header": d.header,
            },
            "rows": self._rows(),
            "column_count": self.ncols,
            "bytes": self.feed.source.input_bytes,
            "compressed_bytes": None,
            "truncated": self.truncated,
            "null_tokens": list(lim.null_tokens),
            "whitespace_is_null": lim.whitespace_is_null,
            "limits": {
                "max_field_bytes": lim.max_field_bytes,
                "distinct_cap": self.effective_distinct_cap,
                "quantile_sample": self.effective_sample,
                "max_examples": lim.max_examples,
                "max_columns": lim.max_columns,
                "max_bytes": lim.max_bytes,
                "misfit_tolerance": tol,
                "top_k": lim.top_k,
                "max_value_chars": lim.max_value_chars,
            },
            "columns": columns,
            "issues": issues,
        }
