"""Memory grows against bytes, not value counts: wide values switch to sketches early, and
only bounded copies of values are kept (top values, misfit examples, string min/max)."""

from __future__ import annotations

import random

import csv_distinct
import pyarrow as pa
from csv_classify import longest_bytes
from csv_columns import ColumnState
from csv_helpers import col, run
from summarize import DEFAULT_NULL_TOKENS, CsvLimits

# One column: per-column budget 256 KiB, so 128 KiB for exact distinct values.
SMALL = CsvLimits(memory_budget_bytes=256 << 10)
NULLS = pa.array(DEFAULT_NULL_TOKENS)


def _state(distinct_bytes: int) -> ColumnState:
    return ColumnState(
        position=1,
        name="v",
        header="v",
        null_set=NULLS,
        null_token_bytes=longest_bytes(NULLS),
        whitespace_is_null=True,
        distinct_cap=100_000,
        distinct_bytes=distinct_bytes,
        sample_size=1024,
        max_examples=10,
        top_k=5,
        value_chars=200,
    )


def _csv(values: list[str]) -> str:
    return "v\n" + "".join(f"{v}\n" for v in values)


def test_exact_phase_holds_no_more_bytes_than_its_budget():
    budget = 64 << 10
    state = _state(budget)
    for batch in range(40):
        values = pa.array([f"{batch:03d}-{i:03d}-" + "x" * 990 for i in range(10)])
        state.add(values, lambda ix: ix)
        assert state.distinct.exact_bytes <= budget
    assert not state.exact  # 400 KB of distinct values: sketched, well before the count cap
    assert state.result(0.01)["distinct_approximate"] is True


def test_wide_values_switch_to_sketches_where_narrow_ones_stay_exact():
    narrow = run(_csv([f"n{i}" for i in range(300)] * 2), SMALL)
    wide = run(_csv([f"{i:04d}" + "w" * 1000 for i in range(300)] * 2), SMALL)
    assert col(narrow, "v")["distinct"] == 300
    assert col(narrow, "v")["distinct_approximate"] is False
    w = col(wide, "v")
    assert w["distinct_approximate"] is True
    assert abs(w["distinct"] - 300) <= w["distinct_relative_error"] * 300
    assert w["count"] == 600 and wide["rows"] == 600


def test_switch_at_the_last_merge_still_reports_distinct_values():
    # Under the count cap all along: only the final merge finds the byte budget exceeded.
    s = run(_csv([f"{i:03d}" + "z" * 1500 for i in range(60)]), SMALL)
    v = col(s, "v")
    assert v["distinct_approximate"] is True
    assert abs(v["distinct"] - 60) <= v["distinct_relative_error"] * 60
    assert [t["count"] for t in v["top_values"]] == [1] * 5


def test_long_top_values_are_cut_and_marked():
    long_value = "L" * 500
    values = [long_value] * 5 + ["short"] * 3
    s = run(_csv(values), CsvLimits(max_value_chars=50))
    top = col(s, "v")["top_values"]
    assert top == [
        {"value": "L" * 50, "count": 5, "truncated": True},
        {"value": "short", "count": 3},
    ]
    assert s["limits"]["max_value_chars"] == 50


def test_long_top_values_are_cut_once_sketched():
    values = [f"{i:04d}" + "d" * 400 for i in range(400)] + ["H" * 400] * 50
    s = run(_csv(values), SMALL)
    v = col(s, "v")
    assert v["top_values_approximate"] is True
    first = v["top_values"][0]
    assert first == {"value": "H" * 200, "count": first["count"], "truncated": True}
    assert 50 - v["top_values_count_error"] <= first["count"] <= 50
    assert all(len(t["value"]) <= 200 and t["truncated"] for t in v["top_values"])


def test_string_min_max_and_misfit_examples_are_cut_and_marked():
    text = ["b" * 30, "a" * 5, "c" * 12]
    s = run(_csv(["1", "2", *text, *[str(i) for i in range(400)]]), CsvLimits(max_value_chars=10))
    v = col(s, "v")
    assert v["type"] == "integer"
    assert v["misfits"]["examples"] == ["b" * 10, "a" * 5, "c" * 10]
    assert v["misfits"]["examples_truncated"] == [True, False, True]
    t = col(run(_csv(text), CsvLimits(max_value_chars=10)), "v")
    assert (t["min"], t["max"]) == ("a" * 5, "c" * 10)
    assert t["max_truncated"] is True and "min_truncated" not in t


def test_min_max_prefixes_order_like_the_values():
    # Equal first characters: the shorter value is the smaller, and shown uncut.
    values = ["p" * 10, "p" * 10 + "a", "p" * 10 + "z", "p" * 9]
    t = col(run(_csv(values), CsvLimits(max_value_chars=10)), "v")
    assert t["min"] == "p" * 9 and "min_truncated" not in t
    assert t["max"] == "p" * 10 and t["max_truncated"] is True


def _around_the_cut(chars: int, seed: int) -> list[str]:
    """A stretch of values shorter than the cut, then values just under, at and just over
    ``chars + 1`` characters (one- and two-byte ones), then short ones again."""
    rnd = random.Random(seed)
    short = [f"{i:04d}" + "s" * rnd.randrange(chars - 4) for i in range(1500)]
    edge = []
    for i in range(1500):
        n = rnd.choice([chars, chars + 1, chars + 2, 3 * chars])
        edge.append(f"{i:04d}" + rnd.choice("aéz") * (n - 4))
    return short + edge + short[:300]


def test_min_max_of_values_around_the_cut_while_exact_and_once_sketched():
    chars = 12
    values = _around_the_cut(chars, seed=4)
    # Small blocks: many batches; the small budget switches to sketches part-way through.
    for budget in (1 << 20, 8 << 10):
        limits = CsvLimits(
            block_size=2048, max_field_bytes=512, max_value_chars=chars, memory_budget_bytes=budget
        )
        v = col(run(_csv(values), limits), "v")
        assert v["distinct_approximate"] is (budget < (1 << 20))
        lo = min(x[: chars + 1] for x in values)
        hi = max(x[: chars + 1] for x in values)
        assert (v["min"], v["max"]) == (lo[:chars], hi[:chars])
        assert v.get("min_truncated", False) is (len(lo) > chars)
        assert v.get("max_truncated", False) is (len(hi) > chars)
        assert v["max_length"] == 3 * chars


def test_thousands_of_columns_keep_no_more_than_the_budget_between_them():
    # 9,999 columns share 96 MiB as these 300 share 3 MiB: 10 KB each. Every column sees
    # more distinct values than it may count exactly, so each ends with its sketches.
    # Before, each kept a 16 KiB HyperLogLog and up to 1,024 labels: 2.3x its share.
    rnd = random.Random(5)
    ncols, nrows = 300, 1_500
    header = ",".join(f"c{j}" for j in range(ncols))
    rows = [",".join(str(rnd.randrange(100_000)) for _ in range(ncols)) for _ in range(nrows)]
    limits = CsvLimits(memory_budget_bytes=ncols * 10_067)
    kept: list[int] = []
    result = ColumnState.result

    def measured(state: ColumnState, tolerance: float) -> dict[str, object]:
        kept.append(state.kept_bytes())
        return result(state, tolerance)

    ColumnState.result = measured  # type: ignore[method-assign]
    try:
        s = run(header + "\n" + "\n".join(rows) + "\n", limits)
    finally:
        ColumnState.result = result  # type: ignore[method-assign]
    assert s["rows"] == nrows and len(kept) == ncols
    assert all(c["distinct_approximate"] for c in s["columns"])
    assert sum(kept) <= limits.memory_budget_bytes


def test_top_value_labels_are_the_same_taken_at_once_or_a_few_at_a_time(monkeypatch):
    # Wide values, some repeated: the column switches to sketches, whose top values are
    # seeded from the exact counts, cut to labels (all at once while they are small).
    rnd = random.Random(8)
    values = [f"{rnd.randrange(40):03d}" + "w" * 400 + str(i) for i in range(600)]
    values += [values[rnd.randrange(40)] for _ in range(400)]
    text = _csv(values)
    at_once = col(run(text, SMALL), "v")
    monkeypatch.setattr(csv_distinct, "LABELS_AT_ONCE_BYTES", 0)
    stepwise = col(run(text, SMALL), "v")
    assert at_once["distinct_approximate"] is True
    assert at_once["top_values"] == stepwise["top_values"]
    assert at_once["top_values_count_error"] == stepwise["top_values_count_error"]
    assert [len(t["value"]) for t in at_once["top_values"]] == [200] * 5
    assert all(t["truncated"] for t in at_once["top_values"])
