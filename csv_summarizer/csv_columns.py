"""Per-column streaming state: null detection, text statistics, and the switch from exact
distinct/top counting to sketches when a budget is reached. How the values type, and how
they are read (plain, or formatted for people), is the column's ``Readings``.
"""

from __future__ import annotations

import sys
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import number_hashes, value_hashes
from csv_formats import Reading
from csv_readings import Readings
from csv_sketches import TAG_TEXT, TAG_TIME, HeavyHitters, HyperLogLog, hash_keys, text_keys
from csv_text import TextBatch, TextStats
from csv_typing import Locate, Typing, Unique

HASH_SLICE_BYTES = 1 << 20  # values hashed at once when exact counting ends


class ColumnState:
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
        self.null_set = null_set
        # ``longest_bytes(null_set)``, computed once per run, not per column: no value
        # longer than every null token can be one (whitespace aside).
        self.null_token_bytes = null_token_bytes
        self.whitespace_is_null = whitespace_is_null
        self.distinct_cap = distinct_cap
        self.distinct_bytes = distinct_bytes
        self.max_examples = max_examples
        self.hll_precision = hll_precision
        self.heavy_capacity = heavy_capacity
        self.top_k = top_k
        self.value_chars = value_chars
        self.nulls = 0
        self.nonnull = 0
        self.null_spellings: dict[str, int] = {}
        self.readings = Readings(
            lambda: Typing(position, sample_size, max_examples, value_chars),
            default_reading or Reading(),
        )
        self.text = TextStats(value_chars + 1)
        # exact distinct/top state, then sketches
        self.exact = True
        self._counts: pa.Table | None = None
        self._pending: list[Unique] = []
        self._pending_n = 0
        self._pending_bytes = 0
        self.hll: HyperLogLog | None = None
        self.heavy: HeavyHitters | None = None

    # ---- per batch -------------------------------------------------------------------
    def add(self, col: pa.Array, locate: Locate) -> None:
        """One batch of this column's values (``summarize`` passes many columns at once
        through ``csv_batch`` instead; both end in ``add_distinct`` or ``add_values``)."""
        if self.exact:
            vc = pc.value_counts(col)
            u = vc.field("values")
            isnull_u = pc.is_in(u, value_set=self.null_set)
            if self.whitespace_is_null:
                isnull_u = pc.or_(isnull_u, pc.utf8_is_space(u))
            self.add_distinct(col, locate, (u, vc.field("counts")), isnull_u)
            return
        # The set lookup hashes every value: only where some value is short enough to be
        # a null token (long text, timestamps and most numbers never are).
        isnull = None
        if pc.min(pc.binary_length(col)).as_py() <= self.null_token_bytes:
            isnull = pc.is_in(col, value_set=self.null_set)
        if self.whitespace_is_null:
            space = pc.utf8_is_space(col)
            isnull = space if isnull is None else pc.or_(isnull, space)
        self.add_values(col, locate, isnull)

    def add_values(
        self, col: pa.Array, locate: Locate, isnull: pa.Array | None, text: TextBatch | None = None
    ) -> None:
        """Once sketched: a batch's values, which of them are null (None: none is), and the
        text statistics of the others when they were computed already."""
        nnull = 0 if isnull is None else pc.sum(isnull).as_py() or 0
        if nnull:
            assert isnull is not None
            self.nulls += nnull
            nullvals = pc.filter(col, isnull)
            if len(self.null_spellings) < 64:
                vc = pc.value_counts(nullvals)
                self._count_spellings(vc.field("values"), vc.field("counts"))
            v, where = self._drop_nulls(col, isnull, locate)
        else:
            v = col
            where = locate
        k = len(v)
        if k == 0:
            return
        self.nonnull += k
        if text is None:
            self.text.add(v)
        else:
            self.text.merge(text)
        self.readings.add(v, where, None)
        self._distinct(v)

    def add_distinct(
        self,
        col: pa.Array,
        locate: Locate,
        uniq: Unique,
        isnull_u: pa.Array | None,
        text: TextBatch | None = None,
    ) -> None:
        """While distinct values are counted exactly: a batch, its distinct values with
        their counts, which of those are null (None: none is), and the text statistics of
        the others when they were computed already. Null detection, text statistics and
        (for text columns) classification work on the distinct values only."""
        u, uc = uniq
        if isnull_u is not None and pc.any(isnull_u).as_py():
            nu, nuc = pc.filter(u, isnull_u), pc.filter(uc, isnull_u)
            self.nulls += pc.sum(nuc).as_py() or 0
            if len(self.null_spellings) < 64:
                self._count_spellings(nu, nuc)
            keep_u = pc.invert(isnull_u)
            u, uc = pc.filter(u, keep_u), pc.filter(uc, keep_u)
            v, where = self._drop_nulls(col, pc.is_in(col, value_set=nu), locate)
        else:
            v, where = col, locate
        k = len(v)
        if k == 0:
            return
        self.nonnull += k
        if text is None:
            self.text.add(u, uc)
        else:
            self.text.merge(text)
        self.readings.add(v, where, (u, uc))
        self._pending.append((u, uc))
        self._pending_n += len(u)
        self._pending_bytes += u.nbytes
        if (
            self._pending_n > self.distinct_cap
            or self._counts_bytes + self._pending_bytes > self.distinct_bytes
        ):
            self._merge_exact()

    def _count_spellings(self, values: pa.Array, counts: pa.Array) -> None:
        for v, c in zip(values.to_pylist(), counts.to_pylist(), strict=True):
            key = v if v.strip() else ("" if not v else "<whitespace>")
            self.null_spellings[key] = self.null_spellings.get(key, 0) + c

    @staticmethod
    def _drop_nulls(col: pa.Array, isnull: pa.Array, locate: Locate) -> tuple[pa.Array, Locate]:
        keep = pc.invert(isnull)

        def remap(ix: list[int]) -> list[int]:
            pos = pc.indices_nonzero(keep)
            return locate([pos[i].as_py() for i in ix])

        return pc.filter(col, keep), remap

    def _clip(self, values: pa.Array) -> pa.Array:
        """The first ``value_chars + 1`` characters: enough to show ``value_chars`` and to
        tell that a value was longer, whatever the length of the values."""
        return pc.utf8_slice_codeunits(values, 0, self.value_chars + 1)

    def _shown(self, value: str) -> tuple[str, bool]:
        """A kept (clipped) value as shown, and whether it was cut."""
        return value[: self.value_chars], len(value) > self.value_chars

    def _distinct(self, v: pa.Array) -> None:
        assert self.hll is not None and self.heavy is not None
        # A formatted column's values are hashed as written, whatever their reading.
        fast = None if self.readings.formatted else self.readings.typing.fast
        if fast is None:
            h, vals = value_hashes(v)
        elif fast[0] == "number":
            h, vals = number_hashes(v, fast[1]), v
        elif fast[0] == "time":
            h, vals = hash_keys(fast[1], pc.binary_length(v), TAG_TIME), v
        else:
            h, vals = hash_keys(text_keys(v), pc.binary_length(v), TAG_TEXT), v
        self.hll.add_hashes(h)
        self.heavy.add(h, vals)

    def _merge_exact(self) -> None:
        parts = list(self._pending)
        if self._counts is not None:
            # Built from two arrays (below), so one chunk each: take it, not a copy.
            parts.insert(0, (self._counts["v"].chunk(0), self._counts["c"].chunk(0)))
        self._pending, self._pending_n, self._pending_bytes = [], 0, 0
        # Grouping by the values would copy them several times over; encoding copies them
        # once (the distinct values), then the counts are summed by integer code. Each
        # part's values are distinct, so its codes are too: a scatter places its counts,
        # with no grouping.
        encoded = pc.dictionary_encode(pa.chunked_array([u for u, _ in parts], pa.string()))
        distinct = encoded.chunks[-1].dictionary  # one dictionary, shared by every chunk
        top = len(distinct) - 1
        totals: pa.Array | None = None
        for ch, (_, uc) in zip(encoded.chunks, parts, strict=True):
            placed = pc.fill_null(pc.scatter(uc, ch.indices, max_index=top), 0)
            totals = placed if totals is None else pc.add(totals, placed)
        t = pa.table({"v": distinct, "c": totals})
        # Past half the byte budget, merges would follow every few batches, each copying
        # everything kept: switch to sketches instead.
        if t.num_rows > self.distinct_cap or t["v"].nbytes > self.distinct_bytes // 2:
            self._to_sketch(t)
        else:
            self._counts = t

    def _to_sketch(self, t: pa.Table) -> None:
        self.exact = False
        self._counts = None
        self.hll = HyperLogLog(self.hll_precision)
        # Hashing copies its input: a slice at a time keeps that copy small.
        rows = max(1, t.num_rows * HASH_SLICE_BYTES // max(1, t["v"].nbytes))
        hashes = []
        for part in t.select(["v"]).to_batches(max_chunksize=rows):
            h = self._hashes_in_order(part.column(0))
            self.hll.add_hashes(h)
            hashes.append(h)
        # Seeding Misra-Gries cuts back to the ``capacity`` largest counts less the next
        # one; the other values would be dropped, and labels need only their first chars.
        self.heavy = HeavyHitters(self.heavy_capacity, label=self._clip)
        top_n = min(t.num_rows, self.heavy.capacity + 1)
        top = pc.select_k_unstable(t, k=top_n, sort_keys=[("c", "descending")])
        # Cut a few kept values at a time: taking them whole first would copy up to the
        # whole budget (wide values), cutting every value first would copy all of them.
        step = 8
        labels = [
            self._clip(pc.take(t["v"], top[i : i + step]).combine_chunks())
            for i in range(0, top_n, step)
        ]
        self.heavy.seed(
            pa.concat_arrays(labels),
            pc.take(t["c"], top).combine_chunks(),
            pc.take(pa.chunked_array(hashes, pa.uint64()), top).combine_chunks(),
        )

    def _hashes_in_order(self, values: pa.Array) -> pa.Array:
        """``value_hashes`` of distinct values, in the values' order."""
        h, ordered = value_hashes(values, self.readings.typing.hyp)
        if ordered is values:
            return h
        return pc.take(h, pc.index_in(values, value_set=ordered))

    def kept_bytes(self) -> int:
        """About what this column keeps from batch to batch: exact values and counts, the
        quantile sample, the sketches with their labels (Python strings and dict slots)."""
        kept = self._counts_bytes + self._pending_bytes
        kept += sum(t.sample.kept_bytes() for t in self.readings.typings.values())
        if self.hll is not None:
            kept += self.hll.registers.nbytes
        if self.heavy is not None:
            kept += self.heavy.keys.nbytes + self.heavy.counts.nbytes
            kept += sum(sys.getsizeof(v) + 100 for v in self.heavy.labels.values())
        return kept

    @property
    def _counts_bytes(self) -> int:
        """Bytes of the merged exact values, for the distinct budget."""
        return self._counts["v"].nbytes if self._counts is not None else 0

    def _exact_counts(self) -> pa.Table | None:
        if self._pending:
            self._merge_exact()
        return self._counts

    # ---- result ----------------------------------------------------------------------
    def result(self, tolerance: float) -> dict[str, Any]:
        typing = self.readings.typing
        typ, fit = typing.decide(tolerance)
        nonnull = self.nonnull
        total = nonnull + self.nulls
        out: dict[str, Any] = {
            "name": self.name,
            "position": self.position,
            "header": self.header,
            "type": typ,
            "count": nonnull,
            "nulls": self.nulls,
            "null_ratio": round(self.nulls / total, 6) if total else 0.0,
            "null_spellings": dict(sorted(self.null_spellings.items())),
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
            "leading_zero_values": typing.n["leading_zero"],
            "misfits": typing.misfits(typ, fit),
            "format": self.readings.format(typ),
        }
        typing.typed_stats(typ, out)
        least, greatest = self.text.least, self.text.greatest
        if typ == "string" and least is not None and greatest is not None:
            out["min"], min_cut = self._shown(least)
            out["max"], max_cut = self._shown(greatest)
            if min_cut:
                out["min_truncated"] = True
            if max_cut:
                out["max_truncated"] = True
        self._distinct_result(out)
        return out

    def _distinct_result(self, out: dict[str, Any]) -> None:
        k = self.top_k
        # The last merge may still switch to sketches: before ``self.exact`` is read.
        t = self._exact_counts() if self.exact else None
        if self.exact:
            if t is None or t.num_rows == 0:
                out.update(distinct=0, top_values=[])
            else:
                cnt = t["c"].combine_chunks()
                top_idx = pc.select_k_unstable(
                    t, k=min(t.num_rows, max(k * 4, 64)), sort_keys=[("c", "descending")]
                )
                rows = sorted(
                    zip(
                        self._clip(pc.take(t["v"], top_idx)).to_pylist(),
                        pc.take(cnt, top_idx).to_pylist(),
                        strict=True,
                    ),
                    key=lambda r: (-r[1], r[0]),
                )[:k]
                out.update(
                    distinct=t.num_rows,
                    top_values=[self._top_value(v, c) for v, c in rows],
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
            top_values=[self._top_value(v, c) for v, c in self.heavy.top(k)],
            top_values_approximate=True,
            top_values_count_error=self.heavy.error,
        )

    def _top_value(self, value: str, count: int) -> dict[str, Any]:
        shown, cut = self._shown(value)
        entry: dict[str, Any] = {"value": shown, "count": count}
        if cut:
            entry["truncated"] = True
        return entry
