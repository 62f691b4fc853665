"""A batch's columns summarized together (``csv_batch``) give the summary that summarizing
them one by one gives: the same counts, nulls, text statistics, types and sketches."""

from __future__ import annotations

import random

import csv_batch
import pytest
from csv_helpers import run
from summarize import CsvLimits

# Small blocks: many short batches (a block holds a field at the limit twice over, so the
# field limit is small too). A small budget: the high-cardinality columns switch to
# sketches part way, so both grouped paths (exact and sketched) run.
LIMITS = CsvLimits(block_size=1 << 14, max_field_bytes=1 << 10, memory_budget_bytes=64 << 10)


def _mixed(rows: int, seed: int = 3) -> str:
    rnd = random.Random(seed)
    lines = ["id,price,day,flag,city,note,amount,code,at,mixed"]
    for i in range(rows):
        r = rnd.random()
        price = (
            ""
            if r < 0.05
            else "NA"
            if r < 0.08
            else "  "
            if r < 0.1
            else f"{rnd.uniform(0, 99):.2f}"
        )
        day = f"2024-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
        flag = rnd.choice(("true", "false", "null"))
        city = rnd.choice(("Oslo", "Lima", "Pune", "Kyiv", "Baku"))
        note = f'"word {rnd.randrange(10_000)}, more"' if r < 0.5 else f"w{rnd.randrange(10**6)}"
        amount = f'"${rnd.uniform(0, 5000):,.2f}"'
        code = f"{rnd.randrange(1000):04d}"
        at = f"2024-05-{rnd.randint(1, 28):02d}T{rnd.randrange(24):02d}:{rnd.randrange(60):02d}:00"
        mixed = rnd.choice((str(rnd.randrange(10**6)), f"x{rnd.randrange(10**6)}", day))
        lines.append(f"{i},{price},{day},{flag},{city},{note},{amount},{code},{at},{mixed}")
    return "\n".join(lines) + "\n"


# Several groups of a few columns each, or one group: sketched columns of every kind
# (numbers, dates, text, formatted, mixed) then share one grouped sketch update.
@pytest.mark.parametrize(
    ("rows", "group_values"), [(50, 1 << 10), (5_000, 1 << 10), (5_000, 1 << 16)]
)
def test_columns_summarized_together_match_one_by_one(
    monkeypatch: pytest.MonkeyPatch, rows: int, group_values: int
) -> None:
    data = _mixed(rows)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 0)  # every batch column by column
    one_by_one = run(data, LIMITS)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 1 << 30)  # every batch together
    monkeypatch.setattr(csv_batch, "GROUP_VALUES", group_values)
    together = run(data, LIMITS)
    assert together == one_by_one
    columns = {c["name"]: c for c in together["columns"]}
    assert columns["price"]["nulls"] > 0 and columns["price"]["type"] == "number"
    if rows > 1_000:
        sketched = [name for name, c in columns.items() if c["distinct_approximate"]]
        assert {"id", "note", "amount", "at", "mixed"} <= set(sketched)
        assert columns["note"]["distinct_approximate"] is True
        assert columns["city"]["distinct_approximate"] is False


def test_a_null_token_that_starts_like_a_number_does_not_type_a_text_column(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # "-" is a null token and starts like a number: the grouped check of which columns
    # start typed looks at the values that are not null, as the column's typing does.
    rnd = random.Random(5)
    rows = ["words,dashes_and_ints,only_dashes"]
    for _ in range(400):
        word = rnd.choice(("alpha", "beta", "-", "gamma"))
        number = rnd.choice(("-", str(rnd.randrange(-50, 50))))
        rows.append(f"{word},{number},-")
    data = "\n".join(rows) + "\n"
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 0)
    one_by_one = run(data, LIMITS)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 1 << 30)
    together = run(data, LIMITS)
    assert together == one_by_one
    words, numbers, dashes = together["columns"]
    dash_count = sum(1 for row in rows[1:] if row.split(",")[0] == "-")
    assert (words["type"], words["nulls"], words["misfits"]["count"]) == ("string", dash_count, 0)
    assert words["null_spellings"] == {"-": dash_count}
    assert numbers["type"] == "integer" and numbers["misfits"]["count"] == 0
    assert (dashes["type"], dashes["nulls"], dashes["count"]) == ("null", 400, 0)


def test_only_text_columns_are_checked_for_typed_starts_and_the_others_count_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Grouped, only columns still text (or not typed yet) are matched for values that
    # start like a number, date or word. An integer column whose later batches are text,
    # and a text column whose later batches are integers, count as one by one.
    pad = "p" * 60
    rows = ["ints,words,late_ints,pad"]
    for i in range(4_000):  # ~850 rows a batch
        late = i >= 2_000
        rows.append(f"{f'n{i}' if late else i},w{i % 37},{i if late else f'x{i}'},{pad}")
    data = "\n".join(rows) + "\n"
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 0)
    one_by_one = run(data, LIMITS)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 1 << 30)
    checked: list[int] = []
    typed_starts = csv_batch._typed_starts

    def spied(states, group, values, column):  # type: ignore[no-untyped-def]
        found = typed_starts(states, group, values, column)
        checked.append(len(found))
        return found

    monkeypatch.setattr(csv_batch, "_typed_starts", spied)
    together = run(data, LIMITS)
    assert together == one_by_one
    assert len(checked) > 2 and checked[0] == 4 and min(checked) < 4  # typed ones skipped
    ints, words, late_ints, _ = together["columns"]
    assert [ints["type"], words["type"], late_ints["type"]] == ["string"] * 3
    assert ints["min"] == "0" and ints["max"] == "n3999"
    assert late_ints["min"] == "2000" and late_ints["max"] == "x999"
