"""Per-column streaming state: null detection, whole-file type inference, exact statistics,
and the switch from exact distinct/top counting to sketches when a budget is reached.

Every value is classified into one class: integer, number (non-integer), boolean, date,
datetime, or other (text, including leading-zero codes). Statistics are kept per class, so
the final type is chosen from whole-file counts and its statistics need no second pass.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_sketches import (
    TAG_NUMBER,
    TAG_TEXT,
    TAG_TIME,
    HeavyHitters,
    HyperLogLog,
    QuantileSample,
    hash_keys,
    text_keys,
)
from csv_types import (
    AWARE_RE,
    DATE_RE,
    DATETIME_RE,
    FALSE_TOKENS,
    INT_RE,
    LEADING_ZERO_RE,
    NUM_RE,
    PREFILTER_RE,
    TRUE_TOKENS,
    TYPE_ORDER,
)

BOOL_SET = pa.array(TRUE_TOKENS + FALSE_TOKENS)
TRUE_SET = pa.array(TRUE_TOKENS)
_TS = pa.timestamp("us")
_TS_UTC = pa.timestamp("us", tz="UTC")

HASH_SLICE_BYTES = 1 << 20  # values hashed at once when exact counting ends
Locate = Callable[[list[int]], list[int]]
Unique = tuple[pa.Array, pa.Array]  # distinct values, their counts


def _cast_or_none(arr: pa.Array, typ: pa.DataType) -> pa.Array | None:
    """The cast, or None if any value does not convert.

    A failing cast costs as much as a full one and more (~10 ms per 37k values), so the
    first value is tried alone first: text columns fail there, at almost no cost.
    """
    try:
        if len(arr) > 1:
            pc.cast(arr.slice(0, 1), typ)
        return pc.cast(arr, typ)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def longest_bytes(values: pa.Array) -> int:
    """The byte length of the longest value, -1 if there is none."""
    longest = pc.max(pc.binary_length(values)).as_py()
    return -1 if longest is None else longest


def _valid_dates(arr: pa.Array) -> pa.Array:
    """Mask of values whose first 10 characters are a real calendar date."""
    head = pc.utf8_slice_codeunits(arr, 0, 10)
    parsed = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True)
    # strptime rolls impossible days over (2026-02-30 -> 2026-03-02) where the cast to a
    # timestamp refuses them: a real date is one that prints back as it was written.
    return pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), head)


def classify(values: pa.Array) -> dict[str, pa.Array]:
    """Split values into classes by pattern; returns a boolean mask per class."""
    k = len(values)
    false = pa.array([False] * k, pa.bool_())
    classes = ("integer", "leading_zero", "number", "boolean", "date", "datetime")
    out = dict.fromkeys(classes, false)
    cand = pc.match_substring_regex(values, PREFILTER_RE)
    if not pc.any(cand).as_py():
        return out
    where = pc.cast(pc.indices_nonzero(cand), pa.int64())
    c = pc.filter(values, cand)
    is_int = pc.match_substring_regex(c, INT_RE)
    lz = pc.match_substring_regex(c, LEADING_ZERO_RE)
    num = pc.match_substring_regex(c, NUM_RE)
    num = pc.and_not(pc.and_not(num, is_int), lz)
    boolean = pc.is_in(c, value_set=BOOL_SET)
    date = pc.match_substring_regex(c, DATE_RE)
    dtime = pc.match_substring_regex(c, DATETIME_RE)
    if pc.any(date).as_py() or pc.any(dtime).as_py():
        ok = pc.fill_null(_valid_dates(c), False)
        date, dtime = pc.and_(date, ok), pc.and_(dtime, ok)
    found = dict(
        integer=is_int, leading_zero=lz, number=num, boolean=boolean, date=date, datetime=dtime
    )
    for name, mask in found.items():
        if pc.any(mask).as_py():
            out[name] = pc.scatter(mask, where, max_index=k - 1).fill_null(False)
    return out


def value_hashes(values: pa.Array, hint: str | None = None) -> tuple[pa.Array, pa.Array]:
    """Deterministic hash per value; returns (hashes, values) in a matching order.

    Numbers hash by their float64 value, dates and datetimes by their instant, everything
    else by crc32 of the text - always together with the byte length. ``hint`` (the
    column's type so far) tries the batch fast path's hashing first: when every value
    casts, the hashes are the ones that path gives, without classifying each value.
    """
    if len(values) == 0:
        return pa.array([], pa.uint64()), values
    if hint in ("integer", "number"):
        f = _cast_or_none(values, pa.float64())
        if f is not None:
            return number_hashes(values, f), values
    elif hint in ("date", "datetime"):
        try:
            return time_hashes(values), values
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    masks = classify(values)
    numeric = pc.or_(pc.or_(masks["integer"], masks["number"]), masks["leading_zero"])
    timeish = pc.or_(masks["date"], masks["datetime"])
    rest = pc.invert(pc.or_(numeric, timeish))
    if pc.all(rest).as_py():  # all text: no filtered copies
        return hash_keys(text_keys(values), pc.binary_length(values), TAG_TEXT), values
    hs: list[pa.Array] = []
    vs: list[pa.Array] = []
    if pc.any(numeric).as_py():
        v = pc.filter(values, numeric)
        hs.append(number_hashes(v, pc.cast(v, pa.float64())))
        vs.append(v)
    if pc.any(timeish).as_py():
        v = pc.filter(values, timeish)
        hs.append(time_hashes(v))
        vs.append(v)
    if pc.any(rest).as_py():
        v = pc.filter(values, rest)
        hs.append(hash_keys(text_keys(v), pc.binary_length(v), TAG_TEXT))
        vs.append(v)
    return pa.concat_arrays(hs), pa.concat_arrays(vs)


def number_hashes(text: pa.Array, floats: pa.Array) -> pa.Array:
    return hash_keys(floats, pc.binary_length(text), TAG_NUMBER)


def _to_micros(text: pa.Array) -> pa.Array:
    aware = pc.match_substring_regex(text, AWARE_RE)
    if not pc.any(aware).as_py():
        return pc.cast(pc.cast(text, _TS), pa.int64())
    if pc.all(aware).as_py():
        return pc.cast(pc.cast(pc.cast(text, _TS_UTC), _TS), pa.int64())
    micros = pc.cast(pc.cast(pc.filter(text, pc.invert(aware)), _TS), pa.int64())
    micros_a = pc.cast(pc.cast(pc.cast(pc.filter(text, aware), _TS_UTC), _TS), pa.int64())
    order = pa.concat_arrays([pc.indices_nonzero(pc.invert(aware)), pc.indices_nonzero(aware)])
    # indices_nonzero gives uint64; inverse_permutation has kernels for signed indices only.
    order = pc.cast(order, pa.int64())
    return pc.take(pa.concat_arrays([micros, micros_a]), pc.inverse_permutation(order))


def time_hashes(text: pa.Array) -> pa.Array:
    return hash_keys(_to_micros(text), pc.binary_length(text), TAG_TIME)


class _Moments:
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


class _Ints:
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
        as_int = _cast_or_none(text, pa.int64())
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


class _Range:
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
        self.n = dict.fromkeys(
            ("integer", "leading_zero", "number", "boolean", "date", "datetime"), 0
        )
        self.first: dict[str, list[tuple[int, str]]] = {
            c: [] for c in ("integer", "leading_zero", "number", "boolean", "date", "datetime")
        }
        self.first_other: list[tuple[int, str]] = []
        self.hyp: str | None = None
        self.moments = _Moments()
        self.ints = _Ints()
        self.dates = _Range()
        self.times = _Range()
        self.aware = 0
        self.true_count = 0
        self.text_min: str | None = None
        self.text_max: str | None = None
        self.len_min: int | None = None
        self.len_max: int | None = None
        self.len_sum = 0
        self.sample = QuantileSample(sample_size, seed=position + 1)
        # exact distinct/top state, then sketches
        self.exact = True
        self._counts: pa.Table | None = None
        self._pending: list[Unique] = []
        self._pending_n = 0
        self._pending_bytes = 0
        self.hll: HyperLogLog | None = None
        self.heavy: HeavyHitters | None = None
        self._fast: tuple[str, pa.Array | None] | None = None

    # ---- per batch -------------------------------------------------------------------
    def add(self, col: pa.Array, locate: Locate) -> None:
        if self.exact:
            self._add_exact(col, locate)
            return
        # The set lookup hashes every value: only where some value is short enough to be
        # a null token (long text, timestamps and most numbers never are).
        isnull = None
        if pc.min(pc.binary_length(col)).as_py() <= self.null_token_bytes:
            isnull = pc.is_in(col, value_set=self.null_set)
        if self.whitespace_is_null:
            space = pc.utf8_is_space(col)
            isnull = space if isnull is None else pc.or_(isnull, space)
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
        self._text_stats(v)
        self._classify_and_accumulate(v, where, None)
        self._distinct(v)

    def _add_exact(self, col: pa.Array, locate: Locate) -> None:
        """While distinct values are counted exactly: one ``value_counts`` per batch, then
        null detection, text statistics and (for text columns) classification work on the
        batch's unique values only."""
        vc = pc.value_counts(col)
        u, uc = vc.field("values"), vc.field("counts")
        isnull_u = pc.is_in(u, value_set=self.null_set)
        if self.whitespace_is_null:
            isnull_u = pc.or_(isnull_u, pc.utf8_is_space(u))
        if pc.any(isnull_u).as_py():
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
        self._text_stats(u, uc)
        self._classify_and_accumulate(v, where, (u, uc))
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

    def _text_range(self, values: pa.Array) -> None:
        # Cutting keeps order (a <= b gives cut(a) <= cut(b)), so the cut of the batch's min
        # and max are the min and max of its cut values: two values cut, not the batch.
        keep = self.value_chars + 1
        lo, hi = (x.as_py()[:keep] for x in pc.min_max(values).values())
        self.text_min = lo if self.text_min is None else min(self.text_min, lo)
        self.text_max = hi if self.text_max is None else max(self.text_max, hi)

    def _text_stats(self, values: pa.Array, counts: pa.Array | None = None) -> None:
        """Text min/max and lengths of a batch's values, or of its distinct values with
        how often each occurs (``counts``)."""
        self._text_range(values)
        lens = pc.utf8_length(values)
        a, b = (x.as_py() for x in pc.min_max(lens).values())
        self.len_min = a if self.len_min is None else min(self.len_min, a)
        self.len_max = b if self.len_max is None else max(self.len_max, b)
        if counts is not None:
            lens = pc.multiply(pc.cast(lens, pa.int64()), counts)
        self.len_sum += pc.sum(lens).as_py() or 0

    def _note_first(self, cls: str, mask: pa.Array | None, v: pa.Array, where: Locate) -> None:
        store = self.first_other if cls == "other" else self.first[cls]
        need = self.max_examples - len(store)
        if need <= 0:
            return
        if mask is None:
            idx = list(range(min(need, len(v))))
        else:
            idx = pc.indices_nonzero(mask)[:need].to_pylist()
        if not idx:
            return
        lines = where(idx)
        vals = self._clip(pc.take(v, pa.array(idx, pa.int64()))).to_pylist()
        store.extend(zip(lines, vals, strict=True))

    def _classify_and_accumulate(self, v: pa.Array, where: Locate, uniq: Unique | None) -> None:
        """Fast path: the whole batch casts to the column's current type; else classify.

        ``uniq`` (the batch's distinct non-null values and counts), when given, lets
        boolean and text columns be checked per distinct value instead of per value.
        """
        hyp = self.hyp
        self._fast = None
        if hyp in ("integer", None):
            ints = _cast_or_none(v, pa.int64())
            if ints is not None and self._no_leading_zero(v):
                self._add_integers(v, ints, None, where)
                self.hyp = "integer"
                return
        elif hyp == "number":
            f = _cast_or_none(v, pa.float64())
            if f is not None:
                self.n["number"] += len(v)
                self._note_first("number", None, v, where)
                self.ints.active = False
                self.sample.add(self.moments.add(f))
                self._fast = ("number", f)
                return
        elif hyp == "boolean":
            if uniq is not None:
                u, uc = uniq
                if pc.all(pc.is_in(u, value_set=BOOL_SET)).as_py():
                    self.n["boolean"] += len(v)
                    self._note_first("boolean", None, v, where)
                    is_true = pc.is_in(u, value_set=TRUE_SET)
                    self.true_count += pc.sum(pc.filter(uc, is_true)).as_py() or 0
                    self._fast = ("text", None)
                    return
            elif pc.all(pc.is_in(v, value_set=BOOL_SET)).as_py():
                self._add_booleans(v, None, where)
                self._fast = ("text", None)
                return
        elif hyp == "date":
            lo, hi = (x.as_py() for x in pc.min_max(pc.binary_length(v)).values())
            d = _cast_or_none(v, pa.date32()) if lo == hi == 10 else None
            if d is not None:
                self.n["date"] += len(v)
                self._note_first("date", None, v, where)
                ts = pc.cast(d, _TS)
                self.dates.add(ts)
                self._fast = ("time", pc.cast(ts, pa.int64()))
                return
        elif hyp == "datetime":
            lo = pc.min(pc.binary_length(v)).as_py()
            ts = _cast_or_none(v, _TS) if lo >= 16 else None
            if ts is not None:
                self.n["datetime"] += len(v)
                self._note_first("datetime", None, v, where)
                self.times.add(ts)
                self._fast = ("time", pc.cast(ts, pa.int64()))
                return
        if uniq is not None:
            # Classify the distinct values first: if none is typed, neither is any
            # value of the batch.
            m = classify(uniq[0])
            if not any(pc.any(mask).as_py() for mask in m.values()):
                self._note_first("other", None, v, where)
                self._fast = ("text", None)
                self.hyp = self._decide()[0]
                return
        self._slow(v, where)

    def _no_leading_zero(self, v: pa.Array) -> bool:
        lz = pc.and_(pc.starts_with(v, "0"), pc.greater(pc.binary_length(v), 1))
        return not pc.any(lz).as_py()

    def _add_integers(
        self, v: pa.Array, ints: pa.Array | None, mask: pa.Array | None, where: Locate
    ) -> None:
        text = v if mask is None else pc.filter(v, mask)
        self.n["integer"] += len(text)
        self._note_first("integer", mask, v, where)
        if self.ints.active:
            if ints is not None:
                self.ints.add_int64(ints)
            else:
                self.ints.add_text(text)
        # safe=False: int64 beyond 2**53 rounds to the nearest float (moments are floats);
        # the safe cast refuses such values. Exact min/max/sum come from ``self.ints``.
        f = (
            pc.cast(ints, pa.float64(), safe=False)
            if ints is not None
            else pc.cast(text, pa.float64())
        )
        self.sample.add(self.moments.add(f))
        if mask is None:
            self._fast = ("number", f)

    def _add_booleans(self, v: pa.Array, mask: pa.Array | None, where: Locate) -> None:
        b = v if mask is None else pc.filter(v, mask)
        self.n["boolean"] += len(b)
        self._note_first("boolean", mask, v, where)
        self.true_count += pc.sum(pc.is_in(b, value_set=TRUE_SET)).as_py() or 0

    def _slow(self, v: pa.Array, where: Locate) -> None:
        m = classify(v)
        if pc.any(m["integer"]).as_py():
            self._add_integers(v, None, m["integer"], where)
        if pc.any(m["number"]).as_py():
            num = pc.filter(v, m["number"])
            self.n["number"] += len(num)
            self.ints.active = False
            self._note_first("number", m["number"], v, where)
            self.sample.add(self.moments.add(pc.cast(num, pa.float64())))
        if pc.any(m["leading_zero"]).as_py():
            self.n["leading_zero"] += pc.sum(m["leading_zero"]).as_py()
            self._note_first("leading_zero", m["leading_zero"], v, where)
        if pc.any(m["boolean"]).as_py():
            self._add_booleans(v, m["boolean"], where)
        if pc.any(m["date"]).as_py():
            d = pc.filter(v, m["date"])
            self.n["date"] += len(d)
            self._note_first("date", m["date"], v, where)
            self.dates.add(pc.cast(d, _TS))
        if pc.any(m["datetime"]).as_py():
            t = pc.filter(v, m["datetime"])
            self.n["datetime"] += len(t)
            self._note_first("datetime", m["datetime"], v, where)
            self.aware += pc.sum(pc.match_substring_regex(t, AWARE_RE)).as_py() or 0
            self.times.add(pc.cast(_to_micros(t), _TS))
        typed = m["integer"]
        for c in ("number", "leading_zero", "boolean", "date", "datetime"):
            typed = pc.or_(typed, m[c])
        if not pc.all(typed).as_py():
            self._note_first("other", pc.invert(typed), v, where)
        if not pc.any(pc.and_not(typed, m["boolean"])).as_py():
            self._fast = ("text", None)
        self.hyp = self._decide()[0]

    # ---- distinct / top --------------------------------------------------------------
    def _distinct(self, v: pa.Array) -> None:
        assert self.hll is not None and self.heavy is not None
        fast = self._fast
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
        h, ordered = value_hashes(values, self.hyp)
        if ordered is values:
            return h
        return pc.take(h, pc.index_in(values, value_set=ordered))

    def kept_bytes(self) -> int:
        """About what this column keeps from batch to batch: exact values and counts, the
        quantile sample, the sketches with their labels (Python strings and dict slots)."""
        kept = self._counts_bytes + self._pending_bytes + self.sample.kept_bytes()
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
    def _decide(self) -> tuple[str, int]:
        """(type, number of values that fit it): the most specific type the most values fit."""
        nonnull = self.nonnull
        if nonnull == 0:
            return "null", 0
        n = self.n
        fits = {
            "boolean": n["boolean"],
            "integer": n["integer"],
            "number": n["integer"] + n["number"],
            "date": n["date"],
            "datetime": n["date"] + n["datetime"],
        }
        if n["leading_zero"]:
            fits["integer"] = fits["number"] = 0
        for t in TYPE_ORDER:
            if fits[t] == nonnull:
                return t, nonnull
        best = max(TYPE_ORDER, key=lambda t: (fits[t], -TYPE_ORDER.index(t)))
        return ("string", nonnull) if fits[best] == 0 else (best, fits[best])

    def result(self, tolerance: float) -> dict[str, Any]:
        typ, fit = self._decide()
        nonnull = self.nonnull
        if typ not in ("string", "null") and fit < (1 - tolerance) * nonnull:
            typ, fit = "string", nonnull
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
            "min_length": self.len_min,
            "max_length": self.len_max,
            "mean_length": round(self.len_sum / nonnull, 6) if nonnull else None,
            "true_count": None,
            "false_count": None,
            "non_finite": None,
            "leading_zero_values": self.n["leading_zero"],
            "misfits": self._misfits(typ, fit),
        }
        self._typed_stats(typ, out)
        self._distinct_result(out)
        return out

    def _misfits(self, typ: str, fit: int) -> dict[str, Any]:
        fitting = {
            "boolean": ("boolean",),
            "integer": ("integer",),
            "number": ("integer", "number"),
            "date": ("date",),
            "datetime": ("date", "datetime"),
        }.get(typ)
        count = 0 if fitting is None else self.nonnull - fit
        examples: list[tuple[int, str]] = []
        if count and fitting is not None:
            for cls, lst in self.first.items():
                if cls not in fitting:
                    examples.extend(lst)
            examples.extend(self.first_other)
            examples.sort()
            examples = examples[: self.max_examples]
        shown = [self._shown(val) for _, val in examples]
        out: dict[str, Any] = {
            "count": count,
            "first_lines": [ln for ln, _ in examples],
            "examples": [val for val, _ in shown],
        }
        if any(cut for _, cut in shown):
            out["examples_truncated"] = [cut for _, cut in shown]
        return out

    def _typed_stats(self, typ: str, out: dict[str, Any]) -> None:
        mo = self.moments
        if typ in ("integer", "number"):
            if typ == "integer" and self.ints.n and self.ints.active:
                out["min"], out["max"], out["sum"] = self.ints.min, self.ints.max, self.ints.sum
                out["mean"] = _finite(self.ints.sum, self.ints.n)
            elif mo.n:
                out["min"], out["max"] = mo.min, mo.max
                out["sum"], out["mean"] = _finite(mo.sum), _finite(mo.sum, mo.n)
            out["stddev"] = _finite(math.sqrt(mo.m2 / (mo.n - 1))) if mo.n > 1 else None
            out["non_finite"] = {"inf": mo.pos_inf, "-inf": mo.neg_inf}
            if mo.n:
                q = self.sample.quantiles([0.25, 0.5, 0.75])
                out["quantiles"] = {
                    "q25": q[0],
                    "q50": q[1],
                    "q75": q[2],
                    "approximate": not self.sample.exact,
                    "rank_error": round(self.sample.rank_error(), 6),
                }
        elif typ in ("date", "datetime"):
            lo = [x for x in (self.dates.min, self.times.min) if x is not None]
            hi = [x for x in (self.dates.max, self.times.max) if x is not None]
            if lo:
                if typ == "date":
                    out["min"], out["max"] = min(lo).date().isoformat(), max(hi).date().isoformat()
                else:
                    z = "Z" if self.aware else ""
                    out["min"] = min(lo).isoformat() + z
                    out["max"] = max(hi).isoformat() + z
            if typ == "datetime":
                out["timezone"] = (
                    "naive"
                    if not self.aware
                    else "utc"
                    if self.aware == self.n["datetime"]
                    else "mixed"
                )
        elif typ == "boolean":
            out["true_count"] = self.true_count
            out["false_count"] = self.n["boolean"] - self.true_count
        elif typ == "string" and self.text_min is not None and self.text_max is not None:
            out["min"], min_cut = self._shown(self.text_min)
            out["max"], max_cut = self._shown(self.text_max)
            if min_cut:
                out["min_truncated"] = True
            if max_cut:
                out["max_truncated"] = True

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


def _finite(total: float, n: int = 1) -> float | None:
    """``total / n`` as a float, or None where it is not finite: finite values near the
    float limit can sum (and square) past it, and JSON has no Infinity or NaN."""
    try:
        value = total / n
    except OverflowError:  # an exact int sum beyond the float range
        return None
    return value if math.isfinite(value) else None
