"""Per-column streaming state: null detection, text statistics, and distinct and top
values (exact until a budget is reached, then sketches: ``DistinctValues``). How the values
type, and how they are read (plain, or formatted for people), is the column's ``Readings``.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_distinct import DistinctValues, shown
from csv_formats import Reading
from csv_readings import Readings
from csv_text import TextBatch, TextStats
from csv_typing import Locate, Typing, Unique

MAX_SPELLINGS = 64  # null spellings are counted until this many differ


class NullCounts:
    """Which values are null (a null token, or whitespace when that counts as null), how
    many were, and how they were written."""

    def __init__(self, null_set: pa.Array, null_token_bytes: int, whitespace_is_null: bool) -> None:
        self.null_set = null_set
        # ``longest_bytes(null_set)``, computed once per run, not per column: no value
        # longer than every null token can be one (whitespace aside).
        self.null_token_bytes = null_token_bytes
        self.whitespace_is_null = whitespace_is_null
        self.count = 0
        self.spellings: dict[str, int] = {}

    def mask(self, values: pa.Array) -> pa.Array:
        """Which of ``values`` are null, each looked up (for distinct values)."""
        isnull = pc.is_in(values, value_set=self.null_set)
        if self.whitespace_is_null:
            isnull = pc.or_(isnull, pc.utf8_is_space(values))
        return isnull

    def mask_or_none(self, values: pa.Array) -> pa.Array | None:
        """Which of ``values`` are null, None when none can be: for a batch's values."""
        # The set lookup hashes every value: only where some value is short enough to be
        # a null token (long text, timestamps and most numbers never are).
        isnull = None
        if pc.min(pc.binary_length(values)).as_py() <= self.null_token_bytes:
            isnull = pc.is_in(values, value_set=self.null_set)
        if self.whitespace_is_null:
            space = pc.utf8_is_space(values)
            isnull = space if isnull is None else pc.or_(isnull, space)
        return isnull

    def count_spellings(self, values: pa.Array, counts: pa.Array) -> None:
        for value, count in zip(values.to_pylist(), counts.to_pylist(), strict=True):
            key = value if value.strip() else ("" if not value else "<whitespace>")
            self.spellings[key] = self.spellings.get(key, 0) + count

    @property
    def counting_spellings(self) -> bool:
        return len(self.spellings) < MAX_SPELLINGS


class ColumnState:
    """One column: its nulls, text statistics, readings (typing) and distinct values."""

    def __init__(
        self,
        position: int,
        name: str,
        header: str,
        null_set: pa.Array,
        null_token_bytes: int,
        whitespace_is_null: bool,
        distinct_cap: int,
        distinct_bytes: int,
        sample_size: int,
        max_examples: int,
        top_k: int,
        value_chars: int,
        hll_precision: int = 14,
        heavy_capacity: int = 256,
        default_reading: Reading | None = None,
    ) -> None:
        self.position = position
        self.name = name
        self.header = header
        self.value_chars = value_chars
        self.nulls = NullCounts(null_set, null_token_bytes, whitespace_is_null)
        self.nonnull = 0
        self.readings = Readings(
            lambda: Typing(position, sample_size, max_examples, value_chars),
            default_reading or Reading(),
        )
        self.text = TextStats(value_chars + 1)
        self.distinct = DistinctValues(
            self.readings,
            distinct_cap,
            distinct_bytes,
            value_chars,
            top_k,
            hll_precision,
            heavy_capacity,
        )

    @property
    def exact(self) -> bool:
        """Whether distinct values are still counted exactly (see ``add_distinct``)."""
        return self.distinct.exact

    # ---- per batch -------------------------------------------------------------------
    def add(self, col: pa.Array, locate: Locate) -> None:
        """One batch of this column's values (``summarize`` passes many columns at once
        through ``csv_batch`` instead; both end in ``add_distinct`` or ``add_values``)."""
        if self.exact:
            counted = pc.value_counts(col)
            distinct = Unique(counted.field("values"), counted.field("counts"))
            self.add_distinct(col, locate, distinct, self.nulls.mask(distinct.values))
            return
        self.add_values(col, locate, self.nulls.mask_or_none(col))

    def add_values(
        self, col: pa.Array, locate: Locate, isnull: pa.Array | None, text: TextBatch | None = None
    ) -> None:
        """Once sketched: a batch's values, which of them are null (None: none is), and the
        text statistics of the others when they were computed already."""
        values = self.count_values(col, locate, isnull, text)
        if values is not None:
            self.distinct.add_values(values)

    def count_values(
        self,
        col: pa.Array,
        locate: Locate,
        isnull: pa.Array | None,
        text: TextBatch | None = None,
        typed_start: bool | None = None,
    ) -> pa.Array | None:
        """``add_values`` up to the sketches: nulls, text statistics and typing counted,
        the non-null values returned for the sketches (None: there are none), which
        ``csv_batch`` updates for many columns at once."""
        nnull = 0 if isnull is None else pc.sum(isnull).as_py() or 0
        if nnull:
            assert isnull is not None
            self.nulls.count += nnull
            null_values = pc.filter(col, isnull)
            if self.nulls.counting_spellings:
                counted = pc.value_counts(null_values)
                self.nulls.count_spellings(counted.field("values"), counted.field("counts"))
            values, where = self._drop_nulls(col, isnull, locate)
        else:
            values = col
            where = locate
        if len(values) == 0:
            return None
        self.nonnull += len(values)
        if text is None:
            self.text.add(values)
        else:
            self.text.merge(text)
        self.readings.add(values, where, None, typed_start)
        return values

    def add_distinct(
        self,
        col: pa.Array,
        locate: Locate,
        distinct: Unique,
        isnull: pa.Array | None,
        text: TextBatch | None = None,
        typed_start: bool | None = None,
    ) -> None:
        """While distinct values are counted exactly: a batch, its distinct values with
        their counts, which of those are null (None: none is), and the text statistics of
        the others when they were computed already (``typed_start``: see
        ``Readings.add``). Null detection, text statistics and (for text columns)
        classification work on the distinct values only."""
        if isnull is not None and pc.any(isnull).as_py():
            null_values = pc.filter(distinct.values, isnull)
            null_counts = pc.filter(distinct.counts, isnull)
            self.nulls.count += pc.sum(null_counts).as_py() or 0
            if self.nulls.counting_spellings:
                self.nulls.count_spellings(null_values, null_counts)
            keep = pc.invert(isnull)
            classes = distinct.classes and {
                name: pc.filter(mask, keep) for name, mask in distinct.classes.items()
            }
            distinct = Unique(
                pc.filter(distinct.values, keep), pc.filter(distinct.counts, keep), classes
            )
            values, where = self._drop_nulls(col, pc.is_in(col, value_set=null_values), locate)
        else:
            values, where = col, locate
        if len(values) == 0:
            return
        self.nonnull += len(values)
        if text is None:
            self.text.add(distinct.values, distinct.counts)
        else:
            self.text.merge(text)
        self.readings.add(values, where, distinct, typed_start)
        self.readings.forget_batch()  # exact values are hashed only when sketching starts
        self.distinct.add_exact(distinct)

    @staticmethod
    def _drop_nulls(col: pa.Array, isnull: pa.Array, locate: Locate) -> tuple[pa.Array, Locate]:
        keep = pc.invert(isnull)

        def remap(rows: list[int]) -> list[int]:
            positions = pc.indices_nonzero(keep)
            return locate([positions[i].as_py() for i in rows])

        return pc.filter(col, keep), remap

    def kept_bytes(self) -> int:
        """About what this column keeps from batch to batch: exact values and counts, the
        quantile sample, the sketches with their labels (Python strings and dict slots)."""
        samples = sum(typing.sample_bytes() for typing in self.readings.typings.values())
        return self.distinct.kept_bytes() + samples

    # ---- result ----------------------------------------------------------------------
    def result(self, tolerance: float) -> dict[str, Any]:
        typing = self.readings.typing
        typ, fit = typing.decide(tolerance)
        nonnull = self.nonnull
        nulls = self.nulls.count
        total = nonnull + nulls
        out: dict[str, Any] = {
            "name": self.name,
            "position": self.position,
            "header": self.header,
            "type": typ,
            "count": nonnull,
            "nulls": nulls,
            "null_ratio": round(nulls / total, 6) if total else 0.0,
            "null_spellings": dict(sorted(self.nulls.spellings.items())),
            "min": None,
            "max": None,
            "sum": None,
            "mean": None,
            "stddev": None,
            "quantiles": None,
            "min_length": self.text.shortest,
            "max_length": self.text.longest,
            "mean_length": round(self.text.total_length / nonnull, 6) if nonnull else None,
            "true_count": None,
            "false_count": None,
            "non_finite": None,
            "leading_zero_values": typing.class_counts["leading_zero"],
            "misfits": typing.misfits(typ, fit),
            "format": self.readings.format(typ),
        }
        typing.typed_stats(typ, out)
        least, greatest = self.text.least, self.text.greatest
        if typ == "string" and least is not None and greatest is not None:
            out["min"], min_cut = shown(least, self.value_chars)
            out["max"], max_cut = shown(greatest, self.value_chars)
            if min_cut:
                out["min_truncated"] = True
            if max_cut:
                out["max_truncated"] = True
        self.distinct.result(out)
        return out
