"""The header and the column count come from the whole first record, however long."""

from __future__ import annotations

import io

import pytest
from csv_helpers import run
from csv_source import SNIFF_BYTES, read_sample
from summarize import CsvLimits, CsvRejectedError


def test_a_one_line_file_of_100k_columns_is_counted_whole():
    line = ",".join(f"c{i}" for i in range(100_000))  # ~690 KB, ten times the first read
    assert len(line) > 10 * SNIFF_BYTES
    with pytest.raises(CsvRejectedError) as e:
        run(line + "\n")
    assert (e.value.reason, e.value.message) == (
        "too_many_columns",
        "100000 columns, more than the limit of 10000",
    )


def test_a_long_header_is_read_whole_and_its_last_name_is_not_cut():
    names = [f"column_with_a_long_name_{i:05d}" for i in range(3_000)]  # ~90 KB of header
    header = ",".join(names)
    assert len(header) > SNIFF_BYTES
    rows = "\n".join(",".join(str(r * 10_000 + i) for i in range(3_000)) for r in range(3))
    s = run(f"{header}\n{rows}\n", CsvLimits(max_columns=5_000))
    assert (s["column_count"], s["rows"], s["issues"]["header_only"]) == (3_000, 3, False)
    assert s["columns"][-1]["name"] == "column_with_a_long_name_02999"
    assert s["columns"][-1]["type"] == "integer"


def test_a_first_record_with_no_line_end_is_refused_past_the_cap():
    stream = io.BytesIO(b"x" * (4 * SNIFF_BYTES))
    with pytest.raises(CsvRejectedError) as e:
        read_sample(stream, first_record_max_bytes=2 * SNIFF_BYTES)
    assert e.value.reason == "unparseable"
    assert e.value.message == (
        f"no line end in the first {2 * SNIFF_BYTES} bytes: the first record cannot be read"
    )


def test_a_one_line_file_that_ends_is_read_to_its_end():
    body = b"a," * (SNIFF_BYTES // 2) + b"b"  # no line end at all, just over SNIFF_BYTES
    sample, at_eof = read_sample(io.BytesIO(body))
    assert (sample, at_eof) == (body, True)
