"""Summary values against an independent computation (statistics, decimal) on generated data."""

from __future__ import annotations

import math
import random
import statistics
from decimal import Decimal

import pytest
from csv_helpers import col, run
from summarize import CsvLimits

N = 3000
NULLS = ("", "NA")


@pytest.fixture(scope="module")
def generated() -> tuple[dict[str, list[str]], dict]:
    rnd = random.Random(42)
    cols: dict[str, list[str]] = {k: [] for k in ("i", "f", "d", "s", "b")}
    for _ in range(N):
        cols["i"].append(str(rnd.randint(-(10**12), 10**12)))
        r = rnd.random()
        cols["f"].append("" if r < 0.05 else "NA" if r < 0.08 else repr(rnd.uniform(-1e6, 1e6)))
        cols["d"].append(
            f"20{rnd.randint(10, 29)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        )
        cols["s"].append(rnd.choice(["red", "green", "blue", "cyan"]) * rnd.randint(1, 3))
        cols["b"].append(rnd.choice(["true", "false"]))
    lines = ["i,f,d,s,b"] + [
        ",".join(cols[k][j] for k in ("i", "f", "d", "s", "b")) for j in range(N)
    ]
    return cols, run("\n".join(lines) + "\n")


def test_rows_and_types(generated):
    _, s = generated
    assert s["rows"] == N
    assert s["column_count"] == 5
    assert [c["type"] for c in s["columns"]] == ["integer", "number", "date", "string", "boolean"]
    assert s["dialect"]["delimiter"] == ","
    assert s["dialect"]["header"] is True


def test_integer_column_exact(generated):
    cols, s = generated
    vals = [int(v) for v in cols["i"]]
    c = col(s, "i")
    assert c["count"] == N and c["nulls"] == 0
    assert c["min"] == min(vals) and c["max"] == max(vals)
    assert c["sum"] == sum(vals)
    assert c["mean"] == float(Decimal(sum(vals)) / Decimal(N))
    assert math.isclose(c["stddev"], statistics.stdev(vals), rel_tol=1e-12)
    assert c["distinct"] == len(set(cols["i"])) and c["distinct_approximate"] is False
    q = statistics.quantiles(vals, n=4, method="inclusive")
    assert c["quantiles"]["approximate"] is False
    for got, want in zip((c["quantiles"][k] for k in ("q25", "q50", "q75")), q, strict=True):
        assert math.isclose(got, want, rel_tol=1e-12)


def test_number_column_with_blanks_and_na(generated):
    cols, s = generated
    present = [v for v in cols["f"] if v not in NULLS]
    vals = [float(v) for v in present]
    c = col(s, "f")
    assert c["count"] == len(vals)
    assert c["nulls"] == N - len(vals)
    assert c["null_ratio"] == pytest.approx((N - len(vals)) / N, abs=1e-6)
    assert c["null_spellings"] == {"": cols["f"].count(""), "NA": cols["f"].count("NA")}
    assert c["min"] == min(vals) and c["max"] == max(vals)
    assert math.isclose(c["sum"], math.fsum(vals), rel_tol=1e-14, abs_tol=1e-6)
    exact_mean = sum(Decimal(v) for v in present) / len(present)
    assert math.isclose(c["mean"], float(exact_mean), rel_tol=1e-12, abs_tol=1e-9)
    assert math.isclose(c["stddev"], statistics.stdev(vals), rel_tol=1e-10)
    assert c["distinct"] == len(set(present))


def test_date_string_boolean(generated):
    cols, s = generated
    d = col(s, "d")
    assert d["min"] == min(cols["d"]) and d["max"] == max(cols["d"])
    assert d["distinct"] == len(set(cols["d"]))
    st = col(s, "s")
    assert st["min"] == min(cols["s"]) and st["max"] == max(cols["s"])
    assert st["min_length"] == min(map(len, cols["s"]))
    assert st["max_length"] == max(map(len, cols["s"]))
    counts = {v: cols["s"].count(v) for v in set(cols["s"])}
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    assert [(t["value"], t["count"]) for t in st["top_values"]] == top
    assert st["top_values_approximate"] is False
    b = col(s, "b")
    assert b["true_count"] == cols["b"].count("true")
    assert b["false_count"] == cols["b"].count("false")


def test_estimates_within_their_stated_bounds():
    rnd = random.Random(5)
    n = 30_000
    ids = [str(rnd.randrange(10**9)) for _ in range(n)]
    heavy = ["hot" if rnd.random() < 0.2 else f"w{rnd.randrange(10**6)}" for _ in range(n)]
    nums = [rnd.gauss(0, 1) for _ in range(n)]
    text = "id,word,x\n" + "".join(
        f"{a},{b},{c!r}\n" for a, b, c in zip(ids, heavy, nums, strict=True)
    )
    s = run(text, CsvLimits(distinct_cap=1000, quantile_sample=2000))
    c = col(s, "id")
    true_distinct = len(set(ids))
    assert c["distinct_approximate"] is True
    assert abs(c["distinct"] - true_distinct) <= c["distinct_relative_error"] * true_distinct
    w = col(s, "word")
    assert w["top_values_approximate"] is True
    hot = w["top_values"][0]
    assert hot["value"] == "hot"
    true_hot = heavy.count("hot")
    assert hot["count"] <= true_hot <= hot["count"] + w["top_values_count_error"]
    x = col(s, "x")
    q = x["quantiles"]
    assert q["approximate"] is True and 0 < q["rank_error"] < 0.05
    ordered = sorted(nums)
    for key, p in (("q25", 0.25), ("q50", 0.5), ("q75", 0.75)):
        rank = sum(1 for v in ordered if v <= q[key]) / n
        assert abs(rank - p) <= q["rank_error"]
    # exact statistics stay exact past the caps
    assert x["count"] == n
    assert math.isclose(x["mean"], statistics.fmean(nums), rel_tol=1e-9, abs_tol=1e-12)
    assert math.isclose(x["stddev"], statistics.stdev(nums), rel_tol=1e-10)
