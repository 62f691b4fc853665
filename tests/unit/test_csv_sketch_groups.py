"""Sketches of many columns updated at once end exactly as they would column by column:
the same registers, the same counters, errors and labels, the same hashes."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import value_hashes
from csv_heavy_hitters import HeavyHitters
from csv_heavy_hitters import add_by_column as add_heavy_by_column
from csv_sketches import HyperLogLog, add_hashes_by_column, raise_waiting_by_column
from csv_slots import slots_of


def _column_batches(seed: int, columns: int, batches: int) -> list[list[list[str]]]:
    """Per batch, per column, values of one shape: skewed (a few hot values, ties among
    the rest), all distinct, one value repeated, or long values sharing a prefix."""
    rnd = random.Random(seed)
    out = []
    for b in range(batches):
        batch = []
        for c in range(columns):
            n = rnd.randrange(1, 400)
            kind = c % 4
            if kind == 0:
                vals = [
                    f"hot{rnd.randrange(3)}" if rnd.random() < 0.3 else f"v{rnd.randrange(300)}"
                    for _ in range(n)
                ]
            elif kind == 1:
                vals = [f"u{b}-{c}-{i}" for i in range(n)]
            elif kind == 2:
                vals = ["same"] * n
            else:
                vals = ["x" * 300 + str(rnd.randrange(40)) for _ in range(n)]
            batch.append(vals)
        out.append(batch)
    return out


def _label(values: pa.Array) -> pa.Array:
    return pc.utf8_slice_codeunits(values, 0, 12)


def _counters(heavy: HeavyHitters) -> dict[int, int]:
    return dict(zip(heavy.keys.to_pylist(), heavy.counts.to_pylist(), strict=True))


def test_grouped_sketches_end_as_column_by_column():
    columns = 9
    one = [(HyperLogLog(10), HeavyHitters(16, label=_label)) for _ in range(columns)]
    grouped = [(HyperLogLog(10), HeavyHitters(16, label=_label)) for _ in range(columns)]
    for batch in _column_batches(seed=4, columns=columns, batches=12):
        hashed = [value_hashes(pa.array(vals)) for vals in batch]
        for (hll, heavy), (hashes, values) in zip(one, hashed, strict=True):
            hll.add_hashes(hashes)
            heavy.add(hashes, values)
        hashes = pa.concat_arrays([h for h, _ in hashed])
        values = pa.concat_arrays([v for _, v in hashed])
        slots = slots_of([(slot, len(h)) for slot, (h, _) in enumerate(hashed)])
        add_hashes_by_column([hll for hll, _ in grouped], hashes, slots)
        add_heavy_by_column([heavy for _, heavy in grouped], hashes, slots, values)
    # Grouped, registers are raised at every batch: no value waits in a column's arrays.
    assert not any(hll._waiting for hll, _ in grouped)
    # Column by column, values wait; at the end of a file they are raised for many columns
    # at once, a few per call.
    assert any(hll._waiting for hll, _ in one)
    raise_waiting_by_column([hll for hll, _ in one], registers_at_once=2 << 10)
    assert not any(hll._waiting for hll, _ in one)
    for (hll_a, heavy_a), (hll_b, heavy_b) in zip(one, grouped, strict=True):
        assert hll_a._registers.equals(hll_b._registers)
        assert hll_a.estimate() == hll_b.estimate()
        assert _counters(heavy_a) == _counters(heavy_b)
        assert heavy_a.error == heavy_b.error
        assert heavy_a.labels == heavy_b.labels
        assert heavy_a.top(5) == heavy_b.top(5)
    # The shapes did what they are for: a cut happened, and long values were labelled cut.
    assert any(heavy.error for _, heavy in grouped)
    assert any(label == "x" * 12 for _, heavy in grouped for label in heavy.labels.values())


def test_slots_of_runs():
    assert slots_of([(2, 3), (0, 0), (5, 2)]).to_pylist() == [2, 2, 2, 5, 5]
    assert slots_of([]).to_pylist() == []
