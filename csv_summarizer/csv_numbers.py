"""Streaming numeric statistics: moments, exact integer sums, ranges."""

from __future__ import annotations

import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import cast_or_none


class Moments:
    """Count, compensated sum, mean/M2 (Chan merge of per-batch two-pass moments), min/max."""

    def __init__(self) -> None:
        self.n = 0
        self.total = 0.0
        self.comp = 0.0
        self.mean = 0.0
        self.m2 = 0.0
        self.min: float | None = None
        self.max: float | None = None
        self.pos_inf = 0
        self.neg_inf = 0

    def add(self, f: pa.Array) -> pa.Array:
        finite = pc.is_finite(f)
        if not pc.all(finite).as_py():
            inf = pc.filter(f, pc.invert(finite))
            pos = pc.sum(pc.greater(inf, 0)).as_py() or 0
            self.pos_inf += pos
            self.neg_inf += len(inf) - pos
            f = pc.filter(f, finite)
        nb = len(f)
        if nb == 0:
            return f
        s = pc.sum(f).as_py()
        mb = s / nb
        m2b = pc.variance(f, ddof=0).as_py() * nb
        # Neumaier-compensated running sum of the (pairwise-summed) batch sums.
        t = self.total + s
        if abs(self.total) >= abs(s):
            self.comp += (self.total - t) + s
        else:
            self.comp += (s - t) + self.total
        self.total = t
        n = self.n + nb
        delta = mb - self.mean
        self.mean += delta * nb / n
        self.m2 += m2b + delta * delta * self.n * nb / n
        self.n = n
        lo, hi = pc.min_max(f).values()
        lo_v, hi_v = lo.as_py(), hi.as_py()
        self.min = lo_v if self.min is None else min(self.min, lo_v)
        self.max = hi_v if self.max is None else max(self.max, hi_v)
        return f

    @property
    def sum(self) -> float:
        return self.total + self.comp


# Longer integers are not tracked exactly: Python refuses to parse or print ints of more
# than 4300 digits (sys.int_info.default_max_str_digits), and a sum gains a few digits.
MAX_EXACT_DIGITS = 4000


class ExactInts:
    """Exact integer sum/min/max as Python ints (no overflow, 2**64 included).

    ``active`` turns False for good once exact tracking stops (a non-integer number, or an
    integer too long to parse); the column's statistics then come from the float moments.
    """

    def __init__(self) -> None:
        self.n = 0
        self.sum = 0
        self.min: int | None = None
        self.max: int | None = None
        self.active = True

    def add_int64(self, ints: pa.Array) -> None:
        if not len(ints):
            return
        lo, hi = (x.as_py() for x in pc.min_max(ints).values())
        if max(abs(lo), abs(hi)) * len(ints) < (1 << 62):
            s = pc.sum(ints).as_py()
        else:
            s = sum(ints.to_pylist())
        self._update(len(ints), s, lo, hi)

    def add_text(self, text: pa.Array) -> None:
        as_int = cast_or_none(text, pa.int64())
        if as_int is not None:
            self.add_int64(as_int)
            return
        if pc.max(pc.binary_length(text)).as_py() > MAX_EXACT_DIGITS + 1:  # sign + digits
            self.active = False
            return
        vals = [int(x) for x in text.to_pylist()]  # beyond int64: exact Python ints
        self._update(len(vals), sum(vals), min(vals), max(vals))

    def _update(self, n: int, s: int, lo: int, hi: int) -> None:
        self.n += n
        self.sum += s
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)


class Range:
    def __init__(self) -> None:
        self.n = 0
        self.min: Any = None
        self.max: Any = None

    def add(self, arr: pa.Array) -> None:
        if not len(arr):
            return
        lo, hi = (x.as_py() for x in pc.min_max(arr).values())
        self.n += len(arr)
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)


def finite(total: float, n: int = 1) -> float | None:
    """``total / n`` as a float, or None where it is not finite: finite values near the
    float limit can sum (and square) past it, and JSON has no Infinity or NaN."""
    try:
        value = total / n
    except OverflowError:  # an exact int sum beyond the float range
        return None
    return value if math.isfinite(value) else None
