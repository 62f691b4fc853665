"""Regressions found by the hostile-input fuzzers (tests/fuzz, fuzz/): each input is the
smallest form of what they found. Before the fixes each one raised, or came out as a
"CSV reader stopped" summary with wrong statistics, or held Infinity/NaN (not JSON)."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import threading
from pathlib import Path

import pyarrow as pa
import pytest
from csv_blank_lines import BlankLines
from csv_columns import ColumnState
from csv_feed import Utf8Feed
from csv_helpers import NonSeekable, col, run
from summarize import CsvLimits, summarize


def test_naive_and_aware_datetimes_in_one_column() -> None:
    s = run("at,ok\n2026-01-02T10:00:00Z,true\n2026-02-03 11:30:00,false\n")
    assert s["issues"]["parse_error"] is None and s["truncated"] is False
    at = col(s, "at")
    assert at["type"] == "datetime" and at["timezone"] == "mixed"
    assert at["min"] is not None and at["distinct"] == 2
    assert col(s, "ok")["count"] == 2  # later columns are summarized too


def test_zone_offset_out_of_range_is_a_misfit_not_a_crash() -> None:
    # +30:00 matched the datetime pattern, then failed the cast to an instant (hypothesis).
    rows = [f"2026-03-{d:02d}T12:00:00+01:00" for d in range(1, 29)] * 4
    rows.insert(50, "2026-03-04T12:00:00+30:00")
    s = run("at\n" + "\n".join(rows) + "\n")
    at = col(s, "at")
    assert at["type"] == "datetime" and at["timezone"] == "utc"
    assert at["misfits"]["count"] == 1
    assert at["misfits"]["examples"] == ["2026-03-04T12:00:00+30:00"]
    assert at["misfits"]["first_lines"] == [52]
    assert at["min"] == "2026-03-01T11:00:00Z"


def test_integers_beyond_2_to_the_53_stay_exact() -> None:
    s = run("id\n9007199254740993\n-9999999999999999\n1\n")
    assert s["issues"]["parse_error"] is None
    ident = col(s, "id")
    assert ident["type"] == "integer"
    assert (ident["min"], ident["max"]) == (-9999999999999999, 9007199254740993)
    assert ident["sum"] == 9007199254740993 - 9999999999999999 + 1


def test_integer_mean_beyond_the_float_range_is_null() -> None:
    big = "1" + "0" * 400
    c = col(run(f"n\n{big}\n2\n"), "n")
    assert c["type"] == "integer" and c["sum"] == int(big) + 2 and c["max"] == int(big)
    assert c["mean"] is None


def test_float_sum_overflow_gives_null_aggregates_not_infinity() -> None:
    c = col(run("x\n1.5e308\n1.5e308\n-2e-308\n"), "x")  # run() dumps with allow_nan=False
    assert c["type"] == "number" and c["max"] == 1.5e308
    assert c["sum"] is None and c["mean"] is None and c["stddev"] is None
    assert c["quantiles"]["q50"] == 1.5e308


def test_integer_longer_than_python_parses_falls_back_to_floats() -> None:
    c = col(run("n\n1" + "0" * 5000 + "\n2\n"), "n")
    assert c["type"] == "integer" and c["count"] == 2
    assert c["non_finite"] == {"inf": 1, "-inf": 0} and c["max"] == 2.0


def test_impossible_calendar_dates_are_text_not_dates() -> None:
    s = run("d\n2026-02-30\n2026-02-28\n2024-02-29\n", CsvLimits(misfit_tolerance=0.5))
    d = col(s, "d")
    assert s["issues"]["parse_error"] is None and d["type"] == "date"
    assert d["misfits"]["count"] == 1 and d["misfits"]["examples"] == ["2026-02-30"]
    assert col(run("d\n2026-02-30\n2026-04-31\n"), "d")["type"] == "string"


@pytest.mark.parametrize("header", ["id_0", "a,b,c", "a;b", '"q, 1",b'])
def test_header_only_without_a_final_line_break(header: str) -> None:
    s = run(header)
    assert s["rows"] == 0 and s["issues"]["header_only"] is True
    assert s["issues"]["parse_error"] is None and s["truncated"] is False


def test_last_record_without_line_break_and_open_quote_still_reported() -> None:
    assert run("a,b\n1,2")["rows"] == 1
    s = run('a,b\n1,2\n3,"open\n4,5')
    assert s["issues"]["unterminated_quote"] is not None and s["truncated"] is True


def test_only_ragged_rows_is_not_header_only() -> None:
    # 300 blank lines fill the sniffer's window: the header alone sets the width.
    s = run("a,b,c\n" + "\n" * 300 + "1,2\n3,4,5,6\n")
    assert s["rows"] == 2 and s["issues"]["ragged_rows"]["count"] == 2
    assert s["issues"]["header_only"] is False


def test_an_error_while_summarizing_is_raised_not_reported_as_a_reader_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bug in the statistics must be loud, never a summary that blames the file."""

    def broken(self: ColumnState, *args: object) -> None:
        raise pa.ArrowNotImplementedError("bug")

    # Every batch ends in one of these, column by column or many columns together.
    monkeypatch.setattr(ColumnState, "add_distinct", broken)
    monkeypatch.setattr(ColumnState, "add_values", broken)
    with pytest.raises(pa.ArrowNotImplementedError):
        summarize(NonSeekable(b"a,b\n1,2\n"), CsvLimits())


class CountingSource(NonSeekable):
    def __init__(self, data: bytes) -> None:
        super().__init__(data, chunk=1 << 16)
        self.reads = 0

    def read(self, n: int = -1) -> bytes:
        self.reads += 1
        return super().read(n)


def test_no_reader_thread_keeps_reading_after_summarize_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """pyarrow reads ahead on its IO threads (8 of them) and went on reading after the
    consumer stopped, 0.25 s per block. A fuzzer run hung once all 8 were held by readers
    nobody consumed; at exit the interpreter aborted with one still in Python code."""

    def broken(self: ColumnState, col: pa.Array, locate: object) -> None:
        raise pa.ArrowNotImplementedError("bug")

    feeds: list[Utf8Feed] = []
    real_init = Utf8Feed.__init__

    def recording_init(self: Utf8Feed, *args: object, **kwargs: object) -> None:
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]
        feeds.append(self)

    monkeypatch.setattr(ColumnState, "add", broken)
    monkeypatch.setattr(Utf8Feed, "__init__", recording_init)
    source = CountingSource(b"a,b\n" + b"1,2\n" * 1_000_000)  # 4 MB, 64 KB blocks
    with pytest.raises(pa.ArrowNotImplementedError):
        summarize(source, CsvLimits(block_size=64 << 10, max_field_bytes=4096))
    # What any IO thread still reading ahead gets now: EOF at once, from an IO thread as
    # from the main one, and the source is never touched again.
    (feed,) = feeds
    reads = source.reads
    answers: list[bytes] = []
    reader = threading.Thread(target=lambda: answers.append(feed.read(1 << 16)))
    reader.start()
    reader.join()
    assert answers == [b""] and feed.read(1 << 16) == b""
    assert source.reads == reads


def test_a_long_digit_run_does_not_stall_the_header_sniffer() -> None:
    """fuzz/fuzz_csv.py timeout (52 KB): the sniffer's number regex backtracked
    quadratically on long digit runs that end in a non-digit (ReDoS): 25 s and more."""
    cell = "9" * 30_000 + "x"
    # A hang guard, not a timing: the quadratic regex took minutes, the linear one
    # milliseconds. The summary runs in a child that is killed if it hangs.
    layer = Path(__file__).resolve().parents[2] / "layers" / "runtime"  # shared modules
    program = (
        f"import json, sys; sys.path.append({str(layer)!r}); "
        "from summarize import summarize; import io; "
        f"s = summarize(io.BytesIO(b'a,b\\n' + b'{cell},1\\n' * 20)); "
        "print(json.dumps([s['rows'], s['columns'][0]['type']]))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program],
        cwd=Path(__file__).resolve().parents[2] / "csv_summarizer",
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(completed.stdout) == [20, "string"]


def test_many_ragged_rows_are_numbered_in_linear_time() -> None:
    """fuzz/fuzz_csv.py timeout (a 2.3 KB truncated gzip): every ragged row's line number
    summed over all earlier ragged rows of the batch, so n ragged rows took n^2 steps."""
    data = "a,b\n" + "1,2\n" * 300 + "1\n" * 60_000  # the sniffer sees 2 columns
    s = run(data)  # no timing asserted: a quadratic regression shows as minutes here
    ragged = s["issues"]["ragged_rows"]
    assert ragged["count"] == 60_000 and s["rows"] == 60_300
    assert ragged["first"][:2] == [{"line": 302, "fields": 1}, {"line": 303, "fields": 1}]
    assert col(s, "a")["count"] == 300


# Finding 13 (memory bomb): pyarrow made every empty line a row of column_count empty
# cells; 1,000 columns + 1,000,000 empty lines (1 MB, 1 KB gzipped) peaked at 8.5 GB.
# The feed now replaces runs of empty lines (outside quoted values) with one marker line.
_BOMB = """
import io, json, os, resource, sys
sys.path[:0] = [{core!r}, {shared!r}]  # the core, then the runtime layer's shared modules
from summarize import CsvLimits, summarize
kind, lines = sys.argv[1], int(sys.argv[2])
header = ",".join(f"c{{i}}" for i in range(1000))
eol = {{"lf": "\\n", "crlf": "\\r\\n", "cr": "\\r"}}.get(kind, "\\n")
body = {{"delims": "," * 999 + eol, "short_delims": ",,,," + eol}}.get(kind, eol)
data = (header + eol + body * lines + "1,2" + eol).encode()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s = summarize(io.BytesIO(data), CsvLimits())
grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
issues = s["issues"]
print(json.dumps({{"rows": s["rows"], "blank": issues["blank_lines"], "grew": grew,
                  "ragged": issues["ragged_rows"], "error": issues["parse_error"]}}))
sys.stdout.flush()
os._exit(0)  # pyarrow's IO threads may still be winding down (docs/RELIABILITY.md)
"""


def _bomb(kind: str, lines: int) -> dict[str, object]:
    core = Path(__file__).resolve().parents[2] / "csv_summarizer"
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            _BOMB.format(core=str(core), shared=str(core.parent / "layers" / "runtime")),
            kind,
            str(lines),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize("kind", ["lf", "crlf", "cr"])
def test_a_million_empty_lines_under_a_wide_header_stay_within_memory(kind: str) -> None:
    s = _bomb(kind, 1_000_000)
    assert s["grew"] < 200 << 20  # was 8.5 GB
    assert s["error"] is None
    assert s["rows"] == 1  # the ragged "1,2" after them
    assert s["blank"] == {"count": 1_000_000, "first_lines": list(range(2, 12))}
    assert s["ragged"] == {"count": 1, "first": [{"line": 1_000_002, "fields": 2}]}


def test_lines_of_only_delimiters_stay_within_memory() -> None:
    # As many fields as columns: blank rows (1 cell per byte, the densest a row gets).
    s = _bomb("delims", 20_000)
    assert s["grew"] < 400 << 20
    assert s["rows"] == 1 and s["blank"]["count"] == 20_000  # type: ignore[index]
    assert s["ragged"] == {"count": 1, "first": [{"line": 20_002, "fields": 2}]}
    # Fewer fields than columns: ragged rows, one (bounded) record each.
    s = _bomb("short_delims", 300_000)
    assert s["grew"] < 400 << 20
    assert s["rows"] == 300_001 and s["blank"]["count"] == 0  # type: ignore[index]
    assert s["ragged"]["first"][:2] == [  # type: ignore[index]
        {"line": 2, "fields": 5},
        {"line": 3, "fields": 5},
    ]


def test_empty_lines_are_numbered_exactly_around_quoted_line_breaks() -> None:
    data = 'a,b,c\n1,2,3\n\n\n"x\n\n\ny",1,2\r\n\r\n4,5,6\r\r\r,,\n\n\n"\n",7,8\n9\n\n'
    s = run(data)
    # 3-4 blank, 5-8 "x..y", 9 blank, 10 "4,5,6", 11-12 blank, 13 ",," (blank too),
    # 14-15 blank, 16-17 the quoted line break, 18 "9" (ragged), 19 blank
    assert s["issues"]["blank_lines"] == {
        "count": 9,
        "first_lines": [3, 4, 9, 11, 12, 13, 14, 15, 19],
    }
    assert s["issues"]["ragged_rows"] == {"count": 1, "first": [{"line": 18, "fields": 1}]}
    assert s["rows"] == 5 and col(s, "a")["max_length"] == 5  # "x\n\n\ny" kept whole


def test_empty_lines_inside_quoted_values_are_kept() -> None:
    s = run('k,v\n1,"a\n\n\nb"\n2,"\r\n\r\n"\n\n3,x\n')
    assert s["rows"] == 3 and s["issues"]["blank_lines"] == {"count": 1, "first_lines": [9]}
    v = col(s, "v")
    assert v["count"] == 2 and v["max_length"] == 5  # "\r\n\r\n" is whitespace: null


def _expand(data: bytes, marker: bytes) -> bytes:
    return re.sub(re.escape(marker) + rb"(\d+)\n", lambda m: b"E\n" * int(m.group(1)), data)


def test_blank_line_markers_do_not_depend_on_where_reads_split() -> None:
    """The feed's reads split the input anywhere: in a \\r\\n, a doubled quote, a run."""
    rnd = random.Random(13)
    alpha = [b"a", b",", b",", b'"', b'"', b'""', b"\n", b"\n", b"\r", b"\r\n", b" "]
    for _ in range(3000):
        data = b"".join(rnd.choice(alpha) for _ in range(rnd.randint(1, 30)))
        whole = BlankLines(",", '"')
        expect = _expand(whole.scan(data), whole.marker)
        cuts = sorted(rnd.sample(range(len(data) + 1), min(len(data) + 1, rnd.randint(1, 5))))
        split = BlankLines(",", '"')
        parts = [split.scan(data[i:j]) for i, j in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert _expand(b"".join(parts), split.marker) == expect, (data, cuts)
        assert split.state == whole.state
