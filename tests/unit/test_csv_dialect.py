"""The dialect sniffer on its own (csv_dialect.sniff_dialect): delimiter, quote character,
line terminator, header and column names, from the first bytes of a CSV as text."""

from __future__ import annotations

import pytest
from csv_dialect import DELIMITERS, sniff_dialect
from csv_errors import CsvRejectedError

NULLS = frozenset({"", "NA", "null"})


def sniff(text: str, at_eof: bool = True):
    return sniff_dialect(text, at_eof, NULLS)


@pytest.mark.parametrize("delimiter", DELIMITERS)
def test_each_delimiter_is_found(delimiter):
    text = delimiter.join(["id", "name", "city"]) + "\n" + delimiter.join(["1", "ann", "oslo"])
    dialect = sniff(text + "\n")
    assert dialect.delimiter == delimiter
    assert dialect.names == ["id", "name", "city"]


def test_the_delimiter_that_splits_records_evenly_wins():
    # Commas inside the note would give ragged records; semicolons split every one in two.
    dialect = sniff("id;note\n1;a, b and c\n2;d\n3;e, f\n")
    assert (dialect.delimiter, dialect.names) == (";", ["id", "note"])


def test_a_delimiter_absent_from_the_text_falls_back_to_comma():
    dialect = sniff("one column\nann\nbob\n")
    assert (dialect.delimiter, dialect.quotechar, dialect.names) == (",", '"', ["one column"])


def test_a_quoted_delimiter_is_part_of_the_value():
    dialect = sniff('"x,y",z\n1,2\n')
    assert dialect.names == ["x,y", "z"]


def test_single_quotes_win_only_where_double_quotes_would_split_records_unevenly():
    assert sniff("'a,b',c\n1,2\n").quotechar == "'"
    assert sniff("'x',y\n'1',2\n").quotechar == '"'  # the same records either way
    assert sniff("'a,b',\"c\"\n1,2\n").quotechar == '"'  # never when double quotes appear


@pytest.mark.parametrize(
    ("text", "terminator"),
    [("a,b\n1,2\n", "\n"), ("a,b\r\n1,2\r\n", "\r\n"), ("a,b\r1,2\r", "\r"), ("a,b", "\n")],
)
def test_the_line_terminator_is_the_most_common_one(text, terminator):
    assert sniff(text).line_terminator == terminator


def test_a_header_is_text_over_columns_of_another_kind():
    dialect = sniff("id,amount\n1,2.5\n2,3.5\n")
    assert dialect.header and dialect.header_names == ["id", "amount"]
    assert dialect.skip_lines == 1 and dialect.header_field_count == 2


def test_a_first_row_like_the_rows_below_is_data():
    dialect = sniff("1,2.5\n2,3.5\n")
    assert not dialect.header
    assert dialect.names == ["column_1", "column_2"]
    assert dialect.skip_lines == 0 and dialect.header_field_count is None


def test_text_columns_have_a_header_unless_a_first_row_value_recurs_below_it():
    assert sniff("name,city\nann,oslo\nbob,rome\n").header
    assert not sniff("ann,oslo\nann,rome\nbob,paris\n").header


def test_a_lone_record_is_a_header():
    dialect = sniff("a,b\n")
    assert dialect.header and dialect.names == ["a", "b"]


def test_leading_blank_lines_are_skipped_with_the_header():
    dialect = sniff("\n\na,b\n1,2\n")
    assert dialect.header and dialect.skip_lines == 3


def test_duplicate_and_blank_header_names_are_made_unique_and_reported():
    dialect = sniff("a,a,\n1,2,3\n")
    assert dialect.header_names == ["a", "a", ""]
    assert dialect.names == ["a", "a_2", "column_3"]
    assert dialect.duplicate_headers == [{"name": "a", "positions": [1, 2]}]
    assert dialect.blank_headers == [3]


def test_a_header_narrower_than_its_rows_is_padded_to_their_width():
    dialect = sniff("a,b\n1,2,3\n4,5,6\n7,8,9\n")
    assert dialect.header_names == ["a", "b", ""]
    assert dialect.names == ["a", "b", "column_3"]
    assert dialect.header_field_count == 2


def test_before_the_end_of_the_file_an_incomplete_last_line_is_left_out():
    # The sample ends mid-record: its three fields so far say nothing of the width.
    assert sniff("a,b\n1,2,3", at_eof=False).header_names == ["a", "b"]
    assert sniff("a,b\n1,2,3", at_eof=True).header_names == ["a", "b", ""]


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n \r\n"])
def test_only_blank_lines_are_rejected_as_empty(text):
    with pytest.raises(CsvRejectedError) as rejected:
        sniff(text)
    assert rejected.value.reason == "empty"
