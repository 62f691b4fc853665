"""A batch's columns summarized together (``csv_batch``) give the summary that summarizing
them one by one gives: the same counts, nulls, text statistics, types and sketches."""

from __future__ import annotations

import random

import csv_batch
import pytest
from csv_helpers import run
from summarize import CsvLimits

# Small blocks: many short batches. A small budget: the high-cardinality columns switch
# to sketches part way, so both grouped paths (exact and sketched) run.
LIMITS = CsvLimits(block_size=1 << 14, memory_budget_bytes=64 << 10)


def _mixed(rows: int, seed: int = 3) -> str:
    rnd = random.Random(seed)
    lines = ["id,price,day,flag,city,note,amount,code"]
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
        lines.append(f"{i},{price},{day},{flag},{city},{note},{amount},{code}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("rows", [50, 3_000])
def test_columns_summarized_together_match_one_by_one(
    monkeypatch: pytest.MonkeyPatch, rows: int
) -> None:
    data = _mixed(rows)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 0)  # every batch column by column
    one_by_one = run(data, LIMITS)
    monkeypatch.setattr(csv_batch, "GROUP_BELOW_ROWS", 1 << 30)  # every batch together
    monkeypatch.setattr(csv_batch, "GROUP_VALUES", 1 << 10)  # and in several groups
    together = run(data, LIMITS)
    assert together == one_by_one
    columns = {c["name"]: c for c in together["columns"]}
    assert columns["price"]["nulls"] > 0 and columns["price"]["type"] == "number"
    if rows > 1_000:
        assert columns["note"]["distinct_approximate"] is True
        assert columns["city"]["distinct_approximate"] is False
