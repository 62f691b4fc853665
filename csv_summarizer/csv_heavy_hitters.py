"""Top values once exact counting has ended: Misra-Gries counters over value hashes.

Every reported count is a lower bound, and the true count exceeds it by at most ``error``.
``add_by_column`` updates many columns' counters in a few grouped calls (a wide file's
batch), with the same result as ``add`` column by column.
"""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pyarrow.compute as pc
from csv_slots import positions, sizes_of, slots_of, starts_of

_U64 = pa.uint64()


class HeavyHitters:
    """Misra-Gries summary (mergeable form) keyed by value hash.

    Each batch's exact counts are merged in; when more than ``capacity`` keys remain, the
    (capacity+1)-th largest count is subtracted from all and non-positive ones dropped.
    ``error`` is the sum of those subtractions: true count - reported count is in
    [0, error], and error <= n / (capacity + 1). Labels (the values shown for keys) are
    kept as ``label`` makes them: a cut to their first characters lets long values cost no
    more than short ones.
    """

    def __init__(
        self, capacity: int = 256, label: Callable[[pa.Array], pa.Array] | None = None
    ) -> None:
        self.capacity = capacity
        self.label = label
        self.keys = pa.array([], _U64)
        self.counts = pa.array([], pa.int64())
        self.labels: dict[int, str] = {}
        self.error = 0

    def seed(self, values: pa.Array, counts: pa.Array, hashes: pa.Array) -> None:
        """Start from an exact value -> count table (the end of exact tracking)."""
        self.labels = {}
        self.keys = pa.array([], _U64)
        self.counts = pa.array([], pa.int64())
        self._merge(hashes, pc.cast(counts, pa.int64()), values, hashes)

    def add(self, hashes: pa.Array, values: pa.Array) -> None:
        if len(hashes) == 0:
            return
        vc = pc.value_counts(hashes)
        self._merge(vc.field("values"), vc.field("counts"), values, hashes)

    def _merge(self, keys: pa.Array, counts: pa.Array, values: pa.Array, hashes: pa.Array) -> None:
        """Add ``counts`` (``keys`` unique) to the counters, then cut back to ``capacity``."""
        counts = pc.cast(counts, pa.int64())
        if len(self.keys):
            pos = pc.index_in(keys, value_set=self.keys)
            hit = pc.is_valid(pos)
            nhit = pc.sum(hit).as_py() or 0
            old_c = self.counts
            if nhit:
                extra = pc.scatter(
                    pc.filter(counts, hit),
                    pc.cast(pc.filter(pos, hit), pa.int64()),
                    max_index=len(self.keys) - 1,
                )
                old_c = pc.add(old_c, pc.fill_null(extra, 0))
                if nhit < len(keys):
                    miss = pc.invert(hit)
                    keys, counts = pc.filter(keys, miss), pc.filter(counts, miss)
                else:
                    keys, counts = keys[:0], counts[:0]
            k = pa.concat_arrays([self.keys, keys])
            c = pa.concat_arrays([old_c, counts])
        else:
            k, c = keys, counts
        if len(k) > self.capacity:
            # The (capacity+1)-th largest count is subtracted from all; only the top
            # ``capacity`` can stay positive, so only they are kept.
            top = pc.select_k_unstable(c, k=self.capacity + 1, sort_keys=[("", "descending")])
            cut = c[top[self.capacity].as_py()].as_py()
            self.error += cut
            keep = top[: self.capacity]
            k, c = pc.take(k, keep), pc.subtract(pc.take(c, keep), cut)
            pos_ = pc.greater(c, 0)
            k, c = pc.filter(k, pos_), pc.filter(c, pos_)
        self.keys, self.counts = k, c
        column = pa.repeat(pa.scalar(0, pa.int32()), len(hashes))  # every hash is this one's
        _label_fresh([self], k.to_pylist(), [len(k)], hashes, column, values)

    def _bound_labels(self, key_list: list[int]) -> None:
        # Labels of keys dropped since are kept a while (they may come back), to a bound:
        # with thousands of columns, their strings are most of what a column holds.
        if len(self.labels) > 2 * self.capacity:
            live = set(key_list)
            self.labels = {h: v for h, v in self.labels.items() if h in live}

    def top(self, n: int) -> list[tuple[str, int]]:
        """The ``n`` largest counters; ties broken by value, so the order of keys is moot."""
        if len(self.keys) == 0:
            return []
        ks, cs = self.keys.to_pylist(), self.counts.to_pylist()
        items = [(self.labels[k], c) for k, c in zip(ks, cs, strict=True)]
        return sorted(items, key=_top_order)[:n]


def _top_order(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])


def add_by_column(
    heavies: list[HeavyHitters], hashes: pa.Array, slots: pa.Array, values: pa.Array
) -> None:
    """``add`` for many columns' counters at once (all of one capacity): hash ``i`` and its
    value are ``heavies[slots[i]]``'s. Each column keeps the keys whose count beats its own
    (capacity+1)-th largest, less that count: the set ``add`` keeps, whatever the order."""
    capacity = heavies[0].capacity
    slots = pc.cast(slots, pa.int32())
    old_slots = slots_of([(slot, len(heavy.keys)) for slot, heavy in enumerate(heavies)])
    rows = pa.table(
        {
            "slot": pa.concat_arrays([old_slots, slots]),
            "key": pa.concat_arrays([*(heavy.keys for heavy in heavies), hashes]),
            "count": pa.concat_arrays(
                [
                    *(heavy.counts for heavy in heavies),
                    pa.repeat(pa.scalar(1, pa.int64()), len(hashes)),
                ]
            ),
        }
    )
    summed = rows.group_by(["slot", "key"], use_threads=False).aggregate([("count", "sum")])
    ranked = summed.sort_by([("slot", "ascending"), ("count_sum", "descending")])
    slot, key, count = (ranked[name].combine_chunks() for name in ("slot", "key", "count_sum"))
    sizes = sizes_of(slot, len(heavies))
    starts = pa.array(starts_of(sizes), pa.int64())
    rank = pc.subtract(positions(len(slot)), pc.take(starts, slot))
    # Per column, the (capacity+1)-th largest count (0 where fewer keys than that).
    at_cut = pc.equal(rank, capacity)
    cuts = pc.fill_null(
        pc.scatter(pc.filter(count, at_cut), pc.filter(slot, at_cut), max_index=len(heavies) - 1),
        0,
    )
    left = pc.subtract(count, pc.take(cuts, slot))
    keep = pc.and_(pc.less(rank, capacity), pc.greater(left, 0))
    slot, key, left = pc.filter(slot, keep), pc.filter(key, keep), pc.filter(left, keep)
    kept_sizes = sizes_of(slot, len(heavies))
    start = 0
    for heavy, size, cut in zip(heavies, kept_sizes, cuts.to_pylist(), strict=True):
        # Copies, not slices: each column's counters outlive this batch's.
        heavy.keys = pa.concat_arrays([key.slice(start, size)])
        heavy.counts = pa.concat_arrays([left.slice(start, size)])
        heavy.error += cut
        start += size
    _label_fresh(heavies, key.to_pylist(), kept_sizes, hashes, slots, values)


def _label_fresh(
    heavies: list[HeavyHitters],
    key_list: list[int],
    kept_sizes: list[int],
    hashes: pa.Array,
    slots: pa.Array,
    values: pa.Array,
) -> None:
    """Label each column's keys that have no label yet by their first value in the batch."""
    starts = starts_of(kept_sizes)
    column_keys = [
        key_list[start : start + size] for start, size in zip(starts, kept_sizes, strict=True)
    ]
    fresh = [
        {key for key in keys if key not in heavy.labels}
        for heavy, keys in zip(heavies, column_keys, strict=True)
    ]
    wanted = set().union(*fresh)
    if wanted:
        hit = pc.indices_nonzero(pc.is_in(hashes, value_set=pa.array(list(wanted), _U64)))
        chosen: list[tuple[int, int, int]] = []  # (slot, key, position)
        positions = hit.to_pylist()
        hit_keys = pc.take(hashes, hit).to_pylist()
        hit_slots = pc.take(slots, hit).to_pylist()
        for position, key, slot in zip(positions, hit_keys, hit_slots, strict=True):
            if key in fresh[slot]:
                fresh[slot].remove(key)  # the first value labels it
                chosen.append((slot, key, position))
        taken = pc.take(values, pa.array([position for _, _, position in chosen], pa.int64()))
        label = heavies[0].label
        labels = (taken if label is None else label(taken)).to_pylist()
        for (slot, key, _), text in zip(chosen, labels, strict=True):
            heavies[slot].labels[key] = text
    for heavy, keys in zip(heavies, column_keys, strict=True):
        heavy._bound_labels(keys)
