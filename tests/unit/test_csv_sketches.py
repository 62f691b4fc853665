"""The sketches alone: deterministic hashes, HyperLogLog and Misra-Gries within their bounds."""

from __future__ import annotations

import random

import pyarrow as pa
from csv_classify import value_hashes
from csv_heavy_hitters import HeavyHitters
from csv_sketches import HyperLogLog, QuantileSample


def test_hashes_are_deterministic_and_value_sensitive():
    vals = pa.array(["1", "1.0", "1.00", "abc", "2024-01-01", "2024-01-01T00:00:00"])
    h1, v1 = value_hashes(vals)
    h2, v2 = value_hashes(vals)
    assert h1.equals(h2) and v1.equals(v2)
    assert len(set(h1.to_pylist())) == len(vals)


def test_hyperloglog_within_three_standard_errors():
    for n in (500, 20_000, 200_000):
        hll = HyperLogLog()
        vals = pa.array([f"v{i}" for i in range(n)] * 2)
        h, _ = value_hashes(vals)
        hll.add_hashes(h)
        assert abs(hll.estimate() - n) <= hll.relative_error * n


def test_heavy_hitters_bound():
    rnd = random.Random(3)
    data = [("hot" if rnd.random() < 0.1 else f"x{rnd.randrange(50_000)}") for _ in range(60_000)]
    hh = HeavyHitters(capacity=64)
    for i in range(0, len(data), 5000):
        vals = pa.array(data[i : i + 5000])
        h, v = value_hashes(vals)
        hh.add(h, v)
    value, count = hh.top(1)[0]
    assert value == "hot"
    assert count <= data.count("hot") <= count + hh.error
    assert hh.error <= len(data) / 65


def test_quantile_sample_is_exact_when_small():
    qs = QuantileSample(100, seed=1)
    qs.add(pa.array([float(i) for i in range(1, 101)]))
    assert qs.exact and qs.quantiles([0.5]) == [50.5]
