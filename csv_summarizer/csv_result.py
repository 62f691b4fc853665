"""The summary assembled from a finished run: dialect, counts, limits, columns, issues."""

from __future__ import annotations

from typing import Any

from csv_columns import ColumnState
from csv_dialect import Dialect
from csv_ending import Ending
from csv_feed import Utf8Feed
from csv_invalid_rows import InvalidRows
from csv_limits import CsvLimits, record_limit
from csv_oversized import OversizedFields
from csv_sketches import raise_waiting_by_column

SCHEMA_VERSION = "1.1"  # 1.1 added each column's `format`


def summary_of(
    *,
    dialect: Dialect,
    limits: CsvLimits,
    feed: Utf8Feed,
    states: list[ColumnState],
    rows: int,
    invalid: InvalidRows,
    oversized: OversizedFields,
    ending: Ending,
    distinct_cap: int,
    sample_size: int,
) -> dict[str, Any]:
    """The summary (valid against summary.schema.json) of a run: ``rows`` valid rows, the
    columns' ``states``, what went wrong, and the per-column caps in effect. The encoding
    and compression are the caller's to fill in."""
    tolerance = limits.misfit_tolerance
    raise_waiting_by_column([s.distinct.hll for s in states if s.distinct.hll is not None])
    columns = [state.result(tolerance) for state in states]
    ncols = len(states)
    all_rows = rows + invalid.ragged + oversized.records_too_large
    issues: dict[str, Any] = {
        "ragged_rows": {"count": invalid.ragged, "first": invalid.ragged_first},
        "blank_lines": {"count": invalid.blank_lines, "first_lines": invalid.blank_first},
        "duplicate_headers": dialect.duplicate_headers,
        "blank_headers": dialect.blank_headers,
        "empty_columns": [column["name"] for column in columns if column["type"] == "null"],
        "unterminated_quote": ending.unterminated,
        "field_too_large": {
            "count": oversized.count,
            "limit_bytes": limits.max_field_bytes,
            "first": [shown for _, shown in oversized.first],
        },
        "undecodable_bytes": {
            "count": feed.converter.invalid_utf8,
            "first_byte_offset": feed.converter.first_invalid_offset,
        },
        "nul_bytes": feed.scan.nul_bytes,
        "header_only": all_rows == 0 and dialect.header,
        "parse_error": ending.parse_error,
    }
    fields = dialect.header_field_count
    if dialect.header and fields is not None and fields != ncols:
        issues["header_field_count"] = {"header_fields": fields, "data_fields": ncols}
    if oversized.records_too_large:
        # Only when there is one: every other summary reads exactly as before.
        issues["record_too_large"] = {
            "count": oversized.records_too_large,
            "limit_bytes": record_limit(limits),
            "first": oversized.records_too_large_first,
        }
    issues["columns_with_misfits"] = [
        column["name"] for column in columns if column["misfits"]["count"]
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "status": "ok",
        "dialect": {
            "encoding": "utf-8",
            "bom": False,
            "encoding_fallback": False,
            "compression": None,
            "delimiter": dialect.delimiter,
            "quotechar": dialect.quotechar,
            "line_terminator": dialect.line_terminator,
            "header": dialect.header,
        },
        "rows": all_rows,
        "column_count": ncols,
        "bytes": feed.source.input_bytes,
        "compressed_bytes": None,
        "truncated": ending.truncated or oversized.cut_any,
        "null_tokens": list(limits.null_tokens),
        "whitespace_is_null": limits.whitespace_is_null,
        "limits": {
            "max_field_bytes": limits.max_field_bytes,
            "distinct_cap": distinct_cap,
            "quantile_sample": sample_size,
            "max_examples": limits.max_examples,
            "max_columns": limits.max_columns,
            "max_bytes": limits.max_bytes,
            "misfit_tolerance": tolerance,
            "top_k": limits.top_k,
            "max_value_chars": limits.max_value_chars,
        },
        "columns": columns,
        "issues": issues,
    }
