"""Regressions found by the hostile-input fuzzers (tests/fuzz, fuzz/): each input is the
smallest form of what they found. Before the fixes each one raised, or came out as a
"CSV reader stopped" summary with wrong statistics, or held Infinity/NaN (not JSON)."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest
from csv_columns import ColumnState
from csv_helpers import NonSeekable, col, run
from summarize import CsvLimits, summarize


def test_naive_and_aware_datetimes_in_one_column() -> None:
    s = run("at,ok\n2026-01-02T10:00:00Z,true\n2026-02-03 11:30:00,false\n")
    assert s["issues"]["parse_error"] is None and s["truncated"] is False
    at = col(s, "at")
    assert at["type"] == "datetime" and at["timezone"] == "mixed"
    assert at["min"] is not None and at["distinct"] == 2
    assert col(s, "ok")["count"] == 2  # later columns are summarized too


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

    def broken(self: ColumnState, col: pa.Array, locate: object) -> None:
        raise pa.ArrowNotImplementedError("bug")

    monkeypatch.setattr(ColumnState, "add", broken)
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

    monkeypatch.setattr(ColumnState, "add", broken)
    source = CountingSource(b"a,b\n" + b"1,2\n" * 1_000_000)  # 4 MB, 64 KB blocks
    with pytest.raises(pa.ArrowNotImplementedError):
        summarize(source, CsvLimits(block_size=64 << 10, max_field_bytes=4096))
    time.sleep(0.3)
    after = source.reads
    time.sleep(0.6)
    assert source.reads == after


def test_a_long_digit_run_does_not_stall_the_header_sniffer() -> None:
    """fuzz/fuzz_csv.py timeout (52 KB): the sniffer's number regex backtracked
    quadratically on long digit runs that end in a non-digit (ReDoS): 25 s and more."""
    cell = "9" * 30_000 + "x"
    started = time.perf_counter()
    s = run("a,b\n" + f"{cell},1\n" * 20)
    assert time.perf_counter() - started < 5  # was minutes; linear now (milliseconds)
    assert s["rows"] == 20 and col(s, "a")["type"] == "string"


def test_many_ragged_rows_are_numbered_in_linear_time() -> None:
    """fuzz/fuzz_csv.py timeout (a 2.3 KB truncated gzip): every ragged row's line number
    summed over all earlier ragged rows of the batch, so n ragged rows took n^2 steps."""
    data = "a,b\n" + "1,2\n" * 300 + "1\n" * 60_000  # the sniffer sees 2 columns
    started = time.perf_counter()
    s = run(data)
    assert time.perf_counter() - started < 5  # was minutes
    ragged = s["issues"]["ragged_rows"]
    assert ragged["count"] == 60_000 and s["rows"] == 60_300
    assert ragged["first"][:2] == [{"line": 302, "fields": 1}, {"line": 303, "fields": 1}]
    assert col(s, "a")["count"] == 300
