"""Fields over the size limit are counted with their line, and every row after them is read,
however long they are (issue 16, item 5): pyarrow's reader used to stop at a record longer
than about its block, dropping every later row and reporting nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from csv_helpers import col, run
from summarize import CsvLimits

# Block (the larger of block_size and twice the field limit plus 64 KiB) is ~66 KB here:
# a 300 KB field is longer than any two blocks, as a 200 MB one is with the defaults.
SMALL = CsvLimits(max_field_bytes=1024, block_size=8192)
LONG = 300_000


def _too_large(first: list[dict[str, object]]) -> dict[str, object]:
    return {"count": len(first), "limit_bytes": 1024, "first": first}


def test_a_field_longer_than_the_reader_block_is_counted_and_later_rows_are_read():
    s = run(f"a,b\n1,x\n2,{'y' * LONG}\n3,z\n4,w\n", SMALL)
    assert s["issues"]["field_too_large"] == _too_large([{"line": 3, "column": "b", "bytes": LONG}])
    assert (s["rows"], s["issues"]["parse_error"], s["truncated"]) == (4, None, True)
    # The row with the long field is counted in rows and left out of every column.
    assert col(s, "a")["count"] == 3 and col(s, "a")["sum"] == 8
    assert col(s, "b")["count"] == 3


def test_a_long_first_data_row_no_longer_reads_as_a_header_only_file():
    s = run(f"a,b\n1,{'y' * LONG}\n2,z\n", SMALL)
    assert (s["rows"], s["issues"]["header_only"]) == (2, False)
    assert s["issues"]["field_too_large"] == _too_large([{"line": 2, "column": "b", "bytes": LONG}])
    assert col(s, "a")["count"] == 1


def test_quoted_long_fields_keep_the_line_numbers_that_follow():
    # 30,000 line breaks and doubled quotes inside; bytes are the value's, as pyarrow reads it.
    text = 'say ""hi"",\n' * 30_000  # 12 bytes a line as written, 10 as read
    s = run(f'a,b\n1,x\n2,"{text}"\n3,z\n\n4,w,extra\n5,"{text}"\n6,v\n', SMALL)
    assert s["issues"]["field_too_large"] == _too_large(
        [
            {"line": 3, "column": "b", "bytes": 300_000},
            {"line": 30_007, "column": "b", "bytes": 300_000},
        ]
    )
    assert s["issues"]["blank_lines"] == {"count": 1, "first_lines": [30_005]}
    assert s["issues"]["ragged_rows"] == {"count": 1, "first": [{"line": 30_006, "fields": 3}]}
    assert s["rows"] == 6 and col(s, "a")["count"] == 3


def test_several_long_fields_in_one_row_and_one_in_a_ragged_row_are_each_counted():
    s = run(f"a,b,c\n1,{'x' * LONG},{'y' * LONG}\n2,q,r\n3,{'z' * LONG},r,extra\n4,q,r\n", SMALL)
    assert s["issues"]["field_too_large"] == _too_large(
        [
            {"line": 2, "column": "b", "bytes": LONG},
            {"line": 2, "column": "c", "bytes": LONG},
            {"line": 4, "column": "b", "bytes": LONG},
        ]
    )
    assert s["issues"]["ragged_rows"]["first"] == [{"line": 4, "fields": 4}]
    assert s["rows"] == 4 and col(s, "a")["count"] == 2


def test_an_unterminated_quote_that_swallows_the_rest_is_still_reported():
    s = run('a,b\n1,x\n2,"' + "line\n" * 100_000, SMALL)
    assert s["issues"]["unterminated_quote"] == {"line": 3, "lines_swallowed": 100_000}
    assert s["issues"]["field_too_large"] == _too_large(
        [{"line": 3, "column": "b", "bytes": 500_000}]
    )
    assert s["rows"] == 2


def test_a_quoted_value_at_the_limit_passes_whatever_its_length_as_written():
    at = '""' * 1024  # 2,050 bytes as written, 1,024 as read
    s = run(f'a,b\n1,"{at}"\n2,"{at}x"\n3,z\n', SMALL)
    assert s["issues"]["field_too_large"] == _too_large([{"line": 3, "column": "b", "bytes": 1025}])
    assert col(s, "b")["max_length"] == 1024 and col(s, "b")["count"] == 2


def test_a_long_field_is_dropped_as_it_streams_by():
    # 64 MiB of field in 64 KiB reads: nothing of it is held, whatever the reads' sizes.
    from csv_long_fields import LongFields

    fields = LongFields(",", '"', limit=1024)
    chunk = b"x" * (64 << 10)
    out = [fields.scan(b"1,2\n3,")] + [fields.scan(chunk) for _ in range(1024)]
    out.append(fields.scan(b"\n4,5\n", final=True))
    token = fields.token
    assert b"".join(out) == b"1,2\n3," + token + b"%d:0\n4,5\n" % (64 << 20)
    assert set(out[1:-1]) == {b""}


def test_a_long_quoted_value_in_short_reads_is_walked_a_few_times_not_at_every_read():
    # 2 MiB of doubled quotes (a 1 MiB + 1 value) read 4 KiB at a time, as S3 may hand it
    # over: walking it again at every read took seconds; the bound is on the walks, not time.
    from csv_long_fields import LongFields

    fields = LongFields(",", '"', limit=1 << 20)
    walks = 0
    walk = fields._walk

    def counted(buf: bytes, lo: int) -> tuple[str, int]:
        nonlocal walks
        walks += 1
        return walk(buf, lo)

    fields._walk = counted  # type: ignore[method-assign]
    data = b"1," + b'"' + b'""' * ((1 << 20) + 1) + b'"' + b"\n2,3\n"
    out = [fields.scan(data[i : i + 4096]) for i in range(0, len(data), 4096)]
    out.append(fields.scan(b"", final=True))
    assert b"".join(out) == b"1," + fields.token + b"%d:0\n2,3\n" % ((1 << 20) + 1)
    assert walks <= 4


CHILD = """
import io, sys
sys.path[:0] = sys.argv[1:3]
from summarize import CsvLimits, summarize


class OneLongField(io.RawIOBase):
    # A header, a row whose second field is 64 MiB, one more row; made as it is read.
    def __init__(self):
        self.parts = [b"a,b\\n1,"] + [b"x" * (1 << 20)] * 64 + [b"\\n2,y\\n"]

    def readable(self):
        return True

    def read(self, n=-1):
        return self.parts.pop(0) if self.parts else b""


def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024


before = peak_mb()
s = summarize(OneLongField(), CsvLimits())
print(s["rows"], s["issues"]["field_too_large"]["first"], peak_mb() - before)
"""


def test_a_64_mib_field_costs_no_memory_with_the_default_limits():
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(root / "csv_summarizer"), str(root / "layers/runtime")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split(maxsplit=1)
    rows, rest = int(out[0]), out[1]
    first, grew_mb = rest.rsplit(maxsplit=1)
    assert rows == 2
    assert first.strip() == "[{'line': 2, 'column': 'b', 'bytes': 67108864}]"
    # Held whole, the field alone would add 64 MiB to the process's peak; pyarrow's blocks
    # and read-ahead (4 MiB each) are what it grows by.
    assert int(grew_mb) < 40
