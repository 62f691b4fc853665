"""Whole-batch pyarrow steps shared by the number and date readings (``csv_number_formats``,
``csv_date_formats``) and their ``Batch`` (``csv_formats``)."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc


def extract_where(values: pa.Array, pattern: str, hit: pa.Array) -> pa.Array | None:
    """``extract_regex`` where ``hit``, null elsewhere; None if nothing hit."""
    if not pc.any(hit).as_py():
        return None
    if pc.all(hit).as_py():
        return pc.extract_regex(values, pattern)
    parts = pc.extract_regex(pc.filter(values, hit), pattern)
    # Each hit's position among the hits: where its groups are in ``parts``.
    at = pc.subtract(pc.cumulative_sum(pc.cast(hit, pa.int64())), 1)
    return pc.take(parts, pc.if_else(hit, at, pa.scalar(None, pa.int64())))


def count_true(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def count_values(values: pa.Array) -> Counter[str]:
    if len(values) == 0:
        return Counter()
    counts = pc.value_counts(values)
    return Counter(dict(zip(counts.field("values").to_pylist(),
                            counts.field("counts").to_pylist(), strict=True)))  # fmt: skip
