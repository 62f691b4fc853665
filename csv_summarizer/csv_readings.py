"""How one column is read: its decimal mark, its order of day and month, and its unit.

A column starts as plain: batches go to one ``Typing`` with no parsing, as they did before
formatted values were read at all. The first formatted value (``$1,299.00``,
``31.12.2024``), or a plain value that reads differently under the two decimal marks
(``1.234``), makes it *formatted*: from then on every batch is parsed (``csv_formats``) and
read before it is typed.

Each reading is *settled* by the first values that only one reading reads, wherever they are
in the file: ``12.5``, ``1,234.56`` settle the decimal point; ``12,5``, ``1.234,56`` the
decimal comma; ``31/12/2024`` day first; ``12/31/2024`` month first. Until a reading is
settled, values that read differently under its two options (``1,234``, ``05/06/2024``) are
read both ways, each way counted by its own ``Typing`` (a *twin*, born the first time such a
value appears: every value before it read the same both ways). Settling drops the twin that
lost; values that the settled reading cannot read are misfits, with their lines. A reading
never settled is the file's default and the column says it is ambiguous.

A column's unit (a currency or percent) is the first one its values use: a value in another
unit is a misfit, so that two currencies are never summed together.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_classify import TS, cast_or_none
from csv_date_formats import DMY, MDY, YMD, date_pattern, read_settled_dates
from csv_formats import ANY_KIND_RE, Batch, Reading, Shapes, has_formatted
from csv_number_formats import COMMA, PERCENT, POINT, read_settled_numbers
from csv_typing import Locate, Typing, Unique

# Plain values whose reading depends on the decimal mark: a point that may group thousands
# (1.234 is 1234 under a decimal comma), and values no comma reading reads (12.5, 1e3).
AMBIGUOUS_PLAIN_RE = r"^[-+]?[1-9][0-9]{0,2}\.[0-9]{3}$"
POINT_ONLY_PLAIN_RE = r"^[-+]?([0-9]*\.[0-9]*|[0-9.]+[eE][-+]?[0-9]+|(?i:inf|infinity))$"
NUMBER_TYPES = ("integer", "number")
DATE_TYPES = ("date", "datetime")
NO_READINGS: frozenset[str] = frozenset()  # shared: ``frozenset()`` is a new object each time


def file_default(delimiter: str) -> Reading:
    """The reading a column gets when nothing in it settles one: a ``;``-delimited file
    is a European export (decimal comma, day first), any other a US one."""
    return Reading(COMMA, DMY) if delimiter == ";" else Reading(POINT, MDY)


class Readings:
    def __init__(self, new_typing: Callable[[], Typing], default: Reading) -> None:
        self.default = default
        self.decimal_mark: str | None = None  # settled
        self.date_order: str | None = None  # settled
        self.unit: str | None = None
        self.formatted = False
        self.typings: dict[Reading, Typing] = {default: new_typing()}
        self.settled_by: dict[str, int] = {}  # reading -> line of the value that settled it
        # Readings with a value read both ways: frozen, so that the columns with none (most)
        # share one empty set; an empty set is 216 bytes, and wide files have 10,000s.
        self.ambiguous = NO_READINGS
        self._shapes: Shapes | None = None  # how a formatted column's values were written
        self._point_settled_now = False  # by this batch's plain values

    # ---- per batch -------------------------------------------------------------------
    def add(
        self,
        v: pa.Array,
        where: Locate,
        uniq: Unique | None,
        typed_start: bool | None = None,
    ) -> None:
        """One batch of non-null values (and its distinct values with counts, while they
        are counted). ``typed_start`` says, from a check of many columns at once, whether
        some value starts like a number, date or boolean word (None: not checked)."""
        self._point_settled_now = False
        if not self.formatted:
            typing = next(iter(self.typings.values()))
            if typed_start is False:
                # Text whatever the reading: no cast, boolean word or decimal pattern can
                # match a value that does not start like one (a wide file's text columns).
                typing.add_text(v, where)
                return
            if typing.fast_integers(v, where):
                return  # an integer reads the same under every reading
            if self.decimal_mark is None and typing.hyp in (None, "integer", "number"):
                self._plain_decimals(v if uniq is None else uniq[0], v, where)
            if not self.formatted:
                # An integer or untyped column's fast path is ``fast_integers``, just tried.
                if typing.hyp not in (None, "integer") and typing.try_fast(v, where, uniq):
                    return
                values = v if uniq is None else uniq[0]
                if not (typed_start or _starts_typed(values)):
                    typing.add_text(v, where)  # no value starts like a number, date or word
                    return
                if _all_plain(values) or not has_formatted(values):
                    typing.add_slow(v, where, uniq)
                    return
                self.formatted = True
        self._add_formatted(v, where, uniq)

    def forget_batch(self) -> None:
        """Drop the last batch's typed values (``Typing.fast``) once hashed, or at once
        while the column is counted exactly: kept, they would stay until the next batch
        (a batch's worth of numbers in every column of a wide file)."""
        for typing in self.typings.values():
            typing.fast = None

    @property
    def may_classify(self) -> bool:
        """Whether the next batch may be classified value by value: a plain column not
        typed yet, or typed as text."""
        return not self.formatted and self.typing.hyp in (None, "string")

    def _plain_decimals(self, values: pa.Array, v: pa.Array, where: Locate) -> None:
        """Settle the decimal point on a plain value only it reads (12.5), or go formatted
        on one that a decimal comma reads otherwise (1.234)."""
        ambiguous = pc.match_substring_regex(values, AMBIGUOUS_PLAIN_RE)
        point = pc.and_not(pc.match_substring_regex(values, POINT_ONLY_PLAIN_RE), ambiguous)
        if pc.any(point).as_py():
            first = pc.indices_nonzero(point)[0].as_py()
            self._settle("decimal_mark", POINT, _line_of(values, first, v, where))
            self._point_settled_now = True
        elif pc.any(ambiguous).as_py():
            self.formatted = True

    def _add_formatted(self, v: pa.Array, where: Locate, uniq: Unique | None) -> None:
        values = v if uniq is None else uniq[0]
        if self._add_settled_numbers(v, where, uniq) or self._add_settled_dates(v, where, uniq):
            return
        batch = Batch(values, self.unit)
        if batch.numbers is not None and self.unit is None and batch.units:
            self.unit = batch.unit
        ev = batch.evidence()
        if self.decimal_mark is None and (ev.point_only or ev.comma_only):
            mark = self._majority(ev.point_only, ev.comma_only, POINT, COMMA, "decimal_mark")
            self._settle("decimal_mark", mark, self._line(batch, mark, values, v, where))
        elif self._point_settled_now and self.decimal_mark == POINT and ev.point_only:
            # Settled just now by a plain value: a formatted one may come before it.
            line = self._line(batch, POINT, values, v, where)
            if line is not None:
                self.settled_by["decimal_mark"] = min(line, self.settled_by["decimal_mark"])
        if self.date_order is None and (ev.mdy_only or ev.dmy_only):
            order = self._majority(ev.mdy_only, ev.dmy_only, MDY, DMY, "date_order")
            self._settle("date_order", order, self._line(batch, order, values, v, where))
        if self.decimal_mark is None and ev.ambiguous_numbers:
            self._twin("decimal_mark", POINT, COMMA)
        if self.date_order is None and ev.ambiguous_dates:
            self._twin("date_order", MDY, DMY)
        shapes = batch.shapes()
        self.shapes.separators.update(shapes.separators)
        self.shapes.date_shapes.update(shapes.date_shapes)
        self.shapes.negatives.update(shapes.negatives)
        at = None if uniq is None else pc.index_in(v, value_set=uniq[0])
        for reading, typing in self.typings.items():
            read = batch.read(self._effective(reading))
            if uniq is None or at is None:
                typing.add(read, where, None, shown=v)
            else:
                typing.add(pc.take(read, at), where, Unique(read, uniq.counts), shown=v)

    def _add_settled_numbers(self, v: pa.Array, where: Locate, uniq: Unique | None) -> bool:
        """Whether the batch was all numbers in the column's settled form (and is counted):
        a settled column's usual batch, read without ``Batch``'s parse."""
        if self.decimal_mark is None or len(self.typings) != 1:
            return False
        typing = next(iter(self.typings.values()))
        if typing.hyp not in ("integer", "number"):
            return False
        values = v if uniq is None else uniq[0]
        read = read_settled_numbers(values, self.decimal_mark, self.unit)
        if read is None:
            return False
        self.shapes.separators.update(read.separators)
        self.shapes.negatives.update(read.negatives)
        if uniq is None:
            typing.add(read.text, where, None, shown=v)
        else:
            at = pc.index_in(v, value_set=uniq[0])
            typing.add(pc.take(read.text, at), where, Unique(read.text, uniq.counts), shown=v)
        return True

    def _add_settled_dates(self, v: pa.Array, where: Locate, uniq: Unique | None) -> bool:
        """Whether the batch was all valid dates of the column's one form, in its settled
        order (and is counted)."""
        if len(self.typings) != 1 or len(self.shapes.date_shapes) != 1:
            return False
        typing = next(iter(self.typings.values()))
        if typing.hyp not in ("date", "datetime"):
            return False
        (shape,) = self.shapes.date_shapes
        order = self.date_order or (DMY if shape[1:2] == "." else None)
        if order is None:
            return False
        values = v if uniq is None else uniq[0]
        text = read_settled_dates(values, shape, order)
        if text is None:
            return False
        self.shapes.date_shapes[shape] += len(values)
        if uniq is None:
            typing.add(text, where, None, shown=v)
        else:
            at = pc.index_in(v, value_set=uniq[0])
            typing.add(pc.take(text, at), where, Unique(text, uniq.counts), shown=v)
        return True

    def _majority(self, a: int, b: int, first: str, second: str, reading: str) -> str:
        if a != b:
            return first if a > b else second
        return str(getattr(self.default, reading))

    def _line(
        self, batch: Batch, option: str, values: pa.Array, v: pa.Array, where: Locate
    ) -> int | None:
        kind = {POINT: "point", COMMA: "comma", MDY: "mdy", DMY: "dmy"}[option]
        i = batch.first_evidence(kind)
        return None if i is None else _line_of(values, i, v, where)

    def _effective(self, reading: Reading) -> Reading:
        return Reading(self.decimal_mark or reading.decimal_mark,
                       self.date_order or reading.date_order)  # fmt: skip

    def _settle(self, reading: str, option: str, line: int | None) -> None:
        setattr(self, reading, option)
        if line is not None:
            self.settled_by[reading] = line
        self.ambiguous -= {reading}
        kept = {r: t for r, t in self.typings.items() if getattr(r, reading) == option}
        if not kept:
            # No twin yet: the one typing saw only values that read the same both ways.
            kept = {replace(r, **{reading: option}): t for r, t in self.typings.items()}
        self.typings = kept

    def _twin(self, reading: str, first: str, second: str) -> None:
        self.ambiguous |= {reading}
        if len({getattr(r, reading) for r in self.typings}) > 1:
            return
        born: dict[Reading, Typing] = {}
        for r, t in self.typings.items():
            other = second if getattr(r, reading) == first else first
            born[r] = t
            born[replace(r, **{reading: other})] = copy.deepcopy(t)
        self.typings = born

    # ---- result ----------------------------------------------------------------------
    def _order_of_forms(self) -> str | None:
        """The order the column's dates were written in when no value could be read in
        two orders (31.12.2024, 6-May-2024, 2024/05/06): the most frequent form's."""
        if "date_order" in self.ambiguous or not self.shapes.date_shapes:
            return None
        shapes = [shape for shape, _ in self.shapes.date_shapes.most_common()]
        if any(shape[0] == "S" and shape[1] in "/-" for shape in shapes):
            return None  # month and day could be either way round
        return YMD if shapes[0][0] == "Y" else DMY

    @property
    def shapes(self) -> Shapes:
        """How the values were written (formatted columns only: made when first needed)."""
        if self._shapes is None:
            self._shapes = Shapes()
        return self._shapes

    @property
    def typing(self) -> Typing:
        """The typing the column reports: the settled readings, else the defaults."""
        if len(self.typings) == 1:
            return next(iter(self.typings.values()))
        want = self._effective(self.default)
        return self.typings.get(want) or next(iter(self.typings.values()))

    @property
    def reading(self) -> Reading:
        for r, t in self.typings.items():
            if t is self.typing:
                return self._effective(r)
        return self._effective(self.default)

    def format(self, typ: str) -> dict[str, Any] | None:
        """How a formatted column's values were read, or None for a plain column."""
        if not self.formatted or typ not in NUMBER_TYPES + DATE_TYPES:
            return None
        reading = self.reading
        if typ in NUMBER_TYPES:
            mark = reading.decimal_mark
            grouping = sorted({ch for s in self.shapes.separators for ch in s if ch != mark})
            unit = self.unit
            return {
                "kind": "number",
                "decimal_mark": mark,
                "grouping": grouping,
                "unit": None if unit is None else "percent" if unit == PERCENT else "currency",
                "currency": unit if unit not in (None, PERCENT) else None,
                "negative": sorted(self.shapes.negatives),
                "ambiguous": "decimal_mark" in self.ambiguous,
                "settled_by_line": self.settled_by.get("decimal_mark"),
            }
        order = self.date_order or self._order_of_forms() or reading.date_order
        patterns: Counter[str] = Counter()
        for shape, n in self.shapes.date_shapes.items():
            patterns[date_pattern(shape, order)] += n
        return {
            "kind": "date",
            "date_order": order,
            "patterns": [p for p, _ in patterns.most_common(8)],
            "ambiguous": "date_order" in self.ambiguous,
            "settled_by_line": self.settled_by.get("date_order"),
        }


def _starts_typed(values: pa.Array) -> bool:
    """Whether some value starts like a number, a date or a boolean word."""
    return bool(pc.any(pc.match_substring_regex(values, ANY_KIND_RE)).as_py())


def starts_typed_by_column(values: pa.Array, column: pa.Array) -> set[int]:
    """The columns (``column``: each value's) with a value that starts like a number, a
    date or a boolean word: one pattern match for many columns, not one per column."""
    matched = pc.match_substring_regex(values, ANY_KIND_RE)
    return set(pc.unique(pc.filter(column, matched)).to_pylist())


def _all_plain(values: pa.Array) -> bool:
    """Whether every value is a plain number or an ISO date or time: a cast tells at the
    cost of a parse, cheaper than ruling out every formatted pattern."""
    number = cast_or_none(values, pa.float64(), likely_to_fail=True)
    return number is not None or cast_or_none(values, TS, likely_to_fail=True) is not None


def _line_of(values: pa.Array, i: int, v: pa.Array, where: Locate) -> int:
    """The line of ``values[i]``: ``values`` is the batch ``v`` or its distinct values."""
    if values is not v:
        i = pc.index(v, values[i]).as_py()
    return where([i])[0]
