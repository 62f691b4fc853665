"""The performance paths agree with independent computation: per-distinct-value statistics,
the cast probe, hash hints, and the sketches' vectorized merges."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import cast_or_none, value_hashes
from csv_heavy_hitters import HeavyHitters
from csv_helpers import col, run
from csv_sketches import HyperLogLog
from summarize import CsvLimits

NULLS = ("", "NA", "null", "  ")


def _rows(n: int, seed: int) -> list[tuple[str, str, str]]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        cat = rnd.choice(["red", "green", "blue", "Ünïcode", "x", *NULLS])
        num = rnd.choice([str(rnd.randint(-50, 50)), rnd.choice(NULLS)])
        flag = rnd.choice(["true", "false", "True", "no", "NA"])
        out.append((cat, num, flag))
    return out


def test_repeated_values_stats_match_python():
    rows = _rows(5000, seed=11)
    text = "cat,num,flag\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows)
    # Small blocks: many batches, each summarized from its distinct values.
    s = run(text, CsvLimits(block_size=4096, max_field_bytes=1024))
    nulls = set(CsvLimits().null_tokens)

    def is_null(v: str) -> bool:
        return v in nulls or (v != "" and not v.strip())

    cats = [r[0] for r in rows if not is_null(r[0])]
    c = col(s, "cat")
    assert c["type"] == "string"
    assert c["count"] == len(cats) and c["nulls"] == len(rows) - len(cats)
    assert c["min"] == min(cats) and c["max"] == max(cats)
    assert c["min_length"] == min(map(len, cats)) and c["max_length"] == max(map(len, cats))
    assert c["mean_length"] == round(sum(map(len, cats)) / len(cats), 6)
    assert c["distinct"] == len(set(cats))
    top = sorted(Counter(cats).items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(t["value"], t["count"]) for t in c["top_values"]] == top
    spell = Counter("<whitespace>" if v.strip() == "" and v else v for v in [r[0] for r in rows])
    assert c["null_spellings"] == {
        k: v for k, v in sorted(spell.items()) if k in nulls | {"<whitespace>"}
    }

    nums = [int(r[1]) for r in rows if not is_null(r[1])]
    n = col(s, "num")
    assert n["type"] == "integer"
    assert (n["count"], n["sum"], n["min"], n["max"]) == (
        len(nums),
        sum(nums),
        min(nums),
        max(nums),
    )
    assert abs(n["stddev"] - statistics.stdev(nums)) < 1e-9

    flags = [r[2] for r in rows if r[2] != "NA"]
    f = col(s, "flag")
    assert f["type"] == "boolean"
    assert f["true_count"] == sum(v in ("true", "True") for v in flags)
    assert f["false_count"] == sum(v in ("false", "no") for v in flags)


def test_text_column_that_turns_numeric_later_is_still_classified_per_value():
    words = [f"w{i % 7}" for i in range(300)]
    nums = [str(i) for i in range(300, 100_300)]  # 99.7% integers after the text
    text = "v\n" + "".join(f"{v}\n" for v in words + nums)
    s = run(text, CsvLimits(block_size=8192, max_field_bytes=1024))
    c = col(s, "v")
    ints = [int(v) for v in nums]
    assert c["type"] == "integer"
    assert c["misfits"]["count"] == len(words)
    assert c["misfits"]["first_lines"][:3] == [2, 3, 4]
    assert (c["min"], c["max"], c["sum"]) == (min(ints), max(ints), sum(ints))


def test_cast_probe_first_value_and_later_failure():
    assert cast_or_none(pa.array(["x", "1"]), pa.int64()) is None
    assert cast_or_none(pa.array(["1", "x"]), pa.int64()) is None
    assert cast_or_none(pa.array(["1", "2"]), pa.int64()).to_pylist() == [1, 2]
    assert cast_or_none(pa.array([], pa.string()), pa.int64()).to_pylist() == []


def test_hash_hints_agree_with_classification():
    for vals, hint in (
        (["1", "22", "-3", "4.5", "1e3"], "number"),
        (["1", "22", "-3"], "integer"),
        (["2024-01-02T03:04:05", "2023-12-31T23:59:59.5"], "datetime"),
        (["2024-01-02", "2023-12-31"], "date"),
    ):
        arr = pa.array(vals)
        h_hint, v_hint = value_hashes(arr, hint)
        h, v = value_hashes(arr)
        assert dict(zip(v_hint.to_pylist(), h_hint.to_pylist(), strict=True)) == dict(
            zip(v.to_pylist(), h.to_pylist(), strict=True)
        )
    # A wrong hint falls back to classifying each value.
    mixed = pa.array(["abc", "1", "2024-01-01"])
    assert sorted(value_hashes(mixed, "integer")[0].to_pylist()) == sorted(
        value_hashes(mixed)[0].to_pylist()
    )


def test_hyperloglog_registers_match_a_python_reference():
    rnd = random.Random(5)
    hll = HyperLogLog(p=10)
    ref = [0] * hll.m
    for _ in range(6):
        vals = pa.array([f"k{rnd.randrange(30_000)}" for _ in range(4000)])
        h, _ = value_hashes(vals)
        hll.add_hashes(h)
        for x in h.to_pylist():
            i = x >> (64 - hll.p)
            w = ((x << hll.p) & (2**64 - 1)) | (1 << (hll.p - 1))
            rank = 64 - (w >> 11).bit_length() - 11 + 1  # leading zeros of w, plus one
            ref[i] = max(ref[i], rank)
    assert hll.registers.to_pylist() == ref


def test_heavy_hitters_exact_while_under_capacity():
    rnd = random.Random(9)
    hh = HeavyHitters(capacity=64)
    seen: Counter[str] = Counter()
    for _ in range(20):
        batch = [f"v{rnd.randrange(40)}" for _ in range(500)]
        seen.update(batch)
        h, v = value_hashes(pa.array(batch))
        hh.add(h, v)
    assert hh.error == 0
    assert hh.top(10) == sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    assert pc.sum(hh.counts).as_py() == sum(seen.values())


def test_nulls_once_sketched_in_batches_with_and_without_short_values():
    # Long distinct values: sketched within the first batches. Null tokens (one longer than
    # the values' prefix) and whitespace turn up in two stretches only.
    rnd = random.Random(21)
    tokens = ("", "NA", "not-recorded-at-all")
    values = []
    for i in range(8000):
        if i // 1000 in (3, 6) and i % 7 == 0:
            values.append(rnd.choice(["NA", "not-recorded-at-all", "   "]))  # "" = blank line
        else:
            values.append(f"{i:05d}-" + "v" * 40)
    limits = CsvLimits(
        block_size=4096, max_field_bytes=1024, memory_budget_bytes=64 << 10, null_tokens=tokens
    )
    v = col(run("v\n" + "".join(f"{x}\n" for x in values), limits), "v")
    assert v["distinct_approximate"] is True
    spell = Counter(x if x.strip() else "<whitespace>" for x in values if len(x) < 46)
    assert v["null_spellings"] == dict(sorted(spell.items()))
    assert v["nulls"] == sum(spell.values()) and v["count"] == len(values) - v["nulls"]
    assert (v["min_length"], v["max_length"]) == (46, 46)
