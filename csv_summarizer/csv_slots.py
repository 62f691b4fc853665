"""Many columns' values laid end to end in one array, each value tagged with its column's
*slot* (its place in the group), so that one grouped call does the work of one call per
column."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc


def slots_of(sizes: list[tuple[int, int]]) -> pa.Array:
    """The slot of every value when the values lie end to end in runs of (slot, size)
    (int32)."""
    run_ends, slots, total = [], [], 0
    for slot, size in sizes:
        if size:
            total += size
            run_ends.append(total)
            slots.append(slot)
    if not slots:
        return pa.array([], pa.int32())
    runs = pa.RunEndEncodedArray.from_arrays(
        pa.array(run_ends, pa.int32()), pa.array(slots, pa.int32())
    )
    return pc.run_end_decode(runs)


def sizes_of(slots: pa.Array, n: int) -> list[int]:
    """How many values each of slots ``0 .. n-1`` has."""
    counted = pc.value_counts(slots)
    sizes = [0] * n
    for slot, count in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        sizes[slot] = count
    return sizes


def starts_of(sizes: list[int]) -> list[int]:
    """Where each slot's values start, when they lie end to end."""
    starts, total = [], 0
    for size in sizes:
        starts.append(total)
        total += size
    return starts


def positions(n: int) -> pa.Array:
    """0, 1, ..., n - 1 (int64)."""
    return pc.subtract(pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), n)), 1)
