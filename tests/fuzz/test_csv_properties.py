"""Hostile input for the CSV core, by property: generated CSVs with exact expectations,
mutated valid files (quotes, delimiters, encodings, NULs, huge fields, gzip), random bytes.

Invariant (fuzz.invariants.check_csv): ``summarize`` returns a summary that is strict JSON
(no NaN/Infinity), validates against summary.schema.json and is self-consistent (every
column summarizes the same rows; rows = summarized + ragged + rows dropped for an oversized
field; counts, ratios, top values, quantiles and examples within their bounds), or raises
CsvRejectedError with a known reason. Nothing else escapes, no example runs past its time
bound, no example's peak RSS grows past its bound. The atheris harness checks the same.
"""

from __future__ import annotations

import gzip
from typing import Any

from hypothesis import currently_in_test_context, event, given
from hypothesis import strategies as st
from summarize import CsvLimits, CsvRejectedError, summarize

from fuzz import mutations
from fuzz.invariants import CSV_LIMITS, bounds, check_csv, check_summary, csv_memory_bound
from fuzz.invariants import ChunkedStream as Stream
from fuzz.seeds import csv_seeds
from tests.fuzz.profiles import HANG_SECONDS, scaled

SEEDS = csv_seeds()
SEED_NAMES = sorted(SEEDS)


def outcome(data: bytes, limits: CsvLimits = CSV_LIMITS) -> str:
    with bounds(HANG_SECONDS, csv_memory_bound(limits, len(data))):
        result = check_csv(data, limits)
    if currently_in_test_context():
        event(result)
    return result


# --------------------------------------------------------------------------- generated CSVs

LATIN = "abcxyz ABC éüßñ-_.:/"
cell_text = st.sampled_from(
    [
        "", " ", "  ", "NA", "null", "-", "nan", "NaN", "inf", "-inf", "Infinity",
        "0", "-0", "007", "1", "-1", "1.5", "-2.25e-3", ".5", "1e308", "1.7e308", "-1.7e308",
        "9007199254740993", "-9999999999999999", "99999999999999999999999", "9" * 400,
        "9" * 4500, "true", "False", "yes", "n", "T",
        "2026-01-31", "2026-02-30", "0000-00-00", "2026-01-31T10:00:00", "2026-01-31 10:00",
        "2026-01-31T10:00:00Z", "2026-01-31T10:00:00+05:30", "2026-01-31T25:00:00",
        "$1,299.00", "-$5", "12,50 €", "EUR 12.50", "(1,234.56)", "12.00-", "45,5 %",
        "1.234,56", "1'234.5", "1\u202f234,56", "\u22127,5", "1,234", "1.234", "((5))",
        "$$5", "1,2,3,4", "9," * 300 + "9", "1" + ",000" * 500 + ".5", "12/31/2024",
        "31/12/2024", "05/06/24", "31.12.2024 23:59:59", "6-May-2024", "12/31/2024 11:05 PM",
        "13/13/2024", "2/30/2024", "12/31/2024 13:00 PM", "1/1/2024" + " PM" * 50,
        'say "hi"', "a,b", "a;b", "a\tb", "a|b", "line\nbreak", "cr\rlf\r\n", "'quoted'",
        "x" * 5000,
    ]
) | st.text(LATIN, max_size=12)  # fmt: skip


@st.composite
def generated_csv(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A well-formed CSV (every special cell quoted) and what its summary must say."""
    width = draw(st.integers(1, 6))
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    terminator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    header = [f"{draw(st.sampled_from(['id', 'name', 'value', 'when', 'col']))}_{i}"
              for i in range(width)]  # fmt: skip
    rows = draw(st.lists(st.lists(cell_text, min_size=width, max_size=width), max_size=25))

    def field(cell: str) -> str:
        special = any(ch in cell for ch in ",;\t|\"'\r\n") or cell != cell.strip()
        return '"' + cell.replace('"', '""') + '"' if special else cell

    lines = [delimiter.join(field(c) for c in r) for r in [header, *rows]]
    text = terminator.join(lines) + (terminator if draw(st.booleans()) else "")
    data = text.encode(encoding, "replace")
    if draw(st.booleans()):
        data = gzip.compress(data, mtime=0)
    expect = {
        "width": width,
        "delimiter": delimiter,
        "records": sum(1 for r in rows if any(r)),  # all-empty records are blank lines
    }
    return data, expect


@scaled(400)
@given(generated_csv())
def test_generated_csvs_are_summarized_exactly(case: tuple[bytes, dict[str, Any]]) -> None:
    data, expect = case
    with bounds(HANG_SECONDS, csv_memory_bound(CSV_LIMITS, len(data))):
        summary = summarize(Stream(data), CSV_LIMITS)  # type: ignore[arg-type]
    check_summary(summary, data, CSV_LIMITS)
    assert summary["column_count"] == expect["width"]
    if expect["width"] > 1:
        assert summary["dialect"]["delimiter"] == expect["delimiter"]
    # The header row is data when the sniffer does not take it for a header.
    header_rows = 0 if summary["dialect"]["header"] else 1
    assert summary["rows"] == expect["records"] + header_rows
    assert summary["issues"]["ragged_rows"]["count"] == 0
    assert summary["issues"]["parse_error"] is None


# --------------------------------------------------------------------------- mutations

positions = st.integers(0, 1 << 16)
csv_mutation = st.one_of(
    st.tuples(st.just("insert"), positions, st.sampled_from(mutations.CSV_TOKENS)),
    st.tuples(
        st.just("pad"), positions, st.sampled_from(b'x9,"\n \x00'), st.sampled_from([10, 5000])
    ),
    st.tuples(st.just("repeat"), positions, st.integers(1, 100), st.integers(2, 50)),
    st.tuples(st.just("reencode"), st.sampled_from(mutations.CSV_CODECS)),
    st.tuples(st.just("flip"), positions, st.integers(0, 7)),
    st.tuples(st.just("delete"), positions, st.integers(1, 32)),
    st.tuples(st.just("truncate"), positions),
    st.tuples(st.just("splice"), st.integers(0, len(SEEDS)), positions, positions),
    st.tuples(st.just("gzip")),
)


@scaled(700)
@given(
    name=st.sampled_from(SEED_NAMES),
    edits=st.lists(csv_mutation, min_size=1, max_size=6),
)
def test_mutated_csvs(name: str, edits: list[mutations.Mutation]) -> None:
    outcome(mutations.apply(SEEDS[name], edits, others=list(SEEDS.values())))


@scaled(300)
@given(
    data=st.one_of(
        st.binary(max_size=2048),
        st.text(max_size=500).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=512).map(lambda b: b"\x1f\x8b\x08\x00" + b),
    )
)
def test_random_bytes_and_text(data: bytes) -> None:
    outcome(data)


@scaled(4)
@given(
    column=st.integers(0, 2),
    filler=st.sampled_from([b"x", b"9", b" ", b'"']),
    quoted=st.booleans(),
)
def test_a_field_past_the_default_limit_is_reported_not_fatal(
    column: int, filler: bytes, quoted: bool
) -> None:
    """Default limits: one field of 1 MiB + 1 byte, in any column, quoted or not."""
    limits = CsvLimits()
    big = filler * (limits.max_field_bytes + 1)
    if quoted or filler == b'"':  # a field of bare quote characters is a quoted field
        big = b'"' + big.replace(b'"', b'""') + b'"'
    cells = [b"1", b"2", b"3"]
    cells[column] = big
    data = b"a,b,c\n1,2,3\n" + b",".join(cells) + b"\n4,5,6\n"
    assert outcome(data, limits) == "ok"
    summary = summarize(Stream(data), limits)  # type: ignore[arg-type]
    assert summary["rows"] == 3
    assert summary["truncated"] is True
    assert summary["issues"]["field_too_large"]["count"] == 1
    assert summary["issues"]["field_too_large"]["first"][0]["line"] == 3


def test_every_seed_is_summarized() -> None:
    for name in SEED_NAMES:
        assert outcome(SEEDS[name]) in ("ok", "rejected:not_text"), name


def test_rejections_are_the_documented_ones() -> None:
    assert outcome(b"") == "rejected:empty"
    assert outcome(b"\x1f\x8b\x08\x00garbage") == "rejected:corrupt_gzip"
    assert outcome(b"%PDF-1.7\n") == "rejected:not_text"
    try:
        summarize(Stream(b"\xff\xfe\x00\xd8"), CSV_LIMITS)  # type: ignore[arg-type]
    except CsvRejectedError as error:
        assert error.reason in ("undecodable", "empty")
