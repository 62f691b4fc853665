"""Exports written for people, through `python -m local_pipeline run` with the defaults: every
formatted form of docs/CSV.md (money, percent, regional marks, accounting negatives, US and
European dates) is typed, with numeric or ISO min and max."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cli import local_pipeline

US = """\
amount,price,eur,pct,pct_eu,acct,us_date,de_date,stamp
"1,234.56","$1,299.00","12,50 €",45.5%,"45,5 %",(12.00),12/31/2024,31.12.2024,12/31/2024 11:05 PM
"23,999.00",$5.00,"3,00 €",3%,"3 %","(1,500.25)",01/02/2024,01.02.2024,01/02/2024 09:00 AM
999.99,"$12,000.50","1.250,00 €",100%,"100 %",7.50,06/15/2023,15.06.2023,06/15/2023 12:30 AM
"""
GERMAN = """\
Konto;Betrag
1;1.234,56
2;2.000,00
3;-17,25
"""
EXPECTED = {
    "amount": ("number", 999.99, 23999.0),
    "price": ("number", 5.0, 12000.5),
    "eur": ("number", 3.0, 1250.0),
    "pct": ("number", 3.0, 100.0),
    "pct_eu": ("number", 3.0, 100.0),
    "acct": ("number", -1500.25, 7.5),
    "us_date": ("date", "2023-06-15", "2024-12-31"),
    "de_date": ("date", "2023-06-15", "2024-12-31"),
    "stamp": ("datetime", "2023-06-15T00:30:00", "2024-12-31T23:05:00"),
}


@pytest.fixture(scope="module")
def summaries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    inputs = tmp_path_factory.mktemp("exports")
    out = tmp_path_factory.mktemp("out")
    (inputs / "us.csv").write_text(US, encoding="utf-8")
    (inputs / "german.csv").write_text(GERMAN, encoding="utf-8")
    completed = local_pipeline("run", str(inputs), "--out", str(out), timeout=180)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    found: dict[str, Path] = {p.name: p for p in out.rglob("*.csv.json")}
    return {name: json.loads(found[f"{name}.csv.json"].read_text()) for name in ("us", "german")}


def by_name(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in summary["columns"]}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_formatted_form_is_typed_with_its_values(
    summaries: dict[str, dict[str, Any]], name: str
) -> None:
    c = by_name(summaries["us"])[name]
    assert (c["type"], c["min"], c["max"]) == EXPECTED[name]
    assert c["misfits"]["count"] == 0
    assert c["format"] is not None


def test_the_column_says_how_it_was_read(summaries: dict[str, dict[str, Any]]) -> None:
    cols = by_name(summaries["us"])
    assert (cols["eur"]["format"]["decimal_mark"], cols["eur"]["format"]["currency"]) == (",", "€")
    assert cols["pct_eu"]["format"]["unit"] == "percent"
    assert cols["acct"]["format"]["negative"] == ["parentheses"]
    assert cols["de_date"]["format"]["date_order"] == "DMY"
    assert cols["stamp"]["format"]["patterns"] == ["MM/DD/YYYY hh:mm AM/PM"]


def test_a_german_export_reads_two_thousand_as_two_thousand(
    summaries: dict[str, dict[str, Any]],
) -> None:
    betrag = by_name(summaries["german"])["Betrag"]
    assert (betrag["type"], betrag["min"], betrag["max"]) == ("number", -17.25, 2000.0)
    assert betrag["sum"] == pytest.approx(3217.31)
