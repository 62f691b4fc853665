"""One summary's read: pyarrow's streaming reader over the feed, batch by batch.

Each batch is numbered (its records' lines, with the records pyarrow handed back in
between: ``InvalidRows``), its blank rows and rows with an oversized field are left out
(``OversizedFields``), and the rest goes to the columns (``add_batch``). The summary is
assembled by ``summary_of`` once the reader is done, or has given up (``Ending``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
from csv_batch import add_batch
from csv_classify import longest_bytes
from csv_columns import ColumnState
from csv_dialect import Dialect
from csv_ending import Ending
from csv_errors import CsvRejectedError
from csv_feed import Utf8Feed
from csv_invalid_rows import InvalidRows
from csv_limits import CsvLimits, block_bytes, reader_block
from csv_lines import BatchLines, line_breaks_in, row_breaks
from csv_oversized import OversizedFields
from csv_readings import file_default
from csv_result import summary_of
from csv_source import GZIP_ERRORS

# One long-lived thread parses ahead for every run in the process, rather than a new thread
# per batch: thousands of thread starts per file, and per-thread allocator state each time.
_PARSE_AHEAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv-next-batch")

# glibc keeps the pages of freed small blocks: with thousands of columns a batch frees tens
# of thousands of pyarrow objects amid live ones, and trimming after each batch hands back
# their pages (~15 MB at 10,000 columns). None where the C library is not glibc.
_MALLOC_TRIM = getattr(ctypes.CDLL(ctypes.util.find_library("c")), "malloc_trim", None)


class Run:
    """One summary's read: the reader over the feed, the columns, and what went wrong."""

    def __init__(
        self,
        dialect: Dialect,
        limits: CsvLimits,
        feed: Utf8Feed,
        time_left: Callable[[], float] | None = None,
        lines_before: int = 0,
        field_chars: float = 0.0,
    ) -> None:
        self.dialect = dialect
        self.limits = limits
        self.feed = feed
        self.time_left = time_left
        ncols = len(dialect.names)
        # Each column's share of the budget bounds all it keeps: exact values, sample,
        # sketches. Past ~1,500 columns, the sketches shrink with it (below their full size
        # a wide file's columns would together outgrow the function's memory).
        per_col = limits.memory_budget_bytes // max(1, ncols)
        self.distinct_cap = max(100, min(limits.distinct_cap, per_col // 2 // 16))
        self.sample_size = max(256, min(limits.quantile_sample, per_col // 2 // 16))
        # A quarter for the HyperLogLog's one-byte registers (16 KiB at most, 1 KiB at least).
        hll_precision = min(14, max(10, (per_col // 4).bit_length() - 1))
        # A quarter for the heavy hitters: per key, two labels of up to ~250 bytes.
        heavy_capacity = min(256, max(16, per_col // 4 // 512))
        null_set = pa.array(list(limits.null_tokens), pa.string())
        null_token_bytes = longest_bytes(null_set)
        default_reading = file_default(dialect.delimiter)
        self.states = [
            ColumnState(
                position=i + 1,
                name=dialect.names[i],
                header=dialect.header_names[i] if dialect.header else "",
                null_set=null_set,
                null_token_bytes=null_token_bytes,
                whitespace_is_null=limits.whitespace_is_null,
                distinct_cap=self.distinct_cap,
                # The floor keeps a few exact values per column when there are thousands.
                distinct_bytes=max(4 << 10, per_col // 2),
                sample_size=self.sample_size,
                max_examples=limits.max_examples,
                top_k=limits.top_k,
                value_chars=limits.max_value_chars,
                hll_precision=hll_precision,
                heavy_capacity=heavy_capacity,
                default_reading=default_reading,
            )
            for i in range(ncols)
        ]
        self.oversized = OversizedFields(
            dialect.names,
            limits.max_field_bytes,
            limits.max_examples,
            feed.scan.long_fields,
            feed.scan.long_records,
        )
        self.invalid = InvalidRows(
            feed,
            dialect.delimiter,
            dialect.quotechar,
            limits.max_examples,
            self.oversized,
            records_done=dialect.skip_lines,
        )
        self.ending = Ending()
        self.rows = 0  # valid rows, blank ones left out
        # Line breaks not seen by pyarrow, before the current batch: blank lines dropped
        # before the sample, then line breaks inside quoted values.
        self.extra_breaks = lines_before
        # Where the last record read starts, and the line breaks inside it: those a quote
        # left open swallowed.
        self.last_record_line = 0
        self.last_record_breaks = 0
        # Wide files get a larger block: a batch's per-column calls then serve more rows.
        self.block = reader_block(limits, ncols, field_chars)

    def execute(self) -> dict[str, Any]:
        internal = [f"c{i}" for i in range(len(self.states))]
        # Reads come a block at a time: three base blocks ahead, or two grown ones (the one
        # being parsed and the next), so that a grown block costs no more read-ahead bytes.
        self.feed.read_ahead.ahead = max(2 * self.block, 3 * block_bytes(self.limits))
        reader = None
        upcoming: Future[pa.RecordBatch] | None = None
        summarizing = False
        try:
            reader = pcsv.open_csv(
                self.feed,
                read_options=pcsv.ReadOptions(
                    use_threads=False,
                    block_size=self.block,
                    skip_rows=self.dialect.skip_lines,
                    column_names=internal,
                ),
                parse_options=pcsv.ParseOptions(
                    delimiter=self.dialect.delimiter,
                    quote_char=self.dialect.quotechar,
                    double_quote=True,
                    escape_char=False,
                    newlines_in_values=True,
                    ignore_empty_lines=False,
                    invalid_row_handler=self.invalid.on_invalid,
                ),
                convert_options=pcsv.ConvertOptions(
                    column_types=dict.fromkeys(internal, pa.string()),
                    # Every column is read as text, never null: no value is looked up in
                    # these lists, yet each column's converter builds a lookup of its own
                    # from them (~6 KiB a column, 66 MB at 10,000 columns).
                    null_values=[],
                    true_values=[],
                    false_values=[],
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
                upcoming = (
                    None if self.invalid.callbacks else _PARSE_AHEAD.submit(reader.read_next_batch)
                )
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
        self.ending.finish(self.feed, self.last_record_line, self.last_record_breaks)
        return summary_of(
            dialect=self.dialect,
            limits=self.limits,
            feed=self.feed,
            states=self.states,
            rows=self.rows,
            invalid=self.invalid,
            oversized=self.oversized,
            ending=self.ending,
            distinct_cap=self.distinct_cap,
            sample_size=self.sample_size,
        )

    def _stopped(self, exc: BaseException) -> None:
        """The reader gave up mid-file: keep what was summarized, say where and why."""
        self._flush_invalid()
        line = self.invalid.records_done + self.extra_breaks + 1
        self.ending.reader_stopped(exc, self.feed, line)

    def _flush_invalid(self) -> None:
        if self.invalid.pending:
            self._place(0, None, final=True)

    def _batch(self, batch: pa.RecordBatch) -> None:
        nrows = batch.num_rows
        cols = batch.columns
        self.feed.read_ahead.release(self.block)
        lines = self._place(nrows, cols, final=False)
        if nrows == 0:
            return
        # Blank rows (every field empty) and rows with an oversized field are left out.
        drop = self.invalid.blank_rows(cols, lines)
        self.rows += nrows - (pc.sum(drop).as_py() if drop is not None else 0)
        drop = self.oversized.drop_rows(cols, lines, drop)
        if drop is not None:
            keep = pc.invert(drop)
            positions = pc.indices_nonzero(keep)
            cols = [pc.filter(col, keep) for col in cols]

            def remap(rows: list[int]) -> list[int]:
                return lines.lines([positions[i].as_py() for i in rows])

            locate: Callable[[list[int]], list[int]] = remap
        else:
            locate = lines.lines
        if len(cols[0]):
            add_batch(self.states, cols, locate)
        if _MALLOC_TRIM is not None:
            _MALLOC_TRIM(0)

    def _place(self, nrows: int, cols: list[pa.Array] | None, final: bool) -> BatchLines:
        """Number this batch's records and lines; record its ragged and blank lines."""
        base = self.invalid.records_done
        invalid = self.invalid.take(nrows, final)
        end = self.invalid.records_done
        breaks = None
        if cols and self.feed.scan.quotes:
            broken = [col for col in cols if line_breaks_in(col)]
            if broken:
                breaks = row_breaks(broken[0])
                for col in broken[1:]:
                    breaks = pc.add(breaks, row_breaks(col))
        self.oversized.batch_long = []
        # Stand-ins are looked for only while some that were passed on are not found yet.
        if cols and self.oversized.some_unfound():
            breaks = self.oversized.find_long(cols, breaks)
        lines = BatchLines(base, self.extra_breaks, invalid, breaks)
        for record in invalid:
            line = lines.invalid_line(record.number)
            if self.oversized.place_too_large(record.number, line):
                continue
            self.invalid.record(line, record.fields, record.blank)
            self.oversized.place_ragged(record.number, line)
        total_breaks = sum(record.breaks for record in invalid)
        if breaks is not None:
            total_breaks += pc.sum(breaks).as_py() or 0
        if nrows:
            self.last_record_line = lines.lines([nrows - 1])[0]
            self.last_record_breaks = breaks[nrows - 1].as_py() if breaks is not None else 0
        if invalid and invalid[-1].number == end:
            self.last_record_line = lines.invalid_line(end)
            last = invalid[-1]
            self.last_record_breaks = 0 if last.blank else last.breaks
        self.extra_breaks += total_breaks
        return lines
