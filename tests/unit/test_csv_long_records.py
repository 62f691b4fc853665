"""Records longer than the reader's block, made of fields within the limit, are counted with
their line, and every row after them is read: pyarrow's reader used to stop at the first
("straddling object straddles two block boundaries"), dropping every later row."""

from __future__ import annotations

from csv_helpers import col, run
from summarize import CsvLimits, record_limit

# Block ~66 KB here (twice the field limit plus 64 KiB); records over 34,816 bytes are cut.
SMALL = CsvLimits(max_field_bytes=1024, block_size=8192)
LIMIT = record_limit(SMALL)
WIDE = 200  # columns
FIELD = "x" * 500
LONG_RECORD = ",".join([FIELD] * WIDE)  # 100,199 bytes of 500-byte fields
HEADER = ",".join(f"c{i}" for i in range(WIDE))


def _row(value: int) -> str:
    return ",".join([str(value)] * WIDE)


def _too_large(first: list[dict[str, int]]) -> dict[str, object]:
    return {"count": len(first), "limit_bytes": LIMIT, "first": first}


def test_the_record_limit_is_well_within_the_reader_block():
    assert LIMIT == 34_816
    assert record_limit(CsvLimits()) == (4 << 20) - (32 << 10)


def test_a_record_of_small_fields_longer_than_the_reader_block_is_counted_and_later_rows_are_read():
    rows = [HEADER, _row(1), LONG_RECORD, _row(2), _row(3), _row(4)]
    s = run("\n".join(rows) + "\n", SMALL)
    assert s["issues"]["record_too_large"] == _too_large([{"line": 3, "bytes": len(LONG_RECORD)}])
    assert (s["rows"], s["issues"]["parse_error"], s["truncated"]) == (5, None, True)
    assert s["issues"]["ragged_rows"]["count"] == 0
    assert s["issues"]["field_too_large"]["count"] == 0
    # Counted in rows, left out of every column, as a row with a long field is.
    assert col(s, "c0")["count"] == 4 and col(s, "c0")["sum"] == 10
    assert col(s, f"c{WIDE - 1}")["count"] == 4


def test_long_records_with_line_breaks_in_quoted_values_keep_the_line_numbers_that_follow():
    # 200 quoted fields with a line break each: a record of 201 lines, then a ragged row,
    # a blank line and a second such record, this one ragged too (201 fields).
    quoted = ",".join(['"a\r\nb, ""c""' + "y" * 490 + '"'] * WIDE)
    ragged_long = quoted + ",extra"
    text = "\n".join([HEADER, _row(1), quoted, "1,2", _row(2), "", ragged_long, _row(3)]) + "\n"
    s = run(text, SMALL)
    assert s["issues"]["record_too_large"] == _too_large(
        [
            {"line": 3, "bytes": len(quoted.encode())},
            {"line": 207, "bytes": len(ragged_long.encode())},
        ]
    )
    assert s["issues"]["ragged_rows"] == {"count": 1, "first": [{"line": 204, "fields": 2}]}
    assert s["issues"]["blank_lines"] == {"count": 1, "first_lines": [206]}
    assert s["rows"] == 6 and col(s, "c0")["count"] == 3 and col(s, "c0")["sum"] == 6
    assert s["issues"]["unterminated_quote"] is None


def test_a_record_at_the_limit_is_read_and_one_byte_more_is_cut():
    at = ",".join(["x" * 1000] * 34 + ["x" * 782])
    assert len(at) == LIMIT
    header = ",".join(f"h{i}" for i in range(35))
    s = run(f"{header}\n{at}\n{at}x\n{',' * 34}1\n", SMALL)
    assert s["issues"]["record_too_large"] == _too_large([{"line": 3, "bytes": LIMIT + 1}])
    assert s["rows"] == 3 and col(s, "h34")["count"] == 2 and col(s, "h34")["max_length"] == 782


def test_a_long_record_with_a_long_field_counts_the_field_in_its_bytes_only():
    long_field = "y" * 300_000
    record = ",".join([long_field] + [FIELD] * (WIDE - 1))
    s = run(f"{HEADER}\n{record}\n{_row(5)}\n", SMALL)
    assert s["issues"]["record_too_large"] == _too_large([{"line": 2, "bytes": len(record)}])
    assert s["issues"]["field_too_large"]["count"] == 0
    assert s["rows"] == 2 and col(s, "c0")["sum"] == 5


def test_a_long_last_record_without_a_line_break_and_a_one_column_file():
    s = run(f"{HEADER}\n{_row(7)}\n{LONG_RECORD}", SMALL)
    assert s["issues"]["record_too_large"] == _too_large([{"line": 3, "bytes": len(LONG_RECORD)}])
    assert s["rows"] == 2 and col(s, "c0")["count"] == 1
    # One column: the stand-in is a ragged record too, never a value of the column.
    s = run(f"a\n1\n{LONG_RECORD}\n2\n", SMALL)
    assert s["issues"]["record_too_large"] == _too_large([{"line": 3, "bytes": len(LONG_RECORD)}])
    assert s["rows"] == 3 and col(s, "a")["count"] == 2 and col(s, "a")["sum"] == 3


def test_records_whose_ends_cannot_be_proven_cheaply_are_walked_not_cut():
    # Every line ends in an empty quoted value: no line break is proven by the quote run
    # before it, so the records are walked; none is long, none is cut.
    text = "a,b\n" + '1,""\n' * 50_000
    s = run(text, SMALL)
    assert "record_too_large" not in s["issues"]
    assert s["rows"] == 50_000 and s["issues"]["parse_error"] is None


def test_a_summary_without_long_records_has_no_record_too_large():
    s = run(f"{HEADER}\n{_row(1)}\n", SMALL)
    assert "record_too_large" not in s["issues"] and s["truncated"] is False


def test_a_long_record_is_dropped_as_it_streams_by():
    # 64 MiB of one-byte fields in 64 KiB reads: nothing of it is held past the limit.
    from csv_long_records import LongRecords

    records = LongRecords(",", '"', limit=LIMIT, columns=3)
    chunk = b"x," * (32 << 10)
    out = [records.scan(b"1,2,3\n4,")] + [records.scan(chunk) for _ in range(1024)]
    out.append(records.scan(b"5\n6,7,8\n", final=True))
    stand_in = records.token + b"%d:0" % (2 + (64 << 20) + 1)
    assert b"".join(out) == b"1,2,3\n" + stand_in + b"\n6,7,8\n"
    assert set(out[2:-1]) == {b""} and len(records._held) == 0


def test_a_long_record_read_in_reads_of_any_size_ends_where_the_reader_would_end_it():
    # Quoted values with line breaks (\r\n split across reads too), doubled and literal
    # quotes, delimiters inside quotes: the stand-in ends at the record's own line break.
    import random

    from csv_long_records import LongRecords

    fields = ['"a\r\nb, ""c""\nd"', 'x"y', '""', '"e"f', "", "plain", '"\r"'] * 30
    record = ",".join(fields).encode()
    breaks = 30 * 3  # \r\n, \n and a lone \r, inside quoted values
    data = b"1,2\n" + record + b"\r\n3,4\n"
    rnd = random.Random(5)
    for _ in range(20):
        records = LongRecords(",", '"', limit=500, columns=2)
        out, i = [], 0
        while i < len(data):
            step = rnd.choice([1, 2, 3, 17, 200, 4096])
            out.append(records.scan(data[i : i + step]))
            i += step
        out.append(records.scan(b"", final=True))
        stand_in = records.token + b"%d:%d" % (len(record), breaks)
        assert b"".join(out) == b"1,2\n" + stand_in + b"\r\n3,4\n"


def test_walked_records_at_the_limit_pass_and_one_byte_more_is_cut():
    # Records ending in an empty quoted value prove no line break: all are walked.
    from csv_long_records import LongRecords

    at = b"x" * 97 + b',""'  # 100 bytes
    data = (at + b"\n") * 30 + b"y" + at + b"\r\n" + (at + b"\r\n") * 30
    records = LongRecords(",", '"', limit=100, columns=2)
    out = [records.scan(data[i : i + 250]) for i in range(0, len(data), 250)]
    out.append(records.scan(b"", final=True))
    stand_in = records.token + b"101:0"
    assert b"".join(out) == (at + b"\n") * 30 + stand_in + b"\r\n" + (at + b"\r\n") * 30
