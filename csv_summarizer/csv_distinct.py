"""A column's distinct and top values: counted exactly until a budget is reached, then
estimated by sketches (a HyperLogLog for the distinct count, heavy hitters for the top)."""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import value_hashes
from csv_heavy_hitters import HeavyHitters
from csv_heavy_hitters import add_by_column as add_heavy_by_column
from csv_readings import Readings
from csv_sketches import (
    COMBINED_BELOW_BYTES,
    TAG_NUMBER,
    TAG_TEXT,
    TAG_TIME,
    HyperLogLog,
    add_hashes_by_column,
    hash_keys,
    text_keys,
)
from csv_slots import slots_of
from csv_typing import Unique

HASH_SLICE_BYTES = 1 << 20  # values hashed at once when exact counting ends
SUMMED_IN_PYTHON = 1_000  # values summed by a dict rather than by pyarrow
LABELS_AT_ONCE_BYTES = 1 << 20  # top values taken whole to be cut to labels


class Shown(NamedTuple):
    """A kept value as shown, and whether it was cut to be."""

    text: str
    cut: bool


def shown(value: str, chars: int) -> Shown:
    """A kept (clipped) value as shown: its first ``chars`` characters."""
    return Shown(value[:chars], len(value) > chars)


def summed(parts: list[Unique]) -> Unique:
    """The parts' distinct values, in the order they first appear, with their counts
    summed."""
    if len(parts) == 1:
        return Unique(parts[0].values, parts[0].counts)  # distinct already: nothing to sum
    if sum(len(part.values) for part in parts) <= SUMMED_IN_PYTHON:
        # A handful of pyarrow calls costs ~0.3 ms however few the values: a dict is
        # ten times faster for the few values of a wide file's batches.
        totals_of: dict[str, int] = {}
        for part in parts:
            counts = part.counts.to_pylist()
            for value, count in zip(part.values.to_pylist(), counts, strict=True):
                totals_of[value] = totals_of.get(value, 0) + count
        return Unique(
            pa.array(totals_of.keys(), pa.string()), pa.array(totals_of.values(), pa.int64())
        )
    # Grouping by the values would copy them several times over; encoding copies them
    # once (the distinct values), then the counts are summed by integer code. Each
    # part's values are distinct, so its codes are too: a scatter places its counts,
    # with no grouping.
    encoded = pc.dictionary_encode(pa.chunked_array([part.values for part in parts], pa.string()))
    distinct = encoded.chunks[-1].dictionary  # one dictionary, shared by every chunk
    top = len(distinct) - 1
    totals: pa.Array | None = None
    for chunk, part in zip(encoded.chunks, parts, strict=True):
        placed = pc.fill_null(pc.scatter(part.counts, chunk.indices, max_index=top), 0)
        totals = placed if totals is None else pc.add(totals, placed)
    assert totals is not None
    return Unique(distinct, totals)


class DistinctValues:
    """Exact value counts (merged batch by batch) while within ``distinct_cap`` values and
    ``distinct_bytes``; then a HyperLogLog and heavy hitters."""

    def __init__(
        self,
        readings: Readings,
        distinct_cap: int,
        distinct_bytes: int,
        value_chars: int,
        top_k: int,
        hll_precision: int,
        heavy_capacity: int,
    ) -> None:
        # Once sketched, values are hashed by the column's reading (see ``add_values``).
        self.readings = readings
        self.distinct_cap = distinct_cap
        self.distinct_bytes = distinct_bytes
        self.value_chars = value_chars
        self.top_k = top_k
        self.hll_precision = hll_precision
        self.heavy_capacity = heavy_capacity
        self.exact = True
        self._counts: pa.Table | None = None  # merged: "value" and "count", one chunk each
        self._pending: list[Unique] = []  # batches' distinct values, not merged yet
        self._pending_values = 0
        self._pending_bytes = 0
        self.hll: HyperLogLog | None = None
        self.heavy: HeavyHitters | None = None

    def clip(self, values: pa.Array) -> pa.Array:
        """The first ``value_chars + 1`` characters: enough to show ``value_chars`` and to
        tell that a value was longer, whatever the length of the values."""
        return pc.utf8_slice_codeunits(values, 0, self.value_chars + 1)

    # ---- per batch -------------------------------------------------------------------
    def add_exact(self, distinct: Unique) -> None:
        """A batch's non-null distinct values with their counts, while counting exactly."""
        self._pending.append(Unique(distinct.values, distinct.counts))  # classes not kept
        self._pending_values += len(distinct.values)
        self._pending_bytes += distinct.values.nbytes
        if self._pending_values > self.distinct_cap or self.exact_bytes > self.distinct_bytes:
            self._merge_exact()
        elif len(self._pending) > 1 and self._pending_bytes < COMBINED_BELOW_BYTES:
            # Small parts: combined, they count as before (the totals above), so merges
            # come when they did.
            self._pending = [summed(self._pending)]

    def add_values(self, values: pa.Array) -> None:
        """A batch's non-null values, once sketched (``add_values_by_column`` does the
        same for many columns at once)."""
        assert self.hll is not None and self.heavy is not None
        hashes, labels = self.hashes(values)
        self.readings.forget_batch()
        self.hll.add_hashes(hashes)
        self.heavy.add(hashes, labels)

    def hashes(self, values: pa.Array) -> tuple[pa.Array, pa.Array]:
        """The sketches' hash of each value, and the values in the order of the hashes."""
        key = self.hash_key(values)
        if key is None:
            return value_hashes(values)
        tag, keys = key
        if keys is None:
            keys = text_keys(values)
        return hash_keys(keys, pc.binary_length(values), tag), values

    def hash_key(self, values: pa.Array) -> tuple[int, pa.Array | None] | None:
        """What the batch's values are hashed by, from how the column read them: a tag
        and the keys (number bits, instants; None for text, keyed by its crc32), or None
        when they are of several classes and each value is classified first."""
        # A formatted column's values are hashed as written, whatever their reading.
        fast = None if self.readings.formatted else self.readings.typing.fast
        if fast is None:
            return None
        if fast[0] == "number":
            return TAG_NUMBER, fast[1]
        if fast[0] == "time":
            return TAG_TIME, fast[1]
        return TAG_TEXT, None

    def _merge_exact(self) -> None:
        parts = list(self._pending)
        if self._counts is not None:
            # Built from two arrays (below), so one chunk each: take it, not a copy.
            parts.insert(0, Unique(self._counts["value"].chunk(0), self._counts["count"].chunk(0)))
        self._pending, self._pending_values, self._pending_bytes = [], 0, 0
        merged = summed(parts)
        table = pa.table({"value": merged.values, "count": merged.counts})
        # Past half the byte budget, merges would follow every few batches, each copying
        # everything kept: switch to sketches instead.
        if table.num_rows > self.distinct_cap or table["value"].nbytes > self.distinct_bytes // 2:
            self._to_sketch(table)
        else:
            self._counts = table

    def _to_sketch(self, table: pa.Table) -> None:
        self.exact = False
        self._counts = None
        self.hll = HyperLogLog(self.hll_precision)
        # Hashing copies its input: a slice at a time keeps that copy small.
        rows = max(1, table.num_rows * HASH_SLICE_BYTES // max(1, table["value"].nbytes))
        hashes = []
        for part in table.select(["value"]).to_batches(max_chunksize=rows):
            part_hashes = self._hashes_in_order(part.column(0))
            self.hll.add_hashes(part_hashes)
            hashes.append(part_hashes)
        # Seeding Misra-Gries cuts back to the ``capacity`` largest counts less the next
        # one; the other values would be dropped, and labels need only their first chars.
        self.heavy = HeavyHitters(self.heavy_capacity, label=self.clip)
        top_n = min(table.num_rows, self.heavy.capacity + 1)
        top = pc.select_k_unstable(table, k=top_n, sort_keys=[("count", "descending")])
        self.heavy.seed(
            self._labels_of(table["value"], top),
            pc.take(table["count"], top).combine_chunks(),
            pc.take(pa.chunked_array(hashes, pa.uint64()), top).combine_chunks(),
        )

    def _labels_of(self, values: pa.ChunkedArray, top: pa.Array) -> pa.Array:
        """The kept values at ``top``, cut to labels: taken at once while they are small,
        else a few at a time (taking wide values whole would copy up to the whole budget;
        cutting every value first would copy all of them)."""
        taken_bytes = pc.sum(pc.take(pc.binary_length(values), top)).as_py() or 0
        step = max(1, len(top)) if taken_bytes <= LABELS_AT_ONCE_BYTES else 8
        return pa.concat_arrays(
            [
                self.clip(pc.take(values, top[i : i + step]).combine_chunks())
                for i in range(0, len(top), step)
            ]
        )

    def _hashes_in_order(self, values: pa.Array) -> pa.Array:
        """``value_hashes`` of distinct values, in the values' order."""
        hashes, ordered = value_hashes(values, self.readings.typing.hyp)
        if ordered is values:
            return hashes
        return pc.take(hashes, pc.index_in(values, value_set=ordered))

    # ---- memory ----------------------------------------------------------------------
    @property
    def exact_bytes(self) -> int:
        """Bytes of the exact values kept, merged or not, for the distinct budget."""
        return self._counts_bytes + self._pending_bytes

    @property
    def _counts_bytes(self) -> int:
        return self._counts["value"].nbytes if self._counts is not None else 0

    def kept_bytes(self) -> int:
        """About what is kept from batch to batch: exact values and counts, the sketches
        with their labels (Python strings and dict slots)."""
        kept = self.exact_bytes
        if self.hll is not None:
            kept += self.hll.kept_bytes
        if self.heavy is not None:
            kept += self.heavy.keys.nbytes + self.heavy.counts.nbytes
            kept += sum(sys.getsizeof(v) + 100 for v in self.heavy.labels.values())
        return kept

    # ---- result ----------------------------------------------------------------------
    def result(self, out: dict[str, Any]) -> None:
        """Fill in ``out``'s distinct count and top values, and how exact they are."""
        top_k = self.top_k
        # The last merge may still switch to sketches: before ``self.exact`` is read.
        if self.exact and self._pending:
            self._merge_exact()
        table = self._counts if self.exact else None
        if self.exact:
            if table is None or table.num_rows == 0:
                out.update(distinct=0, top_values=[])
            else:
                counts = table["count"].combine_chunks()
                top_idx = pc.select_k_unstable(
                    table,
                    k=min(table.num_rows, max(top_k * 4, 64)),
                    sort_keys=[("count", "descending")],
                )
                rows = sorted(
                    zip(
                        self.clip(pc.take(table["value"], top_idx)).to_pylist(),
                        pc.take(counts, top_idx).to_pylist(),
                        strict=True,
                    ),
                    key=lambda row: (-row[1], row[0]),
                )[:top_k]
                out.update(
                    distinct=table.num_rows,
                    top_values=[self._top_value(value, count) for value, count in rows],
                )
            out.update(
                distinct_approximate=False,
                distinct_relative_error=0.0,
                top_values_approximate=False,
                top_values_count_error=0,
            )
            return
        assert self.hll is not None and self.heavy is not None
        out.update(
            distinct=self.hll.estimate(),
            distinct_approximate=True,
            distinct_relative_error=round(self.hll.relative_error, 6),
            top_values=[self._top_value(value, count) for value, count in self.heavy.top(top_k)],
            top_values_approximate=True,
            top_values_count_error=self.heavy.error,
        )

    def _top_value(self, value: str, count: int) -> dict[str, Any]:
        text, cut = shown(value, self.value_chars)
        entry: dict[str, Any] = {"value": text, "count": count}
        if cut:
            entry["truncated"] = True
        return entry


def add_values_by_column(columns: list[DistinctValues], batches: list[pa.Array]) -> None:
    """``add_values`` for many sketched columns at once (a wide file's batch): the values
    hashed by kind, not by column, then every sketch updated in a few grouped calls."""
    hashes, labels, slots = _hashes_by_column(columns, batches)
    for column in columns:
        column.readings.forget_batch()
    hlls = [column.hll for column in columns if column.hll is not None]
    heavies = [column.heavy for column in columns if column.heavy is not None]
    assert len(hlls) == len(heavies) == len(columns), "every column is sketched"
    add_hashes_by_column(hlls, hashes, slots)
    add_heavy_by_column(heavies, hashes, slots, labels)


def _hashes_by_column(
    columns: list[DistinctValues], batches: list[pa.Array]
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Every column's hashes (as ``DistinctValues.hashes`` gives them) end to end, column
    by column, the values in their order, and each hash's column (its index in
    ``columns``). Columns keyed alike are hashed together, then put back in place."""
    placed: list[tuple[pa.Array, pa.Array]] = []
    keyed: dict[int, list[tuple[int, pa.Array | None, pa.Array]]] = {}
    for slot, (column, values) in enumerate(zip(columns, batches, strict=True)):
        key = column.hash_key(values)
        if key is None:
            placed.append(value_hashes(values))
        else:
            placed.append((values, values))  # a place, filled below
            keyed.setdefault(key[0], []).append((slot, key[1], values))
    for tag, group in keyed.items():
        values = pa.concat_arrays([values for _, _, values in group])
        if tag == TAG_TEXT:
            keys = text_keys(values)
        else:
            keys = pa.concat_arrays([keys for _, keys, _ in group])
        hashed = hash_keys(keys, pc.binary_length(values), tag)
        start = 0
        for slot, _, column_values in group:
            placed[slot] = (hashed.slice(start, len(column_values)), column_values)
            start += len(column_values)
    return (
        pa.concat_arrays([hashes for hashes, _ in placed]),
        pa.concat_arrays([values for _, values in placed]),
        slots_of([(slot, len(hashes)) for slot, (hashes, _) in enumerate(placed)]),
    )
