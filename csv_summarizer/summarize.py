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

from collections.abc import Callable
from typing import Any, BinaryIO

from csv_blank_lines import BlankLines
from csv_dialect import mean_field_chars, sniff_dialect
from csv_encoding import decode_sample, detect_encoding
from csv_errors import REASONS, CsvRejectedError
from csv_feed import Utf8Feed, scan_offset
from csv_limits import DEFAULT_NULL_TOKENS, CsvLimits, block_bytes, record_limit
from csv_long_fields import LongFields
from csv_long_records import LongRecords
from csv_result import SCHEMA_VERSION
from csv_run import Run
from csv_source import GZIP_ERRORS, open_source, read_sample, skip_blank_lines

__all__ = [
    "DEFAULT_NULL_TOKENS",
    "REASONS",
    "SCHEMA_VERSION",
    "CsvLimits",
    "CsvRejectedError",
    "block_bytes",
    "error_report_key",
    "record_limit",
    "summarize",
    "summary_key",
]

DEFAULT_UPLOAD_PREFIX = "csv/"
DEFAULT_SUMMARY_PREFIX = "summaries/"


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
    run = Run(
        dialect,
        limits,
        feed,
        time_left,
        lines_before=blank_prefix.lines,
        field_chars=mean_field_chars(text, dialect.delimiter),
    )
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
