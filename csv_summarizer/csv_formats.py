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
sniffer uses ``re`` on a few hundred cells through ``csv_types.kind_of``), with literal
characters for the spaces and symbols, and one quantifier per run of digits.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from csv_types import BOOLEAN_WORDS, NUM_RE, PLAIN_DATE, PLAIN_NUMBER
from csv_types import PREFILTER_RE as PLAIN_PREFILTER_RE

POINT = "."
COMMA = ","
MDY = "MDY"
DMY = "DMY"
YMD = "YMD"  # reported only: year first reads one way
UNREADABLE = "\x00"  # matches no type rule: a misfit, shown as written
PERCENT = "%"

# Grouping: comma, point, apostrophe (straight and typographic), space, no-break space,
# narrow no-break space, thin space.
_SPACES = " \u00a0\u202f\u2009"
_GROUPS_POINT = ",'\u2019" + _SPACES  # with a decimal point
_GROUPS_COMMA = ".'\u2019" + _SPACES  # with a decimal comma
_SYMBOLS = ("US$", "NZ$", "HK$", "R$", "A$", "C$", "S$", "$", "€", "£", "¥", "₹", "₩", "₽",
            "₺", "₪", "₫", "฿", "₱", "₦", "kr")  # fmt: skip
_CODES = ("USD", "EUR", "GBP", "JPY", "CNY", "INR", "CHF", "CAD", "AUD", "NZD", "HKD", "SGD",
          "SEK", "NOK", "DKK", "ISK", "PLN", "CZK", "HUF", "RON", "BGN", "RUB", "UAH", "TRY",
          "ILS", "AED", "SAR", "ZAR", "BRL", "MXN", "ARS", "CLP", "COP", "PEN", "KRW", "TWD",
          "THB", "IDR", "MYR", "PHP", "VND", "NGN", "EGP", "KES", "PKR", "BDT")  # fmt: skip
# In the patterns, any symbol or three capitals; the unit is then checked against the lists
# (a short pattern keeps RE2's group extraction fast).
_CURRENCY = r"[$€£¥₹₩₽₺₪₫฿₱₦]|[A-Z]{1,2}\$|kr|[A-Z]{3}"
UNITS = frozenset((*_SYMBOLS, *_CODES, "%"))
_MINUS = "\u2212-"  # the minus sign and hyphen-minus (last: literal in a class)

NUMBER_RE = (
    rf"^(?P<open>\()?(?P<s1>[+{_MINUS}]?)(?P<c1>(?:{_CURRENCY}) ?)?(?P<s2>[+{_MINUS}]?)"
    rf"(?P<body>[0-9](?:[0-9.,{_GROUPS_POINT}]*[0-9])?)"
    rf"(?P<s3>[{_MINUS}]?)(?P<c2> ?(?:{_CURRENCY}|%))?(?P<s4>[{_MINUS}]?)(?P<close>\))?$"
)


def _body_re(groups: str, mark: str) -> str:
    grouped = "|".join(rf"[1-9][0-9]{{0,2}}(?:{re.escape(g)}[0-9]{{3}})+" for g in groups)
    return rf"(?:0|[1-9][0-9]*|{grouped})(?:{re.escape(mark)}[0-9]+)?"


GROUPS = {POINT: _GROUPS_POINT, COMMA: _GROUPS_COMMA}
BODY = {mark: _body_re(groups, mark) for mark, groups in GROUPS.items()}
BODY_RE = {mark: f"^{body}$" for mark, body in BODY.items()}

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATE_RE = (
    r"^(?:(?P<y1>[0-9]{4})/(?P<m1>[0-9]{1,2})/(?P<d1>[0-9]{1,2})"
    r"|(?P<a>[0-9]{1,2})(?P<sep1>[/.-])(?P<b>[0-9]{1,2})(?P<sep2>[/.-])(?P<y2>[0-9]{4}|[0-9]{2})"
    r"|(?P<d3>[0-9]{1,2})(?P<sep3>[- ])(?P<mon>[A-Za-z]{3})(?P<sep4>[- ])(?P<y3>[0-9]{4}|[0-9]{2}))"
    r"(?:(?P<t>[T ])(?P<hh>[0-9]{1,2}):(?P<mi>[0-9]{2})(?::(?P<ss>[0-9]{2}))?"
    r"(?:(?P<gap> ?)(?P<ampm>[AaPp][Mm]))?)?$"
)
# Two-digit years: 00-68 are 2000-2068, 69-99 are 1969-1999 (the POSIX strptime rule).
YEAR_PIVOT = 69
# A longer value is no number or date written for people (a grouped sextillion with cents
# is 32 characters): it is read as written. The bound also keeps parsing cheap, since
# extracting groups runs RE2's slower engines, whose time grows with the value.
MAX_CHARS = 64
# Only values that start like a formatted number or date are parsed at all.
PREFILTER_RE = rf"^(?:[0-9(+{_MINUS}]|{_CURRENCY})"
# A value that neither prefilter passes is text under every reading: one pass tells.
ANY_KIND_RE = f"{PLAIN_PREFILTER_RE}|{PREFILTER_RE}"

_NUMBER = re.compile(NUMBER_RE)
_BODY = {mark: re.compile(p) for mark, p in BODY_RE.items()}
_DATE = re.compile(DATE_RE)


def is_formatted(value: str) -> str | None:
    """ "number" or "date" if one reading or another reads ``value``, else None.

    For the header sniffer: the same patterns as ``Batch``, one value at a time.
    """
    if len(value) > MAX_CHARS:
        return None
    m = _NUMBER.match(value)
    if m and _signs_ok(m.group("open"), m.group("close"), m.group("s1"), m.group("s2"),
                       m.group("s3"), m.group("s4"), m.group("c1"), m.group("c2")):  # fmt: skip
        body = m.group("body")
        if any(p.match(body) for p in _BODY.values()):
            return "number"
    d = _DATE.match(value)
    if d and _date_shape_ok(d):
        return "date"
    return None


def _signs_ok(*parts: str | None) -> bool:
    opened, closed, s1, s2, s3, s4, c1, c2 = (p or "" for p in parts)
    signs = [s for s in (s1, s2, s3, s4) if s]
    return (
        opened == ("(" if closed else "")
        and len(signs) + bool(opened) <= 1
        and not (c1 and c2)
        and not (opened and "+" in "".join(signs))
        and (c1 + c2).strip() in UNITS | {""}
    )


def _date_shape_ok(d: re.Match[str]) -> bool:
    if d.group("a") is not None:
        return d.group("sep1") == d.group("sep2")
    if d.group("mon") is not None:
        return d.group("sep3") == d.group("sep4") and d.group("mon").lower() in _MONTHS
    return True


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


def has_formatted(values: pa.Array) -> bool:
    """Whether some value looks like a date or number written for people: the patterns
    alone, without extracting groups, so that a plain batch costs little to rule out."""
    cand = pc.and_kleene(
        pc.match_substring_regex(values, PREFILTER_RE),
        pc.less_equal(pc.utf8_length(values), MAX_CHARS),
    )
    if not pc.any(cand).as_py():
        return False
    c = pc.filter(values, cand)
    if pc.any(pc.match_substring_regex(c, DATE_RE)).as_py():
        return True
    number = pc.match_substring_regex(c, NUMBER_RE)
    return bool(pc.any(pc.and_not_kleene(number, pc.match_substring_regex(c, NUM_RE))).as_py())


_UNIT_SET = pa.array(sorted(UNITS))
_MONTH_SET = pa.array(_MONTHS)


def _ints(text: pa.Array) -> pa.Array:
    return pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.int32())


def _pad2(ints: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(ints, pa.string()), width=2, padding="0")


class Batch:
    """One batch of a column's values, parsed once and read under any ``Reading``.

    ``unit`` is the column's settled currency or percent (None until one is seen): a value
    in another unit is never read, so that two currencies are not summed together.
    """

    def __init__(self, values: pa.Array, unit: str | None = None) -> None:
        self.values = values
        self.unit = unit
        self.numbers: dict[str, pa.Array] | None = None
        self.dates: dict[str, pa.Array] | None = None
        self.units: Counter[str] = Counter()
        self._mask: pa.Array | None = None
        self._where: pa.Array | None = None
        cand = pc.and_kleene(
            pc.match_substring_regex(values, PREFILTER_RE),
            pc.less_equal(pc.utf8_length(values), MAX_CHARS),
        )
        cand = pc.fill_null(cand, False)
        if not pc.any(cand).as_py():
            return
        self._mask = cand
        self._where = pc.indices_nonzero(cand)
        c = pc.filter(values, cand)
        # Matching alone runs RE2's fast engine; groups are extracted only where it matched.
        date_hit = pc.fill_null(pc.match_substring_regex(c, DATE_RE), False)
        number_hit = pc.and_not_kleene(
            pc.fill_null(pc.match_substring_regex(c, NUMBER_RE), False), date_hit
        )
        self._parse_numbers(c, number_hit)
        self._parse_dates(c, date_hit)

    def has_formatted(self) -> bool:
        """Whether any value is a number or date that only a reading reads: not one the
        plain type rules read as they are (``12.5``, ``2024-05-06``)."""
        if self.dates is not None:
            return True
        if self.numbers is None:
            return False
        read = pc.or_kleene(self.numbers["point"], self.numbers["comma"])
        plain = pc.match_substring_regex(self.numbers["text"], NUM_RE)
        return bool(pc.any(pc.and_not_kleene(read, plain)).as_py())

    # ---- numbers ---------------------------------------------------------------------
    def _parse_numbers(self, c: pa.Array, hit: pa.Array) -> None:
        parts = _extract(c, NUMBER_RE, hit)
        if parts is None:
            return
        f = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in
             ("open", "s1", "c1", "s2", "body", "s3", "c2", "s4", "close")}  # fmt: skip
        opened = pc.not_equal(f["open"], "")
        signs = pc.cast(opened, pa.int8())
        for name in ("s1", "s2", "s3", "s4"):
            signs = pc.add(signs, pc.cast(pc.not_equal(f[name], ""), pa.int8()))
        plus = pc.or_kleene(pc.equal(f["s1"], "+"), pc.equal(f["s2"], "+"))
        value_unit = pc.utf8_trim_whitespace(pc.binary_join_element_wise(f["c1"], f["c2"], ""))
        has_unit = pc.not_equal(value_unit, "")
        ok = pc.and_kleene(hit, pc.equal(opened, pc.not_equal(f["close"], "")))
        ok = pc.and_kleene(ok, pc.less_equal(signs, 1))
        ok = pc.and_kleene(ok, pc.invert(pc.and_kleene(opened, plus)))
        ok = pc.and_kleene(ok, pc.invert(pc.and_kleene(pc.not_equal(f["c1"], ""),
                                                       pc.not_equal(f["c2"], ""))))  # fmt: skip
        ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(has_unit),
                                            pc.is_in(value_unit, value_set=_UNIT_SET)))  # fmt: skip
        ok = pc.fill_null(ok, False)
        unit = self.unit
        if pc.any(pc.and_kleene(ok, has_unit)).as_py():
            self.units = _counts(pc.filter(value_unit, pc.and_kleene(ok, has_unit)))
            if unit is None:
                unit = self.units.most_common(1)[0][0]
            ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(has_unit), pc.equal(value_unit, unit)))
        body = f["body"]
        point = pc.fill_null(
            pc.and_kleene(ok, pc.match_substring_regex(body, BODY_RE[POINT])), False
        )
        comma = pc.fill_null(
            pc.and_kleene(ok, pc.match_substring_regex(body, BODY_RE[COMMA])), False
        )
        if not (pc.any(point).as_py() or pc.any(comma).as_py()):
            return
        trailing = pc.or_kleene(pc.not_equal(f["s3"], ""), pc.not_equal(f["s4"], ""))
        minus = pc.match_substring_regex(
            pc.binary_join_element_wise(f["s1"], f["s2"], f["s3"], f["s4"], ""), f"[{_MINUS}]"
        )
        self.numbers = {
            "text": c,
            "point": point,
            "comma": comma,
            "body": body,
            # A point or a comma in the body reads differently under the two marks.
            "marked": pc.or_kleene(pc.match_substring(body, "."), pc.match_substring(body, ",")),
            "negative": pc.or_kleene(minus, opened),
            "parens": opened,
            "trailing": trailing,
            "percent": pc.equal(value_unit, PERCENT),
        }
        self.unit = unit

    def _number_text(self, mark: str) -> pa.Array:
        """The plain form of every parsed number under decimal mark ``mark``."""
        assert self.numbers is not None
        digits = self.numbers["body"]
        for group in _GROUPS_POINT if mark == POINT else _GROUPS_COMMA:
            if pc.any(pc.match_substring(digits, group)).as_py():
                digits = pc.replace_substring(digits, group, "")
        if mark == COMMA:
            digits = pc.replace_substring(digits, ",", ".")
        sign = pc.if_else(self.numbers["negative"], "-", "")
        return pc.binary_join_element_wise(sign, digits, "")

    # ---- dates -----------------------------------------------------------------------
    def _parse_dates(self, c: pa.Array, hit: pa.Array) -> None:
        parts = _extract(c, DATE_RE, hit)
        if parts is None:
            return
        g = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in
             ("y1", "m1", "d1", "a", "sep1", "b", "sep2", "y2", "d3", "sep3", "mon", "sep4",
              "y3", "t", "hh", "mi", "ss", "gap", "ampm")}  # fmt: skip
        slashed = pc.not_equal(g["a"], "")
        named = pc.not_equal(g["mon"], "")
        mon_index = pc.add(pc.index_in(pc.utf8_lower(g["mon"]), value_set=_MONTH_SET), 1)
        ok = pc.and_kleene(hit, pc.or_kleene(pc.invert(slashed), pc.equal(g["sep1"], g["sep2"])))
        ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(named), pc.and_kleene(
            pc.equal(g["sep3"], g["sep4"]), pc.is_valid(mon_index))))  # fmt: skip
        year_text = pc.binary_join_element_wise(g["y1"], g["y2"], g["y3"], "")
        year = _ints(year_text)
        short = pc.equal(pc.utf8_length(year_text), 2)
        year = pc.if_else(
            short, pc.add(year, pc.if_else(pc.less(year, YEAR_PIVOT), 2000, 1900)), year
        )
        a, b = _ints(g["a"]), _ints(g["b"])
        # Time of day: 1-12 with AM/PM, else 0-23.
        has_time = pc.not_equal(g["hh"], "")
        hour, minute = _ints(g["hh"]), _ints(g["mi"])
        ampm = pc.utf8_lower(g["ampm"])
        twelve = pc.not_equal(ampm, "")
        hour_ok = pc.if_else(
            twelve,
            pc.and_kleene(pc.greater_equal(hour, 1), pc.less_equal(hour, 12)),
            pc.less_equal(hour, 23),
        )
        hour24 = pc.if_else(
            twelve,
            pc.add(pc.if_else(pc.equal(hour, 12), 0, hour),
                   pc.if_else(pc.equal(ampm, "pm"), 12, 0)),
            hour,
        )  # fmt: skip
        has_seconds = pc.not_equal(g["ss"], "")
        sec = pc.if_else(has_seconds, pc.binary_join_element_wise(":", g["ss"], ""), "")
        time_ok = pc.or_kleene(
            pc.invert(has_time),
            pc.and_kleene(pc.and_kleene(hour_ok, pc.less_equal(minute, 59)),
                          pc.or_kleene(pc.invert(has_seconds),
                                       pc.less_equal(_ints(g["ss"]), 59))),
        )  # fmt: skip
        ok = pc.fill_null(pc.and_kleene(ok, time_ok), False)
        if not pc.any(ok).as_py():
            return
        time_text = pc.if_else(
            has_time, pc.binary_join_element_wise("T", _pad2(hour24), ":", g["mi"], sec, ""), ""
        )
        in_range = _between(a, 1, 31)
        # The form, for the column's ``patterns``: what ``date_pattern`` turns into text.
        form = pc.if_else(pc.not_equal(g["y1"], ""), "Y", pc.if_else(named, "N", "S"))
        shape = pc.binary_join_element_wise(
            form, g["sep1"], g["sep3"], pc.cast(pc.utf8_length(year_text), pa.string()),
            g["t"], pc.if_else(has_time, "h", ""), pc.if_else(has_seconds, "s", ""),
            g["gap"], pc.if_else(twelve, "p", ""), "",
        )  # fmt: skip
        self.dates = {
            "ok": ok,
            "slashed": pc.fill_null(pc.and_kleene(slashed, pc.not_equal(g["sep1"], ".")), False),
            "dotted": pc.fill_null(pc.equal(g["sep1"], "."), False),
            "mdy_ok": pc.fill_null(pc.and_kleene(_between(a, 1, 12), _between(b, 1, 31)), False),
            "dmy_ok": pc.fill_null(pc.and_kleene(_between(b, 1, 12), in_range), False),
            "same": pc.fill_null(pc.equal(a, b), False),
            "year": pc.cast(year, pa.string()),
            "a": a,
            "b": b,
            "m1": _ints(g["m1"]),
            "d1": _ints(g["d1"]),
            "mon": mon_index,
            "d3": _ints(g["d3"]),
            "time": time_text,
            "shape": shape,
        }

    def _date_text(self, order: str) -> pa.Array:
        """The ISO form of every parsed date under ``order``; null where not a date."""
        d = self.dates
        assert d is not None
        first_is_month = pc.and_kleene(pa.scalar(order == MDY), pc.invert(d["dotted"]))
        month = pc.coalesce(
            d["m1"], pc.cast(d["mon"], pa.int32()), pc.if_else(first_is_month, d["a"], d["b"])
        )
        day = pc.coalesce(d["d1"], d["d3"], pc.if_else(first_is_month, d["b"], d["a"]))
        valid = pc.and_kleene(d["ok"], pc.and_kleene(_between(month, 1, 12), _between(day, 1, 31)))
        iso = pc.binary_join_element_wise(
            pc.utf8_lpad(d["year"], width=4, padding="0"), "-", _pad2(month), "-", _pad2(day),
            d["time"], "",
        )  # fmt: skip
        return pc.if_else(pc.fill_null(valid, False), iso, None)

    # ---- reading ---------------------------------------------------------------------
    def read(self, reading: Reading) -> pa.Array:
        """The values as the type rules see them under ``reading``: formatted values in
        their plain form, values this reading cannot read as ``UNREADABLE``, others as
        they are."""
        if self._where is None or self._mask is None:
            return self.values
        out = pc.take(self.values, self._where)
        if self.dates is not None:
            iso = self._date_text(reading.date_order)
            out = pc.if_else(pc.is_valid(iso), iso,
                             pc.if_else(self.dates["ok"], UNREADABLE, out))  # fmt: skip
        if self.numbers is not None:
            mine = self.numbers["point" if reading.decimal_mark == POINT else "comma"]
            other = self.numbers["comma" if reading.decimal_mark == POINT else "point"]
            parsed = self._number_text(reading.decimal_mark)
            out = pc.if_else(mine, parsed, pc.if_else(other, UNREADABLE, out))
        return pc.replace_with_mask(self.values, self._mask, out)

    def evidence(self) -> Evidence:
        ev = Evidence()
        if self.numbers is not None:
            p, c = self.numbers["point"], self.numbers["comma"]
            ev.point_only = _count(pc.and_not_kleene(p, c))
            ev.comma_only = _count(pc.and_not_kleene(c, p))
            both = pc.and_kleene(p, c)
            ev.ambiguous_numbers = _count(pc.and_kleene(both, self.numbers["marked"]))
        if self.dates is not None:
            d = self.dates
            sl = pc.and_kleene(d["ok"], d["slashed"])
            m, dm = pc.and_kleene(sl, d["mdy_ok"]), pc.and_kleene(sl, d["dmy_ok"])
            ev.mdy_only = _count(pc.and_not_kleene(m, dm))
            ev.dmy_only = _count(pc.and_not_kleene(dm, m))
            ev.ambiguous_dates = _count(pc.and_not_kleene(pc.and_kleene(m, dm), d["same"]))
        return ev

    def first_evidence(self, kind: str) -> int | None:
        """Index (in the batch) of the first value only one reading reads, for ``kind``
        "point", "comma", "mdy" or "dmy"."""
        if kind in ("point", "comma"):
            if self.numbers is None:
                return None
            mine = self.numbers[kind]
            other = self.numbers["comma" if kind == "point" else "point"]
            mask = pc.and_not_kleene(mine, other)
        else:
            if self.dates is None:
                return None
            d = self.dates
            sl = pc.and_kleene(d["ok"], d["slashed"])
            mine = d["mdy_ok" if kind == "mdy" else "dmy_ok"]
            other = d["dmy_ok" if kind == "mdy" else "mdy_ok"]
            mask = pc.and_kleene(sl, pc.and_not_kleene(mine, other))
        idx = pc.indices_nonzero(mask)
        if len(idx) == 0 or self._where is None:
            return None
        return int(self._where[idx[0].as_py()].as_py())

    def shapes(self) -> tuple[set[str], Counter[str], set[str]]:
        """For the column's ``format``: the separators in the numbers' digits, the forms of
        the dates (keys for ``date_pattern``), and how negatives were written."""
        seps: set[str] = set()
        dates: Counter[str] = Counter()
        negatives: set[str] = set()
        if self.numbers is not None:
            nums = self.numbers
            read = pc.or_kleene(nums["point"], nums["comma"])
            bodies = pc.filter(nums["body"], read)
            seps = {
                ch for ch in "," + _GROUPS_COMMA if pc.any(pc.match_substring(bodies, ch)).as_py()
            }
            styles = {
                "parentheses": nums["parens"],
                "trailing_minus": nums["trailing"],
                "minus": pc.and_not_kleene(
                    pc.and_not_kleene(nums["negative"], nums["parens"]), nums["trailing"]
                ),
            }
            negatives = {k for k, m in styles.items() if _count(pc.and_kleene(read, m))}
        if self.dates is not None:
            dates = _counts(pc.filter(self.dates["shape"], self.dates["ok"]))
        return seps, dates, negatives


@functools.cache
def settled_number_re(mark: str, unit: str | None) -> str:
    """Every form a number takes in a column whose decimal mark and unit are settled: a
    pattern without groups, so that RE2's fast engine checks a whole batch at once."""
    body = BODY[mark]
    sign, minus = f"[+{_MINUS}]", f"[{_MINUS}]"
    pre = "" if unit in (None, PERCENT) else rf"(?:{re.escape(str(unit))} ?)"
    post = "" if unit is None else rf"(?: ?{re.escape(unit)})"
    pre_opt, post_opt = (f"{pre}?" if pre else ""), (f"{post}?" if post else "")
    lead = rf"(?:{sign}{pre_opt}|{pre}{sign}?)?" if pre else f"{sign}?"
    trail = rf"(?:{minus}{post_opt}|{post}{minus})" if post else minus
    forms = (
        rf"\({pre_opt}{body}{post_opt}\)",
        rf"{lead}{body}{post_opt}",
        rf"{pre_opt}{body}{trail}",
    )
    return "^(?:" + "|".join(forms) + ")$"


@dataclass
class SettledNumbers:
    """A batch of a settled column's numbers read without extracting groups."""

    text: pa.Array  # the plain form of every value
    separators: set[str]
    negatives: set[str]


def read_settled_numbers(values: pa.Array, mark: str, unit: str | None) -> SettledNumbers | None:
    """The batch read under the column's settled mark and unit, or None if any value is not
    a number in that form (the batch then takes ``Batch``'s general path). A handful of
    whole-batch string kernels instead of one group extraction per value."""
    if (
        len(values) == 0
        or not pc.all(pc.match_substring_regex(values, settled_number_re(mark, unit))).as_py()
    ):
        return None
    negative = pc.match_substring_regex(values, rf"[{_MINUS}]|^\(")
    strip = "()+ " + _MINUS + ("" if unit is None else unit)
    digits = pc.utf8_trim(values, characters=strip)
    separators = set()
    for ch in GROUPS[mark]:
        if pc.any(pc.match_substring(digits, ch)).as_py():
            digits = pc.replace_substring(digits, ch, "")
            separators.add(ch)
    if pc.any(pc.match_substring(digits, mark)).as_py():
        separators.add(mark)
        if mark == COMMA:
            digits = pc.replace_substring(digits, COMMA, POINT)
    negatives = set()
    if pc.any(negative).as_py():
        styles = {
            "parentheses": r"^\(",
            "trailing_minus": rf"[0-9] ?[{_MINUS}]|[{_MINUS}]$",
            "minus": rf"^[^0-9(]*[{_MINUS}]",
        }
        negatives = {
            k for k, p in styles.items() if pc.any(pc.match_substring_regex(values, p)).as_py()
        }
    text = pc.binary_join_element_wise(pc.if_else(negative, "-", ""), digits, "")
    return SettledNumbers(text, separators, negatives)


def settled_date_re(shape: str) -> str | None:
    """The pattern of one day-month-year form (a key of ``Batch.shapes``), or None for the
    forms this fast path leaves to ``Batch`` (year first, month names)."""
    form, rest = shape[0], shape[1:]
    if form != "S" or len(rest) < 2:
        return None
    sep, year = re.escape(rest[0]), rest[1]
    pattern = rf"^[0-9]{{1,2}}{sep}[0-9]{{1,2}}{sep}[0-9]{{{year}}}"
    time = rest[2:]
    if time:
        t = re.escape(time[0])
        pattern += rf"{t}[0-9]{{1,2}}:[0-9]{{2}}"
        if "s" in time:
            pattern += r":[0-9]{2}"
        if time.endswith("p"):
            pattern += (" " if time.endswith(" p") else "") + "[AaPp][Mm]"
    return pattern + "$"


def read_settled_dates(values: pa.Array, shape: str, order: str) -> pa.Array | None:
    """The ISO form of every value when each is a valid date of form ``shape`` (day and
    month in ``order``, or day first for ``DD.MM.YYYY``), else None: the batch then takes
    ``Batch``'s general path, which also says which values are misfits and why. Plain
    splits and casts instead of one group extraction per value."""
    pattern = settled_date_re(shape)
    if pattern is None or len(values) == 0:
        return None
    if not pc.all(pc.match_substring_regex(values, pattern)).as_py():
        return None
    sep, rest = shape[1], shape[3:]
    date, time = values, None
    if rest:
        halves = pc.split_pattern(values, rest[0], max_splits=1)
        date, time = pc.list_element(halves, 0), pc.list_element(halves, 1)
    parts = pc.split_pattern(date, sep)
    a, b = (pc.cast(pc.list_element(parts, i), pa.int32()) for i in (0, 1))
    year_text = pc.list_element(parts, 2)
    year = pc.cast(year_text, pa.int32())
    if shape[2] == "2":
        year = pc.add(year, pc.if_else(pc.less(year, YEAR_PIVOT), 2000, 1900))
    month, day = (a, b) if order == MDY and sep != "." else (b, a)
    ok = pc.and_kleene(_between(month, 1, 12), _between(day, 1, 31))
    iso = pc.binary_join_element_wise(
        pc.utf8_lpad(pc.cast(year, pa.string()), width=4, padding="0"), "-", _pad2(month),
        "-", _pad2(day), "",
    )  # fmt: skip
    if time is not None:
        twelve = rest.endswith("p")
        ampm = pc.utf8_lower(pc.utf8_slice_codeunits(time, -2)) if twelve else None
        clock = pc.utf8_rtrim(time, characters="AaPpMm ") if twelve else time
        fields = pc.split_pattern(clock, ":")
        hour = pc.cast(pc.list_element(fields, 0), pa.int32())
        minute = pc.cast(pc.list_element(fields, 1), pa.int32())
        ok = pc.and_kleene(ok, pc.less_equal(minute, 59))
        seconds = ""
        if "s" in rest:
            sec_text = pc.list_element(fields, 2)
            ok = pc.and_kleene(ok, pc.less_equal(pc.cast(sec_text, pa.int32()), 59))
            seconds = pc.binary_join_element_wise(":", sec_text, "")
        if ampm is not None:
            ok = pc.and_kleene(ok, _between(hour, 1, 12))
            hour = pc.add(pc.if_else(pc.equal(hour, 12), 0, hour),
                          pc.if_else(pc.equal(ampm, "pm"), 12, 0))  # fmt: skip
        else:
            ok = pc.and_kleene(ok, pc.less_equal(hour, 23))
        iso = pc.binary_join_element_wise(
            iso, "T", _pad2(hour), ":", pc.list_element(fields, 1), seconds, ""
        )
    if not pc.all(ok).as_py():
        return None
    return iso


def _extract(values: pa.Array, pattern: str, hit: pa.Array) -> pa.Array | None:
    """``extract_regex`` where ``hit``, null elsewhere; None if nothing hit."""
    if not pc.any(hit).as_py():
        return None
    if pc.all(hit).as_py():
        return pc.extract_regex(values, pattern)
    parts = pc.extract_regex(pc.filter(values, hit), pattern)
    at = pc.subtract(pc.cumulative_sum(pc.cast(hit, pa.int64())), 1)
    return pc.take(parts, pc.if_else(hit, at, pa.scalar(None, pa.int64())))


def _between(x: pa.Array, lo: int, hi: int) -> pa.Array:
    return pc.and_kleene(pc.greater_equal(x, lo), pc.less_equal(x, hi))


def _count(mask: pa.Array) -> int:
    return int(pc.sum(mask).as_py() or 0)


def _counts(values: pa.Array) -> Counter[str]:
    if len(values) == 0:
        return Counter()
    vc = pc.value_counts(values)
    return Counter(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist(),
                            strict=True)))  # fmt: skip


def date_pattern(shape: str, order: str) -> str:
    """A date form's key from ``Batch.shapes`` as a pattern under ``order``:
    ``S/4 hp`` -> ``MM/DD/YYYY hh:mm AM/PM``."""
    form, rest = shape[0], shape[1:]
    sep = rest[0] if rest[:1] in ("/", ".", "-", " ") else ""
    rest = rest[len(sep) :]
    year = "Y" * int(rest[0])
    rest = rest[1:]
    if form == "Y":
        date = "YYYY/MM/DD"
    elif form == "N":
        date = f"D{sep}Mon{sep}{year}"
    else:
        first, second = ("MM", "DD") if order == MDY and sep != "." else ("DD", "MM")
        date = f"{first}{sep}{second}{sep}{year}"
    if "h" not in rest:
        return date
    t = rest[0]
    seconds = ":ss" if "s" in rest else ""
    if rest.endswith("p"):
        gap = " " if rest.endswith(" p") else ""
        return f"{date}{t}hh:mm{seconds}{gap}AM/PM"
    return f"{date}{t}HH:mm{seconds}"


def kind_of(value: str) -> str:
    """ "number", "date", "boolean" or "string" for one non-null value: the plain rules
    of ``csv_types``, then the formatted forms above (under any reading).

    Dates are matched by shape only; typing also checks that the day exists.
    """
    if any(pattern.match(value) for pattern in PLAIN_NUMBER):
        return "number"
    if any(pattern.match(value) for pattern in PLAIN_DATE):
        return "date"
    if value in BOOLEAN_WORDS:
        return "boolean"
    return is_formatted(value) or "string"
