"""One set of type rules: the header sniffer and column typing call a value the same kind."""

from __future__ import annotations

import pyarrow as pa
import pytest
from csv_classify import classify
from csv_formats import Batch, kind_of
from csv_helpers import col, run

VALUES = [
    "0", "12", "-7", "+3", "007", "1.5", ".5", "1e10", "-2.5E-3", "inf", "-Infinity",
    "2026-03-01", "2026-03-01T10:20", "2026-03-01 10:20:30.123Z",
    "true", "True", "TRUE", "t", "yes", "N", "no",
    "tRuE", "yEs", " 12", "12 ", "1,5", "0x1F", "2026-3-1", "NaN", "", "abc",
    "$1,299.00", "12,50 €", "(12.00)", "(12.00", "12.00)", "45,5 %", "1.234,56", "1'234.5",
    "-$5", "$-5", "--5", "$5$", "€ 5 EUR", "1,2,3", "1,23,456", "5-", "(-5)", "+(5)",
    "31.12.2024", "12/31/2024 11:05 PM", "6-May-2024", "6-Mai-2024", "2024/05/06",
    "12/31-2024", "1/2/24", "13/13/2024", "12/31/2024 11:05",
]  # fmt: skip


def _typing_kind(value: str) -> str:
    masks = classify(pa.array([value]))
    hit = {name for name, mask in masks.items() if mask[0].as_py()}
    if hit & {"integer", "leading_zero", "number"}:
        return "number"
    if hit & {"date", "datetime"}:
        return "date"
    if "boolean" in hit:
        return "boolean"
    batch = Batch(pa.array([value]))
    if batch.has_formatted():
        return "date" if batch.dates is not None else "number"
    return "string"


@pytest.mark.parametrize("value", VALUES)
def test_the_sniffer_and_typing_agree(value):
    assert kind_of(value) == _typing_kind(value)


def test_values_are_matched_as_written():
    assert [kind_of(v) for v in ("True", "tRuE", "12", " 12")] == [
        "boolean",
        "string",
        "number",
        "string",
    ]


def test_a_mixed_case_word_is_a_misfit_in_a_boolean_column():
    rows = [f"{'true' if i % 2 else 'false'},{i}" for i in range(199)]
    s = run("flag,n\n" + "\n".join(["tRuE,199", *rows]) + "\n")
    flag = col(s, "flag")
    assert flag["type"] == "boolean"  # 199 of 200 fit, within the 1% misfit tolerance
    assert flag["misfits"]["count"] == 1
    assert (flag["misfits"]["examples"], flag["misfits"]["first_lines"]) == (["tRuE"], [2])
