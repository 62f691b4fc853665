"""Blank lines before the table are skipped whatever their length (issue 16, item 6): past
the 64 KiB sample, a valid CSV used to be rejected as ``empty``."""

from __future__ import annotations

import gzip
import io
import tracemalloc

import pytest
from csv_helpers import col, run
from csv_source import SNIFF_BYTES
from summarize import CsvLimits, CsvRejectedError

TABLE = "a,b\n1,x\n\n2,y\n3,z,w\n"


@pytest.mark.parametrize(
    ("blank", "lines"),
    [
        ("\n", 70_000),
        ("\r\n", 70_000),
        ("\r", 70_000),
        ("  \t\n", 30_000),
    ],
)
def test_blank_lines_longer_than_the_sample_are_skipped(blank: str, lines: int):
    data = blank * lines + TABLE
    assert len(blank * lines) > SNIFF_BYTES
    s = run(data)
    assert (s["rows"], s["column_count"], s["bytes"]) == (3, 2, len(data))
    assert [c["name"] for c in s["columns"]] == ["a", "b"]
    # Lines are still numbered as in the file: the header is line lines + 1.
    assert s["issues"]["blank_lines"] == {"count": 1, "first_lines": [lines + 3]}
    assert s["issues"]["ragged_rows"]["first"] == [{"line": lines + 5, "fields": 3}]
    assert col(s, "a")["sum"] == 3  # the ragged row is left out


def test_after_a_bom_and_in_gzip():
    s = run("\ufeff" + "\n" * 100_000 + TABLE)
    assert (s["rows"], s["dialect"]["bom"], s["columns"][0]["name"]) == (3, True, "a")
    s = run(gzip.compress(("\n" * 100_000 + TABLE).encode()))
    assert (s["rows"], s["dialect"]["compression"]) == (3, "gzip")


def test_only_blank_lines_is_empty():
    with pytest.raises(CsvRejectedError) as e:
        run("\n" * 200_000)
    assert (e.value.reason, e.value.message) == ("empty", "the object holds only whitespace")


def test_blank_lines_count_against_max_bytes():
    with pytest.raises(CsvRejectedError) as e:
        run("\n" * 200_000 + TABLE, CsvLimits(max_bytes=100_000, over_max_bytes="reject"))
    assert (e.value.reason, e.value.message) == (
        "too_large",
        "the CSV holds more than 100000 bytes of blank lines",
    )


def test_blank_lines_are_dropped_as_they_are_read():
    # 32 MiB of line breaks in 64 KiB reads: only the last read is ever held.
    from csv_source import skip_blank_lines

    class Blank(io.RawIOBase):
        def __init__(self) -> None:
            self.left = 512
            self.table = b"a,b\n1,2\n"

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.left:
                self.left -= 1
                return b"\n" * min(n, 1 << 16)
            out, self.table = self.table[:n], self.table[n:]
            return out

    tracemalloc.start()
    try:
        prefix = skip_blank_lines(Blank())  # type: ignore[arg-type]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (prefix.lines, prefix.nbytes, prefix.at_limit) == (32 << 20, 32 << 20, False)
    assert prefix.stream.read(100) == b"a,b\n1,2\n"
    assert peak < 1 << 20
