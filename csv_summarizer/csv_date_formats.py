"""Dates and datetimes as people write them (``31.12.2024``, ``12/31/2024 11:05 PM``,
``6-May-2024``, ``2024/05/06``), and how to read them under a day/month order.

``parse_dates`` parses a batch's candidates once (``csv_formats.Batch`` calls it);
``iso_dates`` gives their ISO form under one order. ``read_settled_dates`` reads a batch of a
column whose one form and order are settled with plain splits. ``date_pattern`` names a
form for the column's ``format``. The patterns follow the rules in ``csv_formats``'
docstring (the subset ``re`` and RE2 read alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
from csv_format_kernels import extract_where

MDY = "MDY"
DMY = "DMY"
YMD = "YMD"  # reported only: year first reads one way

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
# Three forms: year first (2024/05/06), two numbers and a year (31.12.2024, 12/31/24) and a
# named month (6-May-2024); then an optional time of day.
DATE_RE = (
    r"^(?:(?P<ymd_year>[0-9]{4})/(?P<ymd_month>[0-9]{1,2})/(?P<ymd_day>[0-9]{1,2})"
    r"|(?P<first>[0-9]{1,2})(?P<sep1>[/.-])(?P<second>[0-9]{1,2})(?P<sep2>[/.-])"
    r"(?P<numeric_year>[0-9]{4}|[0-9]{2})"
    r"|(?P<named_day>[0-9]{1,2})(?P<sep3>[- ])(?P<month_name>[A-Za-z]{3})(?P<sep4>[- ])"
    r"(?P<named_year>[0-9]{4}|[0-9]{2}))"
    r"(?:(?P<time_sep>[T ])(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{2})(?::(?P<seconds>[0-9]{2}))?"
    r"(?:(?P<ampm_gap> ?)(?P<ampm>[AaPp][Mm]))?)?$"
)
_DATE_PARTS = ("ymd_year", "ymd_month", "ymd_day", "first", "sep1", "second", "sep2",
               "numeric_year", "named_day", "sep3", "month_name", "sep4", "named_year",
               "time_sep", "hour", "minute", "seconds", "ampm_gap", "ampm")  # fmt: skip
# Two-digit years: 00-68 are 2000-2068, 69-99 are 1969-1999 (the POSIX strptime rule).
YEAR_PIVOT = 69

_DATE = re.compile(DATE_RE)
_MONTH_SET = pa.array(_MONTHS)


def is_formatted_date(value: str) -> bool:
    """Whether ``value`` has the shape of a date one order or the other reads (for the
    sniffer; the day is not checked)."""
    match = _DATE.match(value)
    if not match:
        return False
    if match.group("first") is not None:
        return match.group("sep1") == match.group("sep2")
    if match.group("month_name") is not None:
        return (
            match.group("sep3") == match.group("sep4")
            and match.group("month_name").lower() in _MONTHS
        )
    return True


def _ints(text: pa.Array) -> pa.Array:
    return pc.cast(pc.if_else(pc.equal(text, ""), None, text), pa.int32())


def _pad2(ints: pa.Array) -> pa.Array:
    return pc.utf8_lpad(pc.cast(ints, pa.string()), width=2, padding="0")


def _between(values: pa.Array, low: int, high: int) -> pa.Array:
    return pc.and_kleene(pc.greater_equal(values, low), pc.less_equal(values, high))


@dataclass(frozen=True)
class ParsedDates:
    """A batch's dates, parsed once: one mask, number or text per candidate value."""

    ok: pa.Array  # a date of a valid form, with a valid time of day
    slashed: pa.Array  # two numbers and a year, not dotted: the order is a question
    dotted: pa.Array  # 31.12.2024: day first whatever the order
    mdy_ok: pa.Array  # the two numbers read month first
    dmy_ok: pa.Array  # the two numbers read day first
    same: pa.Array  # the two numbers are equal: both orders read one date
    year: pa.Array  # two-digit years expanded (24 is 2024), as text
    first: pa.Array  # the first of the two numbers
    second: pa.Array  # the second of the two numbers
    ymd_month: pa.Array
    ymd_day: pa.Array
    month_number: pa.Array  # of a named month
    named_day: pa.Array
    time: pa.Array  # "T" and the 24-hour time, or ""
    shape: pa.Array  # the form: a key for ``date_pattern``


def parse_dates(values: pa.Array, hit: pa.Array) -> ParsedDates | None:
    """The dates among ``values`` (where ``hit``, the pattern matched), or None if none is
    a valid date."""
    parts = extract_where(values, DATE_RE, hit)
    if parts is None:
        return None
    part = {name: pc.fill_null(pc.struct_field(parts, name), "") for name in _DATE_PARTS}
    slashed = pc.not_equal(part["first"], "")
    named = pc.not_equal(part["month_name"], "")
    month_number = pc.add(pc.index_in(pc.utf8_lower(part["month_name"]), value_set=_MONTH_SET), 1)
    ok = pc.and_kleene(hit, pc.or_kleene(pc.invert(slashed),
                                         pc.equal(part["sep1"], part["sep2"])))  # fmt: skip
    ok = pc.and_kleene(ok, pc.or_kleene(pc.invert(named), pc.and_kleene(
        pc.equal(part["sep3"], part["sep4"]), pc.is_valid(month_number))))  # fmt: skip
    year_text = pc.binary_join_element_wise(
        part["ymd_year"], part["numeric_year"], part["named_year"], ""
    )
    year = _ints(year_text)
    short = pc.equal(pc.utf8_length(year_text), 2)
    year = pc.if_else(short, pc.add(year, pc.if_else(pc.less(year, YEAR_PIVOT), 2000, 1900)), year)
    first, second = _ints(part["first"]), _ints(part["second"])
    # Time of day: 1-12 with AM/PM, else 0-23.
    has_time = pc.not_equal(part["hour"], "")
    hour, minute = _ints(part["hour"]), _ints(part["minute"])
    ampm = pc.utf8_lower(part["ampm"])
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
    has_seconds = pc.not_equal(part["seconds"], "")
    seconds_text = pc.if_else(
        has_seconds, pc.binary_join_element_wise(":", part["seconds"], ""), ""
    )
    time_ok = pc.or_kleene(
        pc.invert(has_time),
        pc.and_kleene(pc.and_kleene(hour_ok, pc.less_equal(minute, 59)),
                      pc.or_kleene(pc.invert(has_seconds),
                                   pc.less_equal(_ints(part["seconds"]), 59))),
    )  # fmt: skip
    ok = pc.fill_null(pc.and_kleene(ok, time_ok), False)
    if not pc.any(ok).as_py():
        return None
    time_text = pc.if_else(
        has_time,
        pc.binary_join_element_wise("T", _pad2(hour24), ":", part["minute"], seconds_text, ""),
        "",
    )
    in_range = _between(first, 1, 31)
    # The form, for the column's ``patterns``: what ``date_pattern`` turns into text.
    form = pc.if_else(pc.not_equal(part["ymd_year"], ""), "Y", pc.if_else(named, "N", "S"))
    shape = pc.binary_join_element_wise(
        form, part["sep1"], part["sep3"], pc.cast(pc.utf8_length(year_text), pa.string()),
        part["time_sep"], pc.if_else(has_time, "h", ""), pc.if_else(has_seconds, "s", ""),
        part["ampm_gap"], pc.if_else(twelve, "p", ""), "",
    )  # fmt: skip
    return ParsedDates(
        ok=ok,
        slashed=pc.fill_null(pc.and_kleene(slashed, pc.not_equal(part["sep1"], ".")), False),
        dotted=pc.fill_null(pc.equal(part["sep1"], "."), False),
        mdy_ok=pc.fill_null(pc.and_kleene(_between(first, 1, 12), _between(second, 1, 31)), False),
        dmy_ok=pc.fill_null(pc.and_kleene(_between(second, 1, 12), in_range), False),
        same=pc.fill_null(pc.equal(first, second), False),
        year=pc.cast(year, pa.string()),
        first=first,
        second=second,
        ymd_month=_ints(part["ymd_month"]),
        ymd_day=_ints(part["ymd_day"]),
        month_number=month_number,
        named_day=_ints(part["named_day"]),
        time=time_text,
        shape=shape,
    )


def iso_dates(dates: ParsedDates, order: str) -> pa.Array:
    """The ISO form of every parsed date under ``order``; null where not a date."""
    first_is_month = pc.and_kleene(pa.scalar(order == MDY), pc.invert(dates.dotted))
    month = pc.coalesce(
        dates.ymd_month,
        pc.cast(dates.month_number, pa.int32()),
        pc.if_else(first_is_month, dates.first, dates.second),
    )
    day = pc.coalesce(
        dates.ymd_day, dates.named_day, pc.if_else(first_is_month, dates.second, dates.first)
    )
    valid = pc.and_kleene(dates.ok, pc.and_kleene(_between(month, 1, 12), _between(day, 1, 31)))
    iso = pc.binary_join_element_wise(
        pc.utf8_lpad(dates.year, width=4, padding="0"), "-", _pad2(month), "-", _pad2(day),
        dates.time, "",
    )  # fmt: skip
    return pc.if_else(pc.fill_null(valid, False), iso, None)


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
        time_sep = re.escape(time[0])
        pattern += rf"{time_sep}[0-9]{{1,2}}:[0-9]{{2}}"
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
    first, second = (pc.cast(pc.list_element(parts, index), pa.int32()) for index in (0, 1))
    year_text = pc.list_element(parts, 2)
    year = pc.cast(year_text, pa.int32())
    if shape[2] == "2":
        year = pc.add(year, pc.if_else(pc.less(year, YEAR_PIVOT), 2000, 1900))
    month, day = (first, second) if order == MDY and sep != "." else (second, first)
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
    time_sep = rest[0]
    seconds = ":ss" if "s" in rest else ""
    if rest.endswith("p"):
        gap = " " if rest.endswith(" p") else ""
        return f"{date}{time_sep}hh:mm{seconds}{gap}AM/PM"
    return f"{date}{time_sep}HH:mm{seconds}"
