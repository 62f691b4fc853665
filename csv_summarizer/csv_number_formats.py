"""Numbers as people write them (``$1,299.00``, ``12,50 €``, ``(12.00)``, ``45.5%``,
``1.234,56``), and how to read them under a decimal mark.

``parse_numbers`` parses a batch's candidates once (``csv_formats.Batch`` calls it);
``plain_numbers`` gives their plain form under one mark. ``read_settled_numbers`` reads a
batch of a column whose mark and unit are settled without extracting groups. The patterns
follow the rules in ``csv_formats``' docstring (the subset ``re`` and RE2 read alike).
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
from csv_format_kernels import count_values, extract_where

POINT = "."
COMMA = ","
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
CURRENCY_RE = r"[$€£¥₹₩₽₺₪₫฿₱₦]|[A-Z]{1,2}\$|kr|[A-Z]{3}"
UNITS = frozenset((*_SYMBOLS, *_CODES, "%"))
MINUS = "\u2212-"  # the minus sign and hyphen-minus (last: literal in a class)

# Signs may stand in four places (sign1 to sign4, in order), a unit before or after.
NUMBER_RE = (
    rf"^(?P<open>\()?(?P<sign1>[+{MINUS}]?)(?P<unit1>(?:{CURRENCY_RE}) ?)?"
    rf"(?P<sign2>[+{MINUS}]?)(?P<body>[0-9](?:[0-9.,{_GROUPS_POINT}]*[0-9])?)"
    rf"(?P<sign3>[{MINUS}]?)(?P<unit2> ?(?:{CURRENCY_RE}|%))?(?P<sign4>[{MINUS}]?)(?P<close>\))?$"
)
_NUMBER_PARTS = ("open", "sign1", "unit1", "sign2", "body", "sign3", "unit2", "sign4", "close")


def _body_re(groups: str, mark: str) -> str:
    grouped = "|".join(rf"[1-9][0-9]{{0,2}}(?:{re.escape(group)}[0-9]{{3}})+" for group in groups)
    return rf"(?:0|[1-9][0-9]*|{grouped})(?:{re.escape(mark)}[0-9]+)?"


GROUPS = {POINT: _GROUPS_POINT, COMMA: _GROUPS_COMMA}
BODY = {mark: _body_re(groups, mark) for mark, groups in GROUPS.items()}
BODY_RE = {mark: f"^{body}$" for mark, body in BODY.items()}
# Every character that separates a number's digits, for the column's ``format``.
SEPARATORS = "," + _GROUPS_COMMA

_NUMBER = re.compile(NUMBER_RE)
_BODY = {mark: re.compile(pattern) for mark, pattern in BODY_RE.items()}
_UNIT_SET = pa.array(sorted(UNITS))


def is_formatted_number(value: str) -> bool:
    """Whether one reading or the other reads ``value`` as a number (for the sniffer)."""
    match = _NUMBER.match(value)
    if not match or not _signs_ok(*(match.group(name) for name in _NUMBER_PARTS)):
        return False
    body = match.group("body")
    return any(pattern.match(body) for pattern in _BODY.values())


def _signs_ok(*parts: str | None) -> bool:
    opened, sign1, unit1, sign2, _body, sign3, unit2, sign4, closed = (part or "" for part in parts)
    signs = [sign for sign in (sign1, sign2, sign3, sign4) if sign]
    return (
        opened == ("(" if closed else "")
        and len(signs) + bool(opened) <= 1
        and not (unit1 and unit2)
        and not (opened and "+" in "".join(signs))
        and (unit1 + unit2).strip() in UNITS | {""}
    )


@dataclass(frozen=True)
class ParsedNumbers:
    """A batch's numbers, parsed once: one mask or text per candidate value."""

    text: pa.Array  # the values as written
    point: pa.Array  # read under a decimal point
    comma: pa.Array  # read under a decimal comma
    body: pa.Array  # the digits and their separators, without sign or unit
    marked: pa.Array  # a point or a comma in the body: reads differently under the two marks
    negative: pa.Array
    parentheses: pa.Array  # negative written (12.00)
    trailing_minus: pa.Array  # negative written 12.00-
    unit: str | None  # the column's unit: the settled one, else this batch's most common
    units: Counter[str] = field(default_factory=Counter)  # every unit seen, counted


def parse_numbers(values: pa.Array, hit: pa.Array, unit: str | None) -> ParsedNumbers | None:
    """The numbers among ``values`` (where ``hit``, the pattern matched), or None if
    neither mark reads any. ``unit`` is the column's settled unit, if any: a value in
    another unit is never read, so that two currencies are not summed together."""
    parts = extract_where(values, NUMBER_RE, hit)
    if parts is None:
        return None
    part = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in _NUMBER_PARTS}
    opened = pc.not_equal(part["open"], "")
    signs = pc.cast(opened, pa.int8())
    for name in ("sign1", "sign2", "sign3", "sign4"):
        signs = pc.add(signs, pc.cast(pc.not_equal(part[name], ""), pa.int8()))
    plus = pc.or_kleene(pc.equal(part["sign1"], "+"), pc.equal(part["sign2"], "+"))
    value_unit = pc.utf8_trim_whitespace(
        pc.binary_join_element_wise(part["unit1"], part["unit2"], "")
    )
    has_unit = pc.not_equal(value_unit, "")
    ok = pc.and_kleene(hit, pc.equal(opened, pc.not_equal(part["close"], "")))
    ok = pc.and_kleene(ok, pc.less_equal(signs, 1))
    ok = pc.and_kleene(ok, pc.invert(pc.and_kleene(opened, plus)))
    ok = pc.and_kleene(ok, pc.invert(pc.and_kleene(pc.not_equal(part["unit1"], ""),
                                                   pc.not_equal(part["unit2"], ""))))  # fmt: skip
    ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(has_unit),
                                        pc.is_in(value_unit, value_set=_UNIT_SET)))  # fmt: skip
    ok = pc.fill_null(ok, False)
    units: Counter[str] = Counter()
    if pc.any(pc.and_kleene(ok, has_unit)).as_py():
        units = count_values(pc.filter(value_unit, pc.and_kleene(ok, has_unit)))
        if unit is None:
            unit = units.most_common(1)[0][0]
        ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(has_unit), pc.equal(value_unit, unit)))
    body = part["body"]
    point = pc.fill_null(pc.and_kleene(ok, pc.match_substring_regex(body, BODY_RE[POINT])), False)
    comma = pc.fill_null(pc.and_kleene(ok, pc.match_substring_regex(body, BODY_RE[COMMA])), False)
    if not (pc.any(point).as_py() or pc.any(comma).as_py()):
        return None
    trailing = pc.or_kleene(pc.not_equal(part["sign3"], ""), pc.not_equal(part["sign4"], ""))
    minus = pc.match_substring_regex(
        pc.binary_join_element_wise(part["sign1"], part["sign2"], part["sign3"], part["sign4"],
                                    ""), f"[{MINUS}]"
    )  # fmt: skip
    return ParsedNumbers(
        text=values,
        point=point,
        comma=comma,
        body=body,
        marked=pc.or_kleene(pc.match_substring(body, "."), pc.match_substring(body, ",")),
        negative=pc.or_kleene(minus, opened),
        parentheses=opened,
        trailing_minus=trailing,
        unit=unit,
        units=units,
    )


def plain_numbers(numbers: ParsedNumbers, mark: str) -> pa.Array:
    """The plain form of every parsed number under decimal mark ``mark``."""
    digits = numbers.body
    for group in _GROUPS_POINT if mark == POINT else _GROUPS_COMMA:
        if pc.any(pc.match_substring(digits, group)).as_py():
            digits = pc.replace_substring(digits, group, "")
    if mark == COMMA:
        digits = pc.replace_substring(digits, ",", ".")
    sign = pc.if_else(numbers.negative, "-", "")
    return pc.binary_join_element_wise(sign, digits, "")


@functools.cache
def settled_number_re(mark: str, unit: str | None) -> str:
    """Every form a number takes in a column whose decimal mark and unit are settled: a
    pattern without groups, so that RE2's fast engine checks a whole batch at once."""
    body = BODY[mark]
    sign, minus = f"[+{MINUS}]", f"[{MINUS}]"
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
    negative = pc.match_substring_regex(values, rf"[{MINUS}]|^\(")
    strip = "()+ " + MINUS + ("" if unit is None else unit)
    digits = pc.utf8_trim(values, characters=strip)
    separators = set()
    for char in GROUPS[mark]:
        if pc.any(pc.match_substring(digits, char)).as_py():
            digits = pc.replace_substring(digits, char, "")
            separators.add(char)
    if pc.any(pc.match_substring(digits, mark)).as_py():
        separators.add(mark)
        if mark == COMMA:
            digits = pc.replace_substring(digits, COMMA, POINT)
    negatives = set()
    if pc.any(negative).as_py():
        styles = {
            "parentheses": r"^\(",
            "trailing_minus": rf"[0-9] ?[{MINUS}]|[{MINUS}]$",
            "minus": rf"^[^0-9(]*[{MINUS}]",
        }
        negatives = {
            style
            for style, pattern in styles.items()
            if pc.any(pc.match_substring_regex(values, pattern)).as_py()
        }
    text = pc.binary_join_element_wise(pc.if_else(negative, "-", ""), digits, "")
    return SettledNumbers(text, separators, negatives)
