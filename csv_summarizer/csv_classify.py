"""Value classes by the type rules, and the deterministic hash of each value.

``classify`` splits values into integer, leading-zero code, number, boolean, date and
datetime by the patterns in ``csv_types``; ``value_hashes`` gives every value one 64-bit
hash whatever path counted it (a number by its value, a date by its instant, text by crc32).
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from csv_sketches import TAG_NUMBER, TAG_TEXT, TAG_TIME, hash_keys, text_keys
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
)

BOOL_SET = pa.array(TRUE_TOKENS + FALSE_TOKENS)
TRUE_SET = pa.array(TRUE_TOKENS)
TS = pa.timestamp("us")
_TS_UTC = pa.timestamp("us", tz="UTC")


CAST_PROBED_ABOVE = 1024  # values


def cast_or_none(arr: pa.Array, typ: pa.DataType, likely_to_fail: bool = False) -> pa.Array | None:
    """The cast, or None if any value does not convert.

    A failing cast costs far more than one that succeeds (0.9 ms against 45 us for 1,000
    values), so the first value is tried alone first where a failure is likely or the array
    is long: text columns fail there, at almost no cost. Otherwise a short array (a wide
    file's batch) is cast at once: the probe (~26 us) would cost half a cast that succeeds.
    """
    try:
        if likely_to_fail or len(arr) > CAST_PROBED_ABOVE:
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
        f = cast_or_none(values, pa.float64())
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


def to_micros(text: pa.Array) -> pa.Array:
    aware = pc.match_substring_regex(text, AWARE_RE)
    if not pc.any(aware).as_py():
        return pc.cast(pc.cast(text, TS), pa.int64())
    if pc.all(aware).as_py():
        return pc.cast(pc.cast(pc.cast(text, _TS_UTC), TS), pa.int64())
    micros = pc.cast(pc.cast(pc.filter(text, pc.invert(aware)), TS), pa.int64())
    micros_a = pc.cast(pc.cast(pc.cast(pc.filter(text, aware), _TS_UTC), TS), pa.int64())
    order = pa.concat_arrays([pc.indices_nonzero(pc.invert(aware)), pc.indices_nonzero(aware)])
    # indices_nonzero gives uint64; inverse_permutation has kernels for signed indices only.
    order = pc.cast(order, pa.int64())
    return pc.take(pa.concat_arrays([micros, micros_a]), pc.inverse_permutation(order))


def time_hashes(text: pa.Array) -> pa.Array:
    return hash_keys(to_micros(text), pc.binary_length(text), TAG_TIME)
