"""Exports as people write them: money, percentages, regional numbers and dates.

Each file is a small export of the kind spreadsheets, accounting systems, banks and CRMs
write; each test asserts the types, the numeric min/max/sum, the ISO dates and the column's
``format``: how its values were read.
"""

from __future__ import annotations

import pytest
from csv_helpers import col, run
from summarize import CsvLimits, block_bytes

# Small blocks: a file of a few hundred KB is read in many batches, so that a reading
# settled near the end of the file is settled in a later batch than the values it reads.
SMALL_BLOCKS = CsvLimits(block_size=16 << 10, max_field_bytes=4096)


def number_format(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "number",
        "decimal_mark": ".",
        "grouping": [],
        "unit": None,
        "currency": None,
        "negative": [],
        "ambiguous": False,
        "settled_by_line": None,
    }
    return base | overrides


def date_format(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "kind": "date",
        "date_order": "MDY",
        "patterns": ["MM/DD/YYYY"],
        "ambiguous": False,
        "settled_by_line": None,
    }
    return base | overrides


def stats(c: dict[str, object]) -> tuple[object, ...]:
    return (c["type"], c["min"], c["max"], c["sum"])


EXCEL_US = """\
Order,Amount,Price,Margin,Ordered,Shipped
1001,"1,234.56",$1299.00,45.5%,12/31/2024,12/31/2024 11:05 PM
1002,999.99,"$1,299.00",3%,01/02/2024,01/02/2024 09:00 AM
1003,"12,000.00",-$5,100%,06/05/2024,06/05/2024 12:00 PM
1004,0.50,$0.99,-2.5%,2/29/2024,2/29/2024 12:30 AM
"""


def test_excel_us_export():
    s = run(EXCEL_US)
    amount, price, margin = col(s, "Amount"), col(s, "Price"), col(s, "Margin")
    assert stats(amount) == ("number", 0.5, 12000.0, pytest.approx(14235.05))
    assert amount["format"] == number_format(grouping=[","], settled_by_line=2)
    assert stats(price) == ("number", -5.0, 1299.0, pytest.approx(2593.99))
    assert price["format"] == number_format(
        grouping=[","], unit="currency", currency="$", negative=["minus"], settled_by_line=2
    )
    assert stats(margin) == ("number", -2.5, 100.0, 146.0)
    assert margin["format"] == number_format(unit="percent", negative=["minus"], settled_by_line=2)
    ordered, shipped = col(s, "Ordered"), col(s, "Shipped")
    assert (ordered["type"], ordered["min"], ordered["max"]) == ("date", "2024-01-02", "2024-12-31")
    assert ordered["format"] == date_format(settled_by_line=2)
    assert (shipped["type"], shipped["min"], shipped["max"]) == (
        "datetime",
        "2024-01-02T09:00:00",
        "2024-12-31T23:05:00",
    )
    assert shipped["format"] == date_format(patterns=["MM/DD/YYYY hh:mm AM/PM"], settled_by_line=2)
    assert [c["misfits"]["count"] for c in s["columns"]] == [0] * 6
    # Top values and lengths stay as written.
    assert {t["value"] for t in price["top_values"]} == {"$1299.00", "$1,299.00", "-$5", "$0.99"}


EXCEL_GERMAN = """\
Nr;Betrag;Preis;Anteil;Datum;Menge
1;1.234,56;12,50 €;45,5 %;31.12.2024;1.500
2;2.000,00;3,00 €;3 %;01.02.2024;12
3;-17,25;-5,00 €;100 %;06.05.2024;2.000
"""


def test_excel_german_export_reads_decimal_commas():
    s = run(EXCEL_GERMAN)
    assert s["dialect"]["delimiter"] == ";"
    betrag = col(s, "Betrag")
    # csvstat reads 2.000,00 as 2; here it is two thousand.
    assert stats(betrag) == ("number", -17.25, 2000.0, pytest.approx(3217.31))
    assert betrag["format"] == number_format(
        decimal_mark=",", grouping=["."], negative=["minus"], settled_by_line=2
    )
    preis = col(s, "Preis")
    assert stats(preis) == ("number", -5.0, 12.5, 10.5)
    assert preis["format"]["currency"] == "€"
    anteil = col(s, "Anteil")
    assert stats(anteil) == ("number", 3.0, 100.0, 148.5)
    assert anteil["format"]["unit"] == "percent"
    datum = col(s, "Datum")
    assert (datum["type"], datum["min"], datum["max"]) == ("date", "2024-02-01", "2024-12-31")
    assert datum["format"] == date_format(date_order="DMY", patterns=["DD.MM.YYYY"])
    # 1.500 and 2.000 read two ways; in a ';' file with nothing to settle it, the point
    # groups thousands, and the column says the mark was assumed.
    menge = col(s, "Menge")
    assert stats(menge) == ("integer", 12, 2000, 3512)
    assert menge["format"] == number_format(decimal_mark=",", grouping=["."], ambiguous=True)


ACCOUNTING = """\
account,debit,credit,net
4000,"1,234.56",(12.00),"(1,222.56)"
4010,0.00,"(1,000.00)",1000.00
4020,250.00,5.25-,244.75
"""


def test_accounting_export_parentheses_and_trailing_minus():
    s = run(ACCOUNTING)
    credit, net = col(s, "credit"), col(s, "net")
    assert stats(credit) == ("number", -1000.0, -5.25, -1017.25)
    assert credit["format"] == number_format(
        grouping=[","], negative=["parentheses", "trailing_minus"], settled_by_line=2
    )
    assert stats(net) == ("number", -1222.56, 1000.0, pytest.approx(22.19))
    assert net["format"]["negative"] == ["parentheses"]


SWISS_BANK = """\
Buchungsdatum;Text;Betrag;Saldo
31.12.2024;Zins;CHF 1'234.50;CHF 10'500.00
15.11.2024;Karte;CHF -50.00;CHF 9'265.50
01.11.2024;Lohn;CHF 6'000.00;CHF 9\u2019315.50
"""


def test_swiss_bank_statement_point_and_apostrophes_in_a_semicolon_file():
    s = run(SWISS_BANK)
    betrag, saldo = col(s, "Betrag"), col(s, "Saldo")
    # A ';' file defaults to a decimal comma, but 1'234.50 reads only with a point.
    assert stats(betrag) == ("number", -50.0, 6000.0, 7184.5)
    assert betrag["format"] == number_format(
        grouping=["'"], unit="currency", currency="CHF", negative=["minus"], settled_by_line=2
    )
    assert stats(saldo) == ("number", 9265.5, 10500.0, 29081.0)
    assert saldo["format"]["grouping"] == ["'", "\u2019"]
    datum = col(s, "Buchungsdatum")
    assert (datum["min"], datum["max"]) == ("2024-11-01", "2024-12-31")


def test_spaces_that_group_digits_and_the_minus_sign():
    text = "n;montant\n1;1\u202f234,56\n2;12 345,00\n3;\u22127,50\n4;0,5\n"
    c = col(run(text), "montant")
    assert stats(c) == ("number", -7.5, 12345.0, pytest.approx(13572.56))
    assert c["format"]["grouping"] == [" ", "\u202f"]
    assert c["format"]["decimal_mark"] == ","


CRM = """\
id,account,deal_value,stage,created,notes
1,Acme,"$12,500.00",won,6-May-2024,"Called twice.
Follow up in June, maybe."
2,Globex,"$1,299.00",lost,17-Jun-2024,
3,Initech,"$250,000.00",open,1-Jan-2025,"Budget: ""$250k""
pending approval"
4,Umbrella,$999.99,won,28-Feb-2024,ok
"""


def test_crm_export_quoted_money_and_multi_line_notes():
    s = run(CRM)
    deal = col(s, "deal_value")
    assert stats(deal) == ("number", 999.99, 250000.0, pytest.approx(264798.99))
    assert deal["format"]["currency"] == "$"
    created = col(s, "created")
    assert (created["type"], created["min"], created["max"]) == (
        "date",
        "2024-02-28",
        "2025-01-01",
    )
    assert created["format"] == date_format(date_order="DMY", patterns=["D-Mon-YYYY"])
    assert col(s, "notes")["type"] == "string"


def test_date_order_settled_near_the_end_of_the_file():
    # Every day is 12 or less until the last line: 13/01/2024 settles day first, and the
    # earlier dates are read day first too (06/12/2024 is 6 December, the latest).
    rows = [f"{i},{(i % 12) + 1:02d}/{((i * 7) % 12) + 1:02d}/2024" for i in range(20_000)]
    text = "id,when\n" + "\n".join([*rows, "20000,13/01/2024"]) + "\n"
    s = run(text, SMALL_BLOCKS)
    assert block_bytes(SMALL_BLOCKS) < len(text) // 4
    when = col(s, "when")
    assert (when["type"], when["min"], when["max"]) == ("date", "2024-01-01", "2024-12-06")
    assert when["format"] == date_format(
        date_order="DMY", patterns=["DD/MM/YYYY"], settled_by_line=20_002
    )
    assert when["misfits"]["count"] == 0


def test_an_order_nothing_settles_is_assumed_and_said_to_be_ambiguous():
    text = "when\n05/06/2024\n01/02/2024\n12/11/2024\n"
    us = col(run(text), "when")
    assert (us["min"], us["max"]) == ("2024-01-02", "2024-12-11")
    assert us["format"] == date_format(ambiguous=True)
    rows = text.strip().split("\n")[1:]
    eu = col(run("n;when\n" + "".join(f"{i};{r}\n" for i, r in enumerate(rows))), "when")
    assert (eu["min"], eu["max"]) == ("2024-02-01", "2024-11-12")
    assert eu["format"] == date_format(date_order="DMY", patterns=["DD/MM/YYYY"], ambiguous=True)


def test_a_decimal_comma_settled_late_rereads_the_earlier_values():
    # "1,234" is 1234 or 1.234; the comma in "12,5" on the last line settles it.
    rows = [f'{i},"{1 + i % 9},{i % 1000:03d}"' for i in range(20_000)]
    text = "id,amount\n" + "\n".join([*rows, '20000,"12,5"']) + "\n"
    s = run(text, SMALL_BLOCKS)
    amount = col(s, "amount")
    assert amount["type"] == "number"
    assert (amount["min"], amount["max"]) == (1.0, 12.5)
    expected = sum(1 + i % 9 + (i % 1000) / 1000 for i in range(20_000)) + 12.5
    assert amount["sum"] == pytest.approx(expected)
    assert amount["format"] == number_format(decimal_mark=",", settled_by_line=20_002)


def test_thousands_nothing_settles_read_as_grouped_and_said_to_be_ambiguous():
    c = col(run('n\n"1,234"\n"5,000"\n12\n'), "n")
    assert stats(c) == ("integer", 12, 5000, 6246)
    assert c["format"] == number_format(grouping=[","], ambiguous=True)


def test_plain_decimals_of_three_places_stay_plain_in_a_comma_file():
    c = col(run("x\n1.234\n2.5\n"), "x")
    assert stats(c) == ("number", 1.234, 2.5, 3.734)
    assert c["format"] is None


def test_two_currencies_are_not_summed_together():
    rows = [f"${i}.00" for i in range(1, 201)]
    s = run("price\n" + "\n".join([*rows[:100], "€7.00", *rows[100:]]) + "\n")
    price = col(s, "price")
    assert stats(price) == ("number", 1.0, 200.0, 20100.0)
    assert price["format"]["currency"] == "$"
    assert price["misfits"] == {"count": 1, "first_lines": [102], "examples": ["€7.00"]}


def test_two_date_orders_disagree_and_the_other_is_a_misfit():
    rows = [f"{(i % 12) + 1}/{(i % 28) + 1}/2024" for i in range(300)]
    text = "d\n12/31/2024\n" + "\n".join([*rows[:150], "31/12/2024", *rows[150:]]) + "\n"
    d = col(run(text), "d")
    assert d["type"] == "date"
    assert d["format"]["date_order"] == "MDY" and d["format"]["settled_by_line"] == 2
    assert d["misfits"] == {"count": 1, "first_lines": [153], "examples": ["31/12/2024"]}


def test_two_digit_years_and_24_hour_times():
    text = "d,t\n12/31/24,31.12.24 23:59\n01/01/69,01.01.69 00:00:30\n"
    s = run(text)
    d, t = col(s, "d"), col(s, "t")
    assert (d["min"], d["max"]) == ("1969-01-01", "2024-12-31")
    assert d["format"]["patterns"] == ["MM/DD/YY"]
    assert (t["type"], t["min"], t["max"]) == (
        "datetime",
        "1969-01-01T00:00:30",
        "2024-12-31T23:59:00",
    )
    assert sorted(t["format"]["patterns"]) == ["DD.MM.YY HH:mm", "DD.MM.YY HH:mm:ss"]


def test_impossible_dates_and_times_are_misfits_with_their_lines():
    good = [f"{(i % 12) + 1}/15/2024 10:00 AM" for i in range(300)]
    text = "t\n" + "\n".join([*good, "2/30/2024 10:00 AM", "1/15/2024 13:00 PM"]) + "\n"
    t = col(run(text), "t")
    assert t["type"] == "datetime"
    assert t["misfits"]["count"] == 2
    assert t["misfits"]["first_lines"] == [302, 303]


def test_plain_columns_say_nothing_was_interpreted():
    s = run("i,x,d,s\n1,1.5,2024-05-06,a\n2,2.5,2024-05-07,b\n")
    assert [c["format"] for c in s["columns"]] == [None] * 4


def test_a_text_column_with_a_few_amounts_stays_text():
    rows = [f"note {i}" for i in range(200)]
    c = col(run("note\n$5\n" + "\n".join(rows) + "\n"), "note")
    assert c["type"] == "string" and c["format"] is None


def test_formatted_values_past_the_exact_budget_keep_their_statistics():
    limits = CsvLimits(distinct_cap=100)
    values = [f'"${i:,}.{i % 100:02d}"' for i in range(1000, 6000)]
    c = col(run("v\n" + "\n".join(values) + "\n", limits), "v")
    assert c["distinct_approximate"] is True
    assert (c["type"], c["min"], c["max"]) == ("number", 1000.0, 5999.99)
    assert c["sum"] == pytest.approx(sum(i + (i % 100) / 100 for i in range(1000, 6000)))
    assert c["format"]["currency"] == "$"


def test_the_header_sniffer_knows_formatted_values():
    # Without a header: the first row is money and a date, not names.
    s = run("$5.00,12/31/2024\n$6.00,01/02/2024\n")
    assert s["dialect"]["header"] is False
    assert col(s, "column_1")["sum"] == 11.0


def test_a_settled_column_reads_the_same_in_later_batches_as_in_its_first():
    # With small blocks, batches after the one that settles the reading take the settled
    # fast path; with the default block the whole file is one batch, read by the general
    # parse. Every statistic and the format must agree.
    rows = []
    for i in range(20_000):
        cents = f"{(i * 37) % 100:02d}"
        amount = f'"${i * 13:,}.{cents}"' if i % 7 else f'"(${i:,}.{cents})"'
        month, day, hour = i % 12 + 1, i % 28 + 1, i % 12 + 1
        when = f"{month}/{day}/20{i % 30:02d} {hour}:{i % 60:02d} {'AM' if i % 3 else 'PM'}"
        rows.append(
            f"{i},{amount},{(i % 200) / 2}%,{i % 3}.{cents}-,{when},{day:02d}.{month:02d}.2024"
        )
    rows.insert(10_000, "x,€5.00,oops,n/a,2/30/2024 1:00 PM,31.02.2024")
    rows.insert(12_000, "y,$1.00,1%,1.00-,2/3/2024 13:00 PM,1.1.2024")
    text = "id,amount,pct,late,at,day\n" + "\n".join(rows) + "\n"
    whole, batched = run(text), run(text, SMALL_BLOCKS)
    assert block_bytes(SMALL_BLOCKS) < len(text) // 4
    keys = ("type", "count", "min", "max", "quantiles", "misfits", "format")
    for name in ("amount", "pct", "late", "at", "day"):
        a, b = col(whole, name), col(batched, name)
        assert {k: a[k] for k in keys} == {k: b[k] for k in keys}, name
        # Sums of batches merge in another order: the same to the last bits or so.
        for k in ("sum", "mean", "stddev"):
            if a[k] is not None:
                assert a[k] == pytest.approx(b[k], rel=1e-12), (name, k)
    amount = col(batched, "amount")
    assert amount["type"] == "number" and amount["misfits"]["examples"] == ["€5.00"]
    assert amount["format"]["negative"] == ["parentheses"]
    assert col(batched, "late")["format"]["negative"] == ["trailing_minus"]
    at, day = col(batched, "at"), col(batched, "day")
    assert at["type"] == "datetime" and at["misfits"]["examples"] == [
        "2/30/2024 1:00 PM",
        "2/3/2024 13:00 PM",
    ]
    assert at["format"]["patterns"] == ["MM/DD/YYYY hh:mm AM/PM"]
    assert day["type"] == "date" and day["misfits"]["examples"] == ["31.02.2024"]
    assert day["format"]["patterns"] == ["DD.MM.YYYY"]
