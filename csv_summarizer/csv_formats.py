"""Numbers and dates as people write them, and how to read them.

Exports write values for people: ``$1,299.00``, ``12,50 €``, ``(12.00)``, ``45.5%``,
``1.234,56``, ``31.12.2024``, ``12/31/2024 11:05 PM``. A ``Batch`` parses such values once
(pyarrow's RE2, linear time on any input) and then *reads* them under a ``Reading``: the
decimal mark and the order of day and month. Reading a value gives the plain form that the
type rules in ``csv_types`` know (``-1299.00``, ``2024-12-31T23:05``); a value the reading
cannot read gives ``UNREADABLE``, which no type rule matches, so it is a misfit.

Some values read differently under the two decimal marks (``1,234`` is 1234 or 1.234) or the
two date orders (``05/06/2024``); they are *ambiguous*. Values that only one reading reads
(``1,234.56``, ``12,5``, ``31/12/2024``) are *evidence*: ``csv_readings`` settles a column's
reading with them.

The patterns are written in the subset that Python's ``re`` and RE2 read alike (the header
sniffer uses ``re`` on a few hundred cells through ``kind_of``), with literal characters for
the spaces and symbols, and one quantifier per run of digits. The number rules and kernels
are in ``csv_number_formats``, the date rules and kernels in ``csv_date_formats``; this
module holds what both share: ``Reading``, the parse of a batch, and the checks of one value.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from csv_date_formats import DATE_RE, MDY, ParsedDates, is_formatted_date, iso_dates, parse_dates
from csv_format_kernels import count_true, count_values
from csv_number_formats import (
    CURRENCY_RE,
    MINUS,
    NUMBER_RE,
    POINT,
    SEPARATORS,
    ParsedNumbers,
    is_formatted_number,
    parse_numbers,
    plain_numbers,
)
from csv_types import BOOLEAN_WORDS, NUM_RE, PLAIN_DATE, PLAIN_NUMBER
from csv_types import PREFILTER_RE as PLAIN_PREFILTER_RE

UNREADABLE = "\x00"  # matches no type rule: a misfit, shown as written

# A longer value is no number or date written for people (a grouped sextillion with cents
# is 32 characters): it is read as written. The bound also keeps parsing cheap, since
# extracting groups runs RE2's slower engines, whose time grows with the value.
MAX_CHARS = 64
# Only values that start like a formatted number or date are parsed at all.
PREFILTER_RE = rf"^(?:[0-9(+{MINUS}]|{CURRENCY_RE})"
# A value that neither prefilter passes is text under every reading: one pass tells.
ANY_KIND_RE = f"{PLAIN_PREFILTER_RE}|{PREFILTER_RE}"


def is_formatted(value: str) -> str | None:
    """ "number" or "date" if one reading or another reads ``value``, else None.

    For the header sniffer: the same patterns as ``Batch``, one value at a time.
    """
    if len(value) > MAX_CHARS:
        return None
    if is_formatted_number(value):
        return "number"
    if is_formatted_date(value):
        return "date"
    return None


@dataclass(frozen=True)
class Reading:
    """How a column's values are read: its decimal mark and the order of day and month."""

    decimal_mark: str = POINT
    date_order: str = MDY


@dataclass
class Evidence:
    """What one batch says about the readings: values only one reading reads, and values
    that read differently under the two (ambiguous)."""

    point_only: int = 0
    comma_only: int = 0
    ambiguous_numbers: int = 0
    mdy_only: int = 0
    dmy_only: int = 0
    ambiguous_dates: int = 0


@dataclass(frozen=True)
class Shapes:
    """How values were written (one batch's, or a column's so far), for its ``format``."""

    separators: set[str] = field(default_factory=set)  # in the numbers' digits
    date_shapes: Counter[str] = field(default_factory=Counter)  # keys for ``date_pattern``
    negatives: set[str] = field(default_factory=set)  # how negatives were written


def has_formatted(values: pa.Array) -> bool:
    """Whether some value looks like a date or number written for people: the patterns
    alone, without extracting groups, so that a plain batch costs little to rule out."""
    candidate = pc.and_kleene(
        pc.match_substring_regex(values, PREFILTER_RE),
        pc.less_equal(pc.utf8_length(values), MAX_CHARS),
    )
    if not pc.any(candidate).as_py():
        return False
    candidates = pc.filter(values, candidate)
    if pc.any(pc.match_substring_regex(candidates, DATE_RE)).as_py():
        return True
    number = pc.match_substring_regex(candidates, NUMBER_RE)
    plain = pc.match_substring_regex(candidates, NUM_RE)
    return bool(pc.any(pc.and_not_kleene(number, plain)).as_py())


class Batch:
    """One batch of a column's values, parsed once and read under any ``Reading``.

    ``unit`` is the column's settled currency or percent (None until one is seen): a value
    in another unit is never read, so that two currencies are not summed together.
    """

    def __init__(self, values: pa.Array, unit: str | None = None) -> None:
        self.values = values
        self.unit = unit
        self.numbers: ParsedNumbers | None = None
        self.dates: ParsedDates | None = None
        self.units: Counter[str] = Counter()
        # Which values were parsed (the candidates), as a mask and as indices.
        self._mask: pa.Array | None = None
        self._where: pa.Array | None = None
        candidate = pc.and_kleene(
            pc.match_substring_regex(values, PREFILTER_RE),
            pc.less_equal(pc.utf8_length(values), MAX_CHARS),
        )
        candidate = pc.fill_null(candidate, False)
        if not pc.any(candidate).as_py():
            return
        self._mask = candidate
        self._where = pc.indices_nonzero(candidate)
        candidates = pc.filter(values, candidate)
        # Matching alone runs RE2's fast engine; groups are extracted only where it matched.
        date_hit = pc.fill_null(pc.match_substring_regex(candidates, DATE_RE), False)
        number_hit = pc.and_not_kleene(
            pc.fill_null(pc.match_substring_regex(candidates, NUMBER_RE), False), date_hit
        )
        self.numbers = parse_numbers(candidates, number_hit, unit)
        if self.numbers is not None:
            self.unit, self.units = self.numbers.unit, self.numbers.units
        self.dates = parse_dates(candidates, date_hit)

    def has_formatted(self) -> bool:
        """Whether any value is a number or date that only a reading reads: not one the
        plain type rules read as they are (``12.5``, ``2024-05-06``)."""
        if self.dates is not None:
            return True
        if self.numbers is None:
            return False
        read = pc.or_kleene(self.numbers.point, self.numbers.comma)
        plain = pc.match_substring_regex(self.numbers.text, NUM_RE)
        return bool(pc.any(pc.and_not_kleene(read, plain)).as_py())

    def read(self, reading: Reading) -> pa.Array:
        """The values as the type rules see them under ``reading``: formatted values in
        their plain form, values this reading cannot read as ``UNREADABLE``, others as
        they are."""
        if self._where is None or self._mask is None:
            return self.values
        out = pc.take(self.values, self._where)
        if self.dates is not None:
            iso = iso_dates(self.dates, reading.date_order)
            out = pc.if_else(pc.is_valid(iso), iso,
                             pc.if_else(self.dates.ok, UNREADABLE, out))  # fmt: skip
        if self.numbers is not None:
            point_reading = reading.decimal_mark == POINT
            mine = self.numbers.point if point_reading else self.numbers.comma
            other = self.numbers.comma if point_reading else self.numbers.point
            parsed = plain_numbers(self.numbers, reading.decimal_mark)
            out = pc.if_else(mine, parsed, pc.if_else(other, UNREADABLE, out))
        return pc.replace_with_mask(self.values, self._mask, out)

    def evidence(self) -> Evidence:
        evidence = Evidence()
        if self.numbers is not None:
            point, comma = self.numbers.point, self.numbers.comma
            evidence.point_only = count_true(pc.and_not_kleene(point, comma))
            evidence.comma_only = count_true(pc.and_not_kleene(comma, point))
            both = pc.and_kleene(point, comma)
            evidence.ambiguous_numbers = count_true(pc.and_kleene(both, self.numbers.marked))
        if self.dates is not None:
            dates = self.dates
            slashed = pc.and_kleene(dates.ok, dates.slashed)
            mdy = pc.and_kleene(slashed, dates.mdy_ok)
            dmy = pc.and_kleene(slashed, dates.dmy_ok)
            evidence.mdy_only = count_true(pc.and_not_kleene(mdy, dmy))
            evidence.dmy_only = count_true(pc.and_not_kleene(dmy, mdy))
            evidence.ambiguous_dates = count_true(
                pc.and_not_kleene(pc.and_kleene(mdy, dmy), dates.same)
            )
        return evidence

    def first_evidence(self, kind: str) -> int | None:
        """Index (in the batch) of the first value only one reading reads, for ``kind``
        "point", "comma", "mdy" or "dmy"."""
        if kind in ("point", "comma"):
            if self.numbers is None:
                return None
            point, comma = self.numbers.point, self.numbers.comma
            mine, other = (point, comma) if kind == "point" else (comma, point)
            mask = pc.and_not_kleene(mine, other)
        else:
            if self.dates is None:
                return None
            dates = self.dates
            slashed = pc.and_kleene(dates.ok, dates.slashed)
            mdy, dmy = dates.mdy_ok, dates.dmy_ok
            mine, other = (mdy, dmy) if kind == "mdy" else (dmy, mdy)
            mask = pc.and_kleene(slashed, pc.and_not_kleene(mine, other))
        indices = pc.indices_nonzero(mask)
        if len(indices) == 0 or self._where is None:
            return None
        return int(self._where[indices[0].as_py()].as_py())

    def shapes(self) -> Shapes:
        """For the column's ``format``: the separators in the numbers' digits, the forms of
        the dates (keys for ``date_pattern``), and how negatives were written."""
        separators: set[str] = set()
        date_shapes: Counter[str] = Counter()
        negatives: set[str] = set()
        if self.numbers is not None:
            numbers = self.numbers
            read = pc.or_kleene(numbers.point, numbers.comma)
            bodies = pc.filter(numbers.body, read)
            separators = {
                char for char in SEPARATORS if pc.any(pc.match_substring(bodies, char)).as_py()
            }
            styles = {
                "parentheses": numbers.parentheses,
                "trailing_minus": numbers.trailing_minus,
                "minus": pc.and_not_kleene(
                    pc.and_not_kleene(numbers.negative, numbers.parentheses),
                    numbers.trailing_minus,
                ),
            }
            negatives = {
                style
                for style, written in styles.items()
                if count_true(pc.and_kleene(read, written))
            }
        if self.dates is not None:
            date_shapes = count_values(pc.filter(self.dates.shape, self.dates.ok))
        return Shapes(separators, date_shapes, negatives)


def kind_of(value: str) -> str:
    """ "number", "date", "boolean" or "string" for one non-null value: the plain rules
    of ``csv_types``, then the formatted forms of ``is_formatted`` (under any reading).

    Dates are matched by shape only; typing also checks that the day exists.
    """
    if any(pattern.match(value) for pattern in PLAIN_NUMBER):
        return "number"
    if any(pattern.match(value) for pattern in PLAIN_DATE):
        return "date"
    if value in BOOLEAN_WORDS:
        return "boolean"
    return is_formatted(value) or "string"
