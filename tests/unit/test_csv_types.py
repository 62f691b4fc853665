"""One set of type rules: the header sniffer and column typing call a value the same kind."""

from __future__ import annotations

import pyarrow as pa
import pytest
from csv_columns import classify
from csv_helpers import col, run
from csv_types import kind_of

VALUES = [
    "0", "12", "-7", "+3", "007", "1.5", ".5", "1e10", "-2.5E-3", "inf", "-Infinity",
    "2026-03-01", "2026-03-01T10:20", "2026-03-01 10:20:30.123Z",
    "true", "True", "TRUE", "t", "yes", "N", "no",
    "tRuE", "yEs", " 12", "12 ", "1,5", "0x1F", "2026-3-1", "NaN", "", "abc",
]  # fmt: skip


def _typing_kind(value: str) -> str:
    masks = classify(pa.array([value]))
    hit = {name for name, mask in masks.items() if mask[0].as_py()}
    if hit & {"integer", "leading_zero", "number"}:
        return "number"
    if hit & {"date", "datetime"}:
        return "date"
    return "boolean" if "boolean" in hit else "string"


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
