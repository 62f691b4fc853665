"""The blank-line state machine on its own (csv_blank_lines.BlankLines).

Each run of empty lines outside quoted values becomes one marker line that says how many
lines it stands for; everything else passes through unchanged, however the stream is
split into reads. The quote rules are pyarrow's: a quote opens a quoted value only at the
start of a field, is doubled inside one, and is literal after the closing quote.
"""

from __future__ import annotations

import itertools
import re

import pytest
from csv_blank_lines import BlankLines
from hypothesis import given, settings
from hypothesis import strategies as st


def scan_all(
    data: bytes, cuts: list[int] | tuple[int, ...] = (), delimiter: str = ",", quote: str = '"'
) -> tuple[bytes, int]:
    """The machine's output for ``data`` read in pieces split at ``cuts``, markers shown as
    ``<k>``, and its state after the last piece."""
    machine = BlankLines(delimiter, quote)
    bounds = [0, *sorted(set(c for c in cuts if 0 < c < len(data))), len(data)]
    out = b"".join(machine.scan(data[a:b]) for a, b in itertools.pairwise(bounds))
    shown = re.sub(re.escape(machine.marker) + rb"(\d+)\n", rb"<\1>", out)
    return shown, machine.state


def expand(shown: bytes) -> bytes:
    """Undo the markers, for input whose line breaks are all \\n."""
    return re.sub(rb"<(\d+)>", lambda m: b"\n" * int(m.group(1)), shown)


def reference_blank_lines(data: bytes, delimiter: bytes = b",", quote: bytes = b'"') -> int:
    """Empty lines outside quoted values, byte by byte (\\n line breaks only)."""
    blank, at_line_start, at_field_start, quoted, after_quote = 0, True, True, False, False
    for byte in (data[i : i + 1] for i in range(len(data))):
        if quoted:
            if after_quote:  # the byte after a quote inside a quoted value
                after_quote = False
                if byte == quote:
                    continue  # a doubled quote: still inside
                quoted = False  # the quote before it closed the value
            elif byte == quote:
                after_quote = True
                continue
            else:
                continue
        if byte == b"\n":
            blank += at_line_start
            at_line_start = at_field_start = True
            continue
        if byte == quote and at_field_start:
            quoted = True
        at_line_start = False
        at_field_start = byte == delimiter
    return blank


def test_a_run_of_empty_lines_becomes_one_marker_line():
    assert scan_all(b"a,b\n\n\n\nc,d\n") == (b"a,b\n<3>c,d\n", BlankLines.LS)


def test_leading_empty_lines_are_a_run_too():
    assert scan_all(b"\n\na,b\n")[0] == b"<2>a,b\n"


def test_empty_lines_inside_a_quoted_value_are_data():
    data = b'a,"x\n\n\ny"\nc,d\n'
    assert scan_all(data)[0] == data


def test_a_quote_inside_an_unquoted_field_is_literal():
    assert scan_all(b'a,b"c\n\n\nd,e\n')[0] == b'a,b"c\n<2>d,e\n'


def test_a_doubled_quote_stays_inside_the_quoted_value():
    data = b'a,"say ""hi""\n\nnow"\n\nb,c\n'
    assert scan_all(data)[0] == b'a,"say ""hi""\n\nnow"\n<1>b,c\n'


def test_an_empty_quoted_value_closes_at_once():
    assert scan_all(b'a,""\n\nb,c\n')[0] == b'a,""\n<1>b,c\n'


def test_crlf_runs_count_lines_not_bytes():
    assert scan_all(b"a,b\r\n\r\n\r\nc,d\r\n")[0] == b"a,b\r\n<2>c,d\r\n"


@pytest.mark.parametrize("cut", range(1, len(b"a,b\r\n\r\n\r\nc,d\r\n")))
def test_a_crlf_split_between_reads_is_one_line_break(cut):
    data = b"a,b\r\n\r\n\r\nc,d\r\n"
    shown, _ = scan_all(data, [cut])
    assert re.sub(rb"<(\d+)>", lambda m: b"\r\n" * int(m.group(1)), shown) == data


@pytest.mark.parametrize(
    ("data", "state"),
    [
        (b"a,b\n", BlankLines.LS),
        (b"a,", BlankLines.FS),
        (b"a,b", BlankLines.UNQ),
        (b'a,"b', BlankLines.Q),
        (b'a,"b"', BlankLines.QQ),
    ],
)
def test_the_state_after_a_read_is_where_the_next_read_starts(data, state):
    assert scan_all(data)[1] == state


def test_the_state_carries_a_quoted_value_across_reads():
    machine = BlankLines(",", '"')
    assert machine.scan(b'a,"open\n') == b'a,"open\n'
    assert machine.scan(b"\n\nstill inside") == b"\n\nstill inside"
    assert machine.scan(b'"\n\n\nb,c\n') == b'"\n' + machine.marker + b"2\nb,c\n"


def test_the_marker_is_no_value_a_file_could_hold_by_chance():
    first, second = BlankLines(",", '"').marker, BlankLines(",", '"').marker
    assert first != second and first.startswith(b"~blank-")


def test_other_delimiters_and_quotes():
    assert scan_all(b"a;'x\n\ny'\n\n\nb;c\n", delimiter=";", quote="'")[0] == (
        b"a;'x\n\ny'\n<2>b;c\n"
    )


# Every byte the machine treats apart: a value byte, the delimiter, the quote, a line break.
CSVISH = st.lists(st.sampled_from([b"a", b",", b'"', b"\n"]), max_size=60).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(data=CSVISH, cuts=st.lists(st.integers(min_value=1, max_value=59), max_size=6))
def test_any_split_into_reads_keeps_every_byte_and_counts_the_reference_blank_lines(data, cuts):
    shown, _ = scan_all(data, cuts)
    assert expand(shown) == data
    counted = sum(int(k) for k in re.findall(rb"<(\d+)>", shown))
    assert counted == reference_blank_lines(data)
