"""The reader's block follows the column count: a wide file's batches hold enough of each
column that its per-column calls do not dominate, within a bound on values per batch."""

from __future__ import annotations

import random

import csv_limits
import csv_run
import pyarrow.csv as pcsv
import pytest
from csv_dialect import mean_field_chars
from csv_helpers import run
from csv_limits import reader_block
from csv_source import SNIFF_BYTES
from summarize import CsvLimits

MIB = 1 << 20
# A small base block (it holds a field at the limit twice over: a small limit too).
SMALL = CsvLimits(block_size=128 << 10, max_field_bytes=16 << 10)


def test_a_narrow_file_reads_in_the_base_block() -> None:
    assert reader_block(CsvLimits(), 10, 10.6) == 4 * MIB
    assert reader_block(CsvLimits(), 512, 7.4) == 4 * MIB


def test_a_file_of_few_columns_and_long_values_reads_in_the_base_block() -> None:
    # Three columns of 90 KB values: 15 rows a block, but 3 calls a column, not 3,000.
    assert reader_block(CsvLimits(), 3, 90_000.0) == 4 * MIB


def test_the_block_grows_with_the_column_count_past_512_columns() -> None:
    assert reader_block(CsvLimits(), 768, 20.0) == 6 * MIB
    assert reader_block(CsvLimits(), 1_024, 20.0) == 8 * MIB


def test_the_block_grows_at_most_twofold() -> None:
    assert reader_block(CsvLimits(), 10_000, 30.0) == 8 * MIB


def test_a_block_holds_no_more_values_than_the_base_block_of_the_shortest() -> None:
    # 1,000 columns of small integers ("7," is 2 bytes, "123," 4): the base block already
    # holds a million values, so it does not grow.
    assert reader_block(CsvLimits(), 1_000, 3.95) == 4 * MIB
    # 10,000 columns of ~6 bytes: half as many values again as 4 bytes, not 4 times.
    assert reader_block(CsvLimits(), 10_000, 6.0) == 6 * MIB


def test_the_growth_follows_a_smaller_base_block() -> None:
    assert reader_block(SMALL, 1_024, 20.0) == 256 << 10
    assert reader_block(SMALL, 4_096, 20.0) == 256 << 10


def test_mean_field_chars_counts_delimiters_and_line_breaks() -> None:
    assert mean_field_chars("a,b,c\n1,2,3\n", ",") == 2.0
    assert mean_field_chars("name;note\r\nann;long note\r\n", ";") == 26 / 4
    assert mean_field_chars("one field, no break", "\t") == len("one field, no break")


def _wide(columns: int, rows: int, seed: int = 5) -> str:
    rnd = random.Random(seed)
    lines = [",".join(f"c{i}" for i in range(columns))]
    for _ in range(rows):
        cells = []
        for j in range(columns):
            kind = j % 4
            if kind == 0:
                cells.append(str(rnd.randrange(10_000_000)))
            elif kind == 1:
                # Two decimals never read as thousands (`575.265` may be 575265): a column's
                # format does not hang on whether its first batch settles the mark.
                cells.append("" if rnd.random() < 0.1 else f"{rnd.uniform(-1e3, 1e3):.2f}")
            elif kind == 2:
                cells.append(f"2024-{rnd.randrange(1, 13):02d}-{rnd.randrange(1, 29):02d}")
            else:
                cells.append(rnd.choice(["alpha", "beta", "gamma", "delta"]) * 3)
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def _blocks_read(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    blocks: list[int] = []
    open_csv = pcsv.open_csv

    def spy(*args: object, **kwargs: object) -> object:
        blocks.append(kwargs["read_options"].block_size)  # type: ignore[attr-defined]
        return open_csv(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(csv_run.pcsv, "open_csv", spy)
    return blocks


EXACT_FIELDS = (
    "name",
    "type",
    "format",
    "count",
    "nulls",
    "null_spellings",
    "distinct",
    "min",
    "max",
    "min_length",
    "max_length",
    "misfits",
    "true_count",
    "false_count",
    "leading_zero_values",
)


def test_a_wide_file_is_read_in_a_larger_block_with_the_same_exact_statistics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _wide(columns=1_024, rows=60)
    limits = SMALL
    blocks = _blocks_read(monkeypatch)
    grown = run(text, limits)
    assert blocks == [reader_block(limits, 1_024, mean_field_chars(text[:SNIFF_BYTES], ","))]
    monkeypatch.setattr(csv_limits, "WIDE_BLOCK_GROWTH", 1)
    base = run(text, limits)
    assert blocks[0] > blocks[1] == 128 << 10
    assert grown["rows"] == base["rows"] == 60
    for ours, theirs in zip(grown["columns"], base["columns"], strict=True):
        assert {k: ours.get(k) for k in EXACT_FIELDS} == {k: theirs.get(k) for k in EXACT_FIELDS}
        assert ours["mean_length"] == pytest.approx(theirs["mean_length"], rel=1e-12)
        if theirs["mean"] is not None:
            assert ours["mean"] == pytest.approx(theirs["mean"], rel=1e-12)


def test_a_narrow_file_is_read_in_the_block_it_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    blocks = _blocks_read(monkeypatch)
    summary = run(_wide(columns=12, rows=200), SMALL)
    assert blocks == [128 << 10]
    assert summary["rows"] == 200
