"""Batches' distinct values are combined as they come, not kept one part per batch: the
result is what one merge of every batch gives (the same values, in the order they first
appear, with the same counts), whichever way (dict or pyarrow) they are summed."""

from __future__ import annotations

import random

import csv_distinct
import pyarrow as pa
import pytest
from csv_distinct import summed
from csv_typing import Unique


def _batches(n: int, width: int, seed: int) -> list[Unique]:
    rnd = random.Random(seed)
    parts = []
    for _ in range(n):
        values = list(dict.fromkeys(f"v{rnd.randrange(3 * width)}" for _ in range(width)))
        parts.append(Unique(pa.array(values), pa.array([rnd.randint(1, 9) for _ in values])))
    return parts


def _expected(parts: list[Unique]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for part in parts:
        for value, count in zip(part.values.to_pylist(), part.counts.to_pylist(), strict=True):
            totals[value] = totals.get(value, 0) + count
    return totals


@pytest.mark.parametrize("in_python", [0, 1_000_000])
def test_combining_step_by_step_equals_one_merge(monkeypatch, in_python):
    monkeypatch.setattr(csv_distinct, "SUMMED_IN_PYTHON", in_python)
    parts = _batches(12, 40, seed=3)
    combined = parts[0]
    for part in parts[1:]:
        combined = summed([combined, part])
    expected = _expected(parts)
    assert combined.values.to_pylist() == list(expected)
    assert combined.counts.to_pylist() == list(expected.values())
    assert combined.values.type == pa.string() and combined.counts.type == pa.int64()
    assert summed(parts).values.equals(combined.values)


def test_one_part_is_its_own_sum():
    (part,) = _batches(1, 40, seed=5)
    alone = summed([part])
    assert alone.values.to_pylist() == part.values.to_pylist()
    assert alone.counts.to_pylist() == part.counts.to_pylist()
