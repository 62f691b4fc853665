"""How one column's values type under one reading: the class of every value, whole-file
counts per class, and each class's statistics, so that the column's type is chosen from
whole-file counts and its statistics need no second pass.

Every value is one class: integer, number (non-integer), boolean, date, datetime, leading-
zero code, or other (text, and values the column's reading cannot read). ``shown`` is the
batch as written: misfit examples show a value as the file has it, not as it was read.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import BOOL_SET, TRUE_SET, TS, cast_or_none, classify, to_micros
from csv_examples import FirstExamples
from csv_numbers import ExactInts, Moments, Range, finite
from csv_sketches import QuantileSample
from csv_types import AWARE_RE, TYPE_ORDER

Locate = Callable[[list[int]], list[int]]


class Unique(NamedTuple):
    """Distinct values, and how often each occurs (in a batch, or merged over batches);
    ``classes``: their ``classify`` masks when they were found already (for many columns
    at once)."""

    values: pa.Array
    counts: pa.Array
    classes: dict[str, pa.Array] | None = None


CLASSES = ("integer", "leading_zero", "number", "boolean", "date", "datetime")


class Typing:
    def __init__(
        self, position: int, sample_size: int, max_examples: int, value_chars: int
    ) -> None:
        self.max_examples = max_examples
        self.value_chars = value_chars
        self.nonnull = 0
        self.class_counts = dict.fromkeys(CLASSES, 0)  # values of each class
        # Created as needed, like the sample: a wide file's column holds a few classes.
        self.first: dict[str, FirstExamples] = {}  # by class, "other" for text
        self.hyp: str | None = None
        self.moments = Moments()
        self.ints = ExactInts()
        self.dates = Range()
        self.times = Range()
        self.aware = 0
        self.true_count = 0
        self._sample: QuantileSample | None = None
        self._sample_size = sample_size
        self._seed = position + 1
        # How the last batch was read, for the column's hashing: ("number", floats),
        # ("time", micros), ("text", None), or None (mixed).
        self.fast: tuple[str, pa.Array | None] | None = None
        self._shown: pa.Array | None = None

    def add(
        self, v: pa.Array, where: Locate, uniq: Unique | None, shown: pa.Array | None = None
    ) -> None:
        """One batch of non-null values: the fast path if it applies, else classify.

        ``uniq`` (the batch's distinct values and counts), when given, lets boolean and
        text columns be checked per distinct value instead of per value.
        """
        self.nonnull += len(v)
        self._shown = v if shown is None else shown
        if not self._fast_path(v, where, uniq):
            self._slow_path(v, where, uniq)
        self._shown = None

    @property
    def sample(self) -> QuantileSample:
        """The quantile sample, made by the first number: with thousands of columns, empty
        samples (two arrays each, ~1 KiB) would cost more than the others' values."""
        if self._sample is None:
            self._sample = QuantileSample(self._sample_size, seed=self._seed)
        return self._sample

    def sample_bytes(self) -> int:
        return 0 if self._sample is None else self._sample.kept_bytes()

    def try_fast(self, v: pa.Array, where: Locate, uniq: Unique | None) -> bool:
        """Whether the whole batch cast to the column's current type (and is counted)."""
        if not self._fast_path(v, where, uniq):
            return False
        self.nonnull += len(v)
        return True

    def add_slow(self, v: pa.Array, where: Locate, uniq: Unique | None) -> None:
        """A batch that ``try_fast`` did not take: every value classified."""
        self.nonnull += len(v)
        self._slow_path(v, where, uniq)

    def add_text(self, v: pa.Array, where: Locate) -> None:
        """A batch known to hold no typed value (no value starts like one)."""
        self.nonnull += len(v)
        self._note_first("other", None, v, where)
        self.fast = ("text", None)
        self.hyp = self._decide()[0]

    def _clip(self, values: pa.Array) -> pa.Array:
        """The first ``value_chars + 1`` characters: enough to show ``value_chars`` and to
        tell that a value was longer, whatever the length of the values."""
        return pc.utf8_slice_codeunits(values, 0, self.value_chars + 1)

    def display(self, value: str) -> tuple[str, bool]:
        """A kept (clipped) value as shown, and whether it was cut."""
        return value[: self.value_chars], len(value) > self.value_chars

    def _note_first(self, cls: str, mask: pa.Array | None, v: pa.Array, where: Locate) -> None:
        store = self.first.get(cls)
        need = self.max_examples - (0 if store is None else len(store))
        if need <= 0:
            return
        if mask is None:
            idx = list(range(min(need, len(v))))
        else:
            idx = pc.indices_nonzero(mask)[:need].to_pylist()
        if not idx:
            return
        lines = where(idx)
        shown = v if self._shown is None else self._shown
        vals = self._clip(pc.take(shown, pa.array(idx, pa.int64()))).to_pylist()
        if store is None:
            store = self.first[cls] = FirstExamples()
        store.extend(lines, vals)

    def fast_integers(self, v: pa.Array, where: Locate) -> bool:
        """Whether the batch was all plain integers (and is now counted): the one fast
        path that needs no reading, as an integer reads the same under every one."""
        self.fast = None  # as ``try_fast``, which ``Readings.add`` skips after this
        if self.hyp not in ("integer", None) or not self._integers(v, where):
            return False
        self.nonnull += len(v)
        return True

    def _integers(self, v: pa.Array, where: Locate) -> bool:
        # A column not typed yet may well be text, decimals or dates.
        ints = cast_or_none(v, pa.int64(), likely_to_fail=self.hyp is None)
        if ints is None or not self._no_leading_zero(v):
            return False
        self.fast = None
        self._add_integers(v, ints, None, where)
        self.hyp = "integer"
        return True

    def _fast_path(self, v: pa.Array, where: Locate, uniq: Unique | None) -> bool:
        """Whether the whole batch cast to the column's current type (and is counted)."""
        hyp = self.hyp
        self.fast = None
        if hyp in ("integer", None):
            return self._integers(v, where)
        if hyp == "number":
            f = cast_or_none(v, pa.float64())
            if f is not None:
                self.class_counts["number"] += len(v)
                self._note_first("number", None, v, where)
                self.ints.active = False
                self.sample.add(self.moments.add(f))
                self.fast = ("number", f)
                return True
        elif hyp == "boolean":
            if uniq is not None:
                u, uc = uniq.values, uniq.counts
                if pc.all(pc.is_in(u, value_set=BOOL_SET)).as_py():
                    self.class_counts["boolean"] += len(v)
                    self._note_first("boolean", None, v, where)
                    is_true = pc.is_in(u, value_set=TRUE_SET)
                    self.true_count += pc.sum(pc.filter(uc, is_true)).as_py() or 0
                    self.fast = ("text", None)
                    return True
            elif pc.all(pc.is_in(v, value_set=BOOL_SET)).as_py():
                self._add_booleans(v, None, where)
                self.fast = ("text", None)
                return True
        elif hyp == "date":
            lo, hi = (x.as_py() for x in pc.min_max(pc.binary_length(v)).values())
            d = cast_or_none(v, pa.date32()) if lo == hi == 10 else None
            if d is not None:
                self.class_counts["date"] += len(v)
                self._note_first("date", None, v, where)
                ts = pc.cast(d, TS)
                self.dates.add(ts)
                self.fast = ("time", pc.cast(ts, pa.int64()))
                return True
        elif hyp == "datetime":
            lo = pc.min(pc.binary_length(v)).as_py()
            ts = cast_or_none(v, TS) if lo >= 16 else None
            if ts is not None:
                self.class_counts["datetime"] += len(v)
                self._note_first("datetime", None, v, where)
                self.times.add(ts)
                self.fast = ("time", pc.cast(ts, pa.int64()))
                return True
        return False

    def _slow_path(self, v: pa.Array, where: Locate, uniq: Unique | None) -> None:
        if uniq is None:
            self._slow(v, where, classify(v))
            return
        # Classify the distinct values first: if none is typed, neither is any value of
        # the batch; else each value's classes are its distinct value's.
        m = uniq.classes if uniq.classes is not None else classify(uniq.values)
        if not any(pc.any(mask).as_py() for mask in m.values()):
            self._note_first("other", None, v, where)
            self.fast = ("text", None)
            self.hyp = self._decide()[0]
            return
        at = pc.index_in(v, value_set=uniq.values)
        self._slow(v, where, {name: pc.take(mask, at) for name, mask in m.items()})

    def _no_leading_zero(self, v: pa.Array) -> bool:
        zero_first = pc.starts_with(v, "0")
        if not pc.any(zero_first).as_py():
            return True  # most batches: lengths are not needed
        lz = pc.and_(zero_first, pc.greater(pc.binary_length(v), 1))
        return not pc.any(lz).as_py()

    def _add_integers(
        self, v: pa.Array, ints: pa.Array | None, mask: pa.Array | None, where: Locate
    ) -> None:
        text = v if mask is None else pc.filter(v, mask)
        self.class_counts["integer"] += len(text)
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
            self.fast = ("number", f)

    def _add_booleans(self, v: pa.Array, mask: pa.Array | None, where: Locate) -> None:
        b = v if mask is None else pc.filter(v, mask)
        self.class_counts["boolean"] += len(b)
        self._note_first("boolean", mask, v, where)
        self.true_count += pc.sum(pc.is_in(b, value_set=TRUE_SET)).as_py() or 0

    def _slow(self, v: pa.Array, where: Locate, m: dict[str, pa.Array]) -> None:
        """A batch's values counted by their classes (``m``: ``classify(v)``)."""
        if pc.any(m["integer"]).as_py():
            self._add_integers(v, None, m["integer"], where)
        if pc.any(m["number"]).as_py():
            num = pc.filter(v, m["number"])
            self.class_counts["number"] += len(num)
            self.ints.active = False
            self._note_first("number", m["number"], v, where)
            self.sample.add(self.moments.add(pc.cast(num, pa.float64())))
        if pc.any(m["leading_zero"]).as_py():
            self.class_counts["leading_zero"] += pc.sum(m["leading_zero"]).as_py()
            self._note_first("leading_zero", m["leading_zero"], v, where)
        if pc.any(m["boolean"]).as_py():
            self._add_booleans(v, m["boolean"], where)
        if pc.any(m["date"]).as_py():
            d = pc.filter(v, m["date"])
            self.class_counts["date"] += len(d)
            self._note_first("date", m["date"], v, where)
            self.dates.add(pc.cast(d, TS))
        if pc.any(m["datetime"]).as_py():
            t = pc.filter(v, m["datetime"])
            self.class_counts["datetime"] += len(t)
            self._note_first("datetime", m["datetime"], v, where)
            self.aware += pc.sum(pc.match_substring_regex(t, AWARE_RE)).as_py() or 0
            self.times.add(pc.cast(to_micros(t), TS))
        typed = m["integer"]
        for c in ("number", "leading_zero", "boolean", "date", "datetime"):
            typed = pc.or_(typed, m[c])
        if not pc.all(typed).as_py():
            self._note_first("other", pc.invert(typed), v, where)
        if not pc.any(pc.and_not(typed, m["boolean"])).as_py():
            self.fast = ("text", None)
        self.hyp = self._decide()[0]

    def _decide(self) -> tuple[str, int]:
        """(type, number of values that fit it): the most specific type the most values fit."""
        nonnull = self.nonnull
        if nonnull == 0:
            return "null", 0
        counts = self.class_counts
        fits = {
            "boolean": counts["boolean"],
            "integer": counts["integer"],
            "number": counts["integer"] + counts["number"],
            "date": counts["date"],
            "datetime": counts["date"] + counts["datetime"],
        }
        if counts["leading_zero"]:
            fits["integer"] = fits["number"] = 0
        for t in TYPE_ORDER:
            if fits[t] == nonnull:
                return t, nonnull
        best = max(TYPE_ORDER, key=lambda t: (fits[t], -TYPE_ORDER.index(t)))
        return ("string", nonnull) if fits[best] == 0 else (best, fits[best])

    def decide(self, tolerance: float) -> tuple[str, int]:
        """(type, number of values that fit it) under the misfit rule: a type that fewer
        than ``1 - tolerance`` of the values fit is no type, and the column is text."""
        typ, fit = self._decide()
        if typ not in ("string", "null") and fit < (1 - tolerance) * self.nonnull:
            return "string", self.nonnull
        return typ, fit

    def misfits(self, typ: str, fit: int) -> dict[str, Any]:
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
            for cls, store in self.first.items():
                if cls not in fitting:
                    examples.extend(store.items())
            examples.sort()
            examples = examples[: self.max_examples]
        shown = [self.display(val) for _, val in examples]
        out: dict[str, Any] = {
            "count": count,
            "first_lines": [ln for ln, _ in examples],
            "examples": [val for val, _ in shown],
        }
        if any(cut for _, cut in shown):
            out["examples_truncated"] = [cut for _, cut in shown]
        return out

    def typed_stats(self, typ: str, out: dict[str, Any]) -> None:
        mo = self.moments
        if typ in ("integer", "number"):
            if typ == "integer" and self.ints.n and self.ints.active:
                out["min"], out["max"], out["sum"] = self.ints.min, self.ints.max, self.ints.sum
                out["mean"] = finite(self.ints.sum, self.ints.n)
            elif mo.n:
                out["min"], out["max"] = mo.min, mo.max
                out["sum"], out["mean"] = finite(mo.sum), finite(mo.sum, mo.n)
            out["stddev"] = finite(math.sqrt(mo.m2 / (mo.n - 1))) if mo.n > 1 else None
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
                    if self.aware == self.class_counts["datetime"]
                    else "mixed"
                )
        elif typ == "boolean":
            out["true_count"] = self.true_count
            out["false_count"] = self.class_counts["boolean"] - self.true_count
