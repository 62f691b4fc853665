"""One small generated file per edge case from issue 4; every summary is schema-validated."""

from __future__ import annotations

import codecs
import gzip

import pytest
from csv_helpers import col, run
from summarize import CsvLimits, CsvRejectedError

THIRTEEN_NULLS = [
    "",
    " ",
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
]


def test_nulls_in_13_spellings():
    values = [str(i) for i in range(20)] + THIRTEEN_NULLS
    body = "".join(f'{i},"{v}"\n' for i, v in enumerate(values))
    s = run("n,x\n" + body)
    c = col(s, "x")
    assert c["type"] == "integer"
    assert c["nulls"] == 13 and c["count"] == 20
    assert sum(c["null_spellings"].values()) == 13
    assert c["null_spellings"]["<whitespace>"] == 1
    assert c["min"] == 0 and c["max"] == 19
    assert s["null_tokens"] == list(CsvLimits().null_tokens)


def test_null_tokens_are_configurable_and_reported():
    s = run("x\n1\nmissing\n3\n", CsvLimits(null_tokens=("missing",)))
    c = col(s, "x")
    assert c["nulls"] == 1 and c["type"] == "integer"
    assert s["null_tokens"] == ["missing"]


def test_na_in_numeric_column():
    s = run("v\n1.5\nNA\n2.5\nNA\n")
    c = col(s, "v")
    assert c["type"] == "number" and c["nulls"] == 2 and c["mean"] == 2.0


def test_ragged_rows_early_and_late():
    rows = [
        "a,b,c",
        "1,2,3",
        "4,5",
        *[f"{i},{i},{i}" for i in range(6, 200)],
        "7,8,9,10",
        "11,12,13",
    ]
    s = run("\n".join(rows) + "\n")
    r = s["issues"]["ragged_rows"]
    assert r["count"] == 2
    assert r["first"] == [{"line": 3, "fields": 2}, {"line": 198, "fields": 4}]
    assert s["rows"] == 198
    assert col(s, "a")["count"] == 196  # ragged rows are excluded from statistics


def test_when_widths_tie_the_headers_width_wins():
    # One row of each width after the header: 3 (the header's), 2 and 4.
    s = run("a,b,c\n1,2,3\n4,5\n6,7,8,9\n")
    assert s["column_count"] == 3
    assert [c["name"] for c in s["columns"]] == ["a", "b", "c"]
    ragged = s["issues"]["ragged_rows"]
    assert (ragged["count"], ragged["first"]) == (
        2,
        [{"line": 3, "fields": 2}, {"line": 4, "fields": 4}],
    )
    assert (col(s, "a")["count"], col(s, "a")["min"], col(s, "c")["max"]) == (1, 1, 3)


def test_ragged_line_numbers_across_blocks_and_quoted_newlines():
    rows = ["a,b", '"multi\nline",1']
    for i in range(20_000):
        rows.append(f"{i},x" if i % 7000 else f"{i},x,extra")
    s = run("\n".join(rows) + "\n", CsvLimits(block_size=16_384, max_field_bytes=4096))
    # record k (0-based after the quoted record) sits on physical line k + 4
    assert [r["line"] for r in s["issues"]["ragged_rows"]["first"]] == [4, 7004, 14004]


def test_ragged_and_blank_lines_first_met_after_clean_batches():
    # The batches before the first ragged row are parsed while the previous one is
    # summarized; the first ragged and blank lines are met in such a batch.
    lines = ["a,b"]
    for i in range(20_000):
        if i in (9000, 9001, 15_000):
            lines.append(f"{i},x,extra")
        elif i in (12_000, 12_001):
            lines.append("")
        else:
            lines.append(f"{i},x")
    s = run("\n".join(lines) + "\n", CsvLimits(block_size=16_384, max_field_bytes=4096))
    ragged = s["issues"]["ragged_rows"]
    assert ragged == {
        "count": 3,
        "first": [{"line": n + 2, "fields": 3} for n in (9000, 9001, 15_000)],
    }
    assert s["issues"]["blank_lines"] == {"count": 2, "first_lines": [12_002, 12_003]}
    a = col(s, "a")
    assert (a["count"], a["min"], a["max"]) == (19_995, 0, 19_999)
    assert a["sum"] == sum(range(20_000)) - (9000 + 9001 + 15_000 + 12_000 + 12_001)


def test_unterminated_quote_is_reported():
    s = run('a,b\n1,2\n3,"oops\n5,6\n7,8\n')
    u = s["issues"]["unterminated_quote"]
    assert u is not None and u["line"] == 3
    assert s["truncated"] is True


def test_unterminated_quote_swallowing_a_large_rest():
    body = "".join(f"{i},y\n" for i in range(40_000))
    s = run('a,b\n1,2\n3,"oops\n' + body, CsvLimits(block_size=16_384, max_field_bytes=4096))
    assert s["issues"]["unterminated_quote"]["line"] == 3
    assert s["truncated"] is True


def test_newlines_inside_quotes_keep_line_numbers_exact():
    s = run('id,note\n1,"a\nb\nc"\n2,"x\r\ny"\n3,ok\nfour,z\n')
    c = col(s, "id")
    assert s["rows"] == 4
    assert c["type"] == "string"  # 3 of 4 integers is below the 99% a type needs
    s = run("id,note\n" + '1,"a\nb"\n' + "".join(f"{i},n\n" for i in range(2, 300)) + "bad,n\n")
    c = col(s, "id")
    assert c["type"] == "integer"
    assert c["misfits"] == {"count": 1, "first_lines": [302], "examples": ["bad"]}
    assert col(s, "note")["top_values"][0] == {"value": "n", "count": 299}


def test_utf8_bom():
    s = run(codecs.BOM_UTF8 + "név,x\nÁrvíztűrő,1\n".encode())
    assert s["dialect"]["encoding"] == "utf-8-sig" and s["dialect"]["bom"] is True
    assert s["columns"][0]["name"] == "név"
    assert col(s, "név")["top_values"][0]["value"] == "Árvíztűrő"


def test_latin1_fallback_is_flagged():
    s = run("name,x\ncafé,1\nSão Paulo,2\n".encode("latin-1"))
    assert s["dialect"]["encoding"] == "iso-8859-1"
    assert s["dialect"]["encoding_fallback"] is True
    assert "encoding_fallback" in s["issues"]
    assert col(s, "name")["min"] == "São Paulo" and col(s, "name")["max"] == "café"


def test_cp1252_with_euro_sign():
    s = run("price,x\n5 €,1\n“quoted”,2\n".encode("cp1252"))
    assert s["dialect"]["encoding"] == "cp1252" and s["dialect"]["encoding_fallback"] is True
    values = {t["value"] for t in col(s, "price")["top_values"]}
    assert values == {"5 €", "“quoted”"}


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be"])
def test_utf16_with_bom(codec):
    data = "a,b\n\u03b1,1\n\u03b2,2\n".encode(codec)
    if codec == "utf-16-be":
        data = codecs.BOM_UTF16_BE + data
    s = run(data)
    assert s["dialect"]["encoding"] in ("utf-16-le", "utf-16-be") and s["dialect"]["bom"]
    assert col(s, "a")["min"] == "\u03b1" and col(s, "b")["sum"] == 3


@pytest.mark.parametrize("delim", [";", "\t", "|"])
def test_other_delimiters(delim):
    text = delim.join(["a", "b", "c"]) + "\n"
    text += "".join(delim.join([str(i), f"x,{i}", "1.5"]) + "\n" for i in range(10))
    s = run(text)
    assert s["dialect"]["delimiter"] == delim
    assert [c["type"] for c in s["columns"]] == ["integer", "string", "number"]
    assert col(s, "b")["min"] == "x,0"


def test_semicolon_with_decimal_commas_reads_them():
    s = run("a;b\n1,5;2\n2,5;3\n")
    assert s["dialect"]["delimiter"] == ";"
    a = col(s, "a")
    assert (a["type"], a["min"], a["max"], a["format"]["decimal_mark"]) == ("number", 1.5, 2.5, ",")


def test_line_endings_crlf_and_bare_cr():
    for term in ("\r\n", "\r"):
        s = run(term.join(["a,b", "1,2", "3,4", "x,5"]) + term)
        assert s["dialect"]["line_terminator"] == term
        assert s["rows"] == 3 and col(s, "b")["sum"] == 11


def test_leading_zero_codes_stay_strings():
    s = run("zip,n\n00123,1\n02134,2\n10001,3\n")
    c = col(s, "zip")
    assert c["type"] == "string" and c["leading_zero_values"] == 2
    assert c["min"] == "00123"


def test_number_after_30k_integers():
    rows = [str(i) for i in range(30_000)] + ["1.5"]
    s = run("v\n" + "\n".join(rows) + "\n")
    c = col(s, "v")
    assert c["type"] == "number"
    assert c["max"] == 29_999 and c["min"] == 0
    assert c["sum"] == pytest.approx(sum(range(30_000)) + 1.5, rel=1e-15)


def test_99_9_percent_numeric_reports_misfits():
    rows = [str(i) for i in range(5000)]
    rows[1234] = "n/k"
    rows[4000] = "twelve"
    s = run("v\n" + "\n".join(rows) + "\n")
    c = col(s, "v")
    assert c["type"] == "integer"
    assert c["misfits"] == {"count": 2, "first_lines": [1236, 4002], "examples": ["n/k", "twelve"]}
    assert c["count"] == 5000 and c["max"] == 4999
    assert s["issues"]["columns_with_misfits"] == ["v"]


def test_two_to_the_64():
    s = run(f"big\n{2**64}\n1\n-{2**63}\n")
    c = col(s, "big")
    assert c["type"] == "integer"
    assert c["max"] == 2**64 and c["min"] == -(2**63)
    assert c["sum"] == 2**64 + 1 - 2**63


def test_inf_values():
    s = run("x\n1.0\ninf\n-inf\n3.0\n")
    c = col(s, "x")
    assert c["type"] == "number"
    assert c["non_finite"] == {"inf": 1, "-inf": 1}
    assert c["min"] == 1.0 and c["max"] == 3.0 and c["mean"] == 2.0


def test_empty_file_is_rejected():
    with pytest.raises(CsvRejectedError) as e:
        run(b"")
    assert e.value.reason == "empty"
    with pytest.raises(CsvRejectedError) as e:
        run(b"\n\n  \n")
    assert e.value.reason == "empty"


def test_header_only():
    s = run("a,b,c\n")
    assert s["rows"] == 0 and s["issues"]["header_only"] is True
    assert [c["name"] for c in s["columns"]] == ["a", "b", "c"]
    assert {c["type"] for c in s["columns"]} == {"null"}


def test_all_null_column():
    s = run("a,b\n1,\n2,NA\n3,\n")
    assert col(s, "b")["type"] == "null" and col(s, "b")["nulls"] == 3
    assert s["issues"]["empty_columns"] == ["b"]


def test_duplicate_and_blank_headers():
    s = run("a,a,,b\n1,2,3,4\n")
    assert [c["name"] for c in s["columns"]] == ["a", "a_2", "column_3", "b"]
    assert s["issues"]["duplicate_headers"] == [{"name": "a", "positions": [1, 2]}]
    assert s["issues"]["blank_headers"] == [3]
    assert col(s, "a_2")["header"] == "a"


def test_very_wide_file():
    n = 2000
    header = ",".join(f"c{i}" for i in range(n))
    rows = [",".join(str(i * r) for i in range(n)) for r in range(3)]
    s = run(header + "\n" + "\n".join(rows) + "\n")
    assert s["column_count"] == n and s["rows"] == 3
    assert col(s, "c1999")["max"] == 1999 * 2


def test_very_long_field_within_and_over_the_limit():
    long = "x" * 300_000
    s = run(f"a,b\n1,{long}\n2,y\n")
    assert col(s, "b")["max_length"] == 300_000
    s = run(f"a,b\n1,{long}\n2,y\n3,z\n", CsvLimits(max_field_bytes=100_000))
    f = s["issues"]["field_too_large"]
    assert f["count"] == 1 and f["first"] == [{"line": 2, "column": "b", "bytes": 300_000}]
    assert s["truncated"] is True and col(s, "a")["count"] == 2


def test_fields_at_and_just_over_the_byte_limit():
    limits = CsvLimits(max_field_bytes=64)
    at = "é" * 32  # 64 bytes, 32 characters
    # A column whose values together fit the limit is not measured value by value.
    alone = run(f"a,b\n1,{at}\n", limits)
    assert alone["issues"]["field_too_large"]["count"] == 0
    assert col(alone, "b")["max_length"] == 32
    many = run("a,b\n" + "".join(f"{i},{at}\n" for i in range(50)), limits)
    assert many["issues"]["field_too_large"]["count"] == 0
    assert col(many, "b")["count"] == 50 and many["truncated"] is False
    over = run(f"a,b\n1,{at}x\n", limits)  # one byte past, all alone in its column
    f = over["issues"]["field_too_large"]
    assert f["count"] == 1 and f["first"] == [{"line": 2, "column": "b", "bytes": 65}]
    assert col(over, "b")["count"] == 0 and over["truncated"] is True


def test_blank_lines_are_counted_not_rows():
    s = run("a,b\n1,2\n\n3,4\n   \n,\n5,6\n")
    assert s["rows"] == 3
    assert s["issues"]["blank_lines"] == {"count": 3, "first_lines": [3, 5, 6]}


def test_binary_input_is_rejected():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10
    with pytest.raises(CsvRejectedError) as e:
        run(png)
    assert e.value.reason == "not_text"
    with pytest.raises(CsvRejectedError) as e:
        run(bytes(range(256)) * 40)
    assert e.value.reason == "not_text"


def test_a_few_nul_bytes_are_counted():
    s = run(b"a,b\n" + b"".join(b"%d,x\n" % i for i in range(500)) + b"1,y\x00z\n")
    assert s["issues"]["nul_bytes"] == 1 and s["rows"] == 501


def test_undecodable_bytes():
    with pytest.raises(CsvRejectedError) as e:
        run(codecs.BOM_UTF8 + b"a,b\n\xff\xfe\xfa,1\n")
    assert e.value.reason == "undecodable"
    # valid UTF-8 in the sniff window, invalid later: replaced, counted, located
    data = b"a,b\n" + b"".join(b"%d,\xc3\xa9\n" % i for i in range(20_000)) + b"1,\xff\n"
    s = run(data)
    u = s["issues"]["undecodable_bytes"]
    assert u["count"] == 1 and u["first_byte_offset"] is not None
    assert s["rows"] == 20_001


def test_gzip_is_detected_and_streamed():
    raw = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * 2) for i in range(1000))
    s = run(gzip.compress(raw))
    assert s["dialect"]["compression"] == "gzip"
    assert s["bytes"] == len(raw) and s["compressed_bytes"] < len(raw)
    assert col(s, "b")["sum"] == sum(i * 2 for i in range(1000))


def test_corrupt_gzip():
    with pytest.raises(CsvRejectedError) as e:
        run(b"\x1f\x8b\x08\x00garbage-not-deflate" * 3)
    assert e.value.reason == "corrupt_gzip"


def test_no_header_detected():
    s = run("1,2.5,2024-01-01\n2,3.5,2024-01-02\n3,4.5,2024-01-03\n")
    assert s["dialect"]["header"] is False
    assert [c["name"] for c in s["columns"]] == ["column_1", "column_2", "column_3"]
    assert s["rows"] == 3 and col(s, "column_3")["type"] == "date"


def test_datetimes_and_timezones():
    s = run("t\n2024-01-02T03:04:05\n2024-01-02 10:00:00\n2023-12-31T23:59:59.5\n")
    c = col(s, "t")
    assert c["type"] == "datetime" and c["timezone"] == "naive"
    assert c["min"] == "2023-12-31T23:59:59.500000" and c["max"] == "2024-01-02T10:00:00"
    s = run("t\n2024-01-02T03:04:05Z\n2024-01-02T03:04:05+02:00\n")
    c = col(s, "t")
    assert c["timezone"] == "utc" and c["min"] == "2024-01-02T01:04:05Z"


def test_too_many_columns():
    with pytest.raises(CsvRejectedError) as e:
        run(",".join("x" * 5 for _ in range(50)) + "\n", CsvLimits(max_columns=10))
    assert e.value.reason == "too_many_columns"


def test_max_bytes_truncates():
    data = "a\n" + "".join(f"{i}\n" for i in range(100_000))
    s = run(data, CsvLimits(max_bytes=100_000))
    assert s["truncated"] is True and 0 < s["rows"] < 100_000


def test_max_bytes_can_reject_instead_and_counts_decompressed_bytes():
    data = ("a\n" + "".join(f"{i}\n" for i in range(100_000))).encode()
    limits = CsvLimits(max_bytes=100_000, over_max_bytes="reject")
    for body, detail in ((data, ""), (gzip.compress(data), " once decompressed")):
        with pytest.raises(CsvRejectedError) as e:
            run(body, limits)
        assert (e.value.reason, e.value.message) == (
            "too_large",
            f"the CSV holds more than 100000 bytes{detail}",
        )
    # Exactly at the limit is within it.
    exact = run(data, CsvLimits(max_bytes=len(data), over_max_bytes="reject"))
    assert (exact["rows"], exact["truncated"], exact["bytes"]) == (100_000, False, len(data))
