"""atheris harness for the CSV core: ``summarize`` on every input.

python fuzz/fuzz_csv.py fuzz/corpus/csv -max_total_time=600   # or: fuzz/run.py csv
"""

from __future__ import annotations

import sys

import atheris
from harness import Harness  # type: ignore[import-not-found]  # fuzz/ is sys.path[0]

with atheris.instrument_imports(
    include=[
        "summarize",
        "csv_run",
        "csv_lines",
        "csv_invalid_rows",
        "csv_oversized",
        "csv_ending",
        "csv_result",
        "csv_source",
        "csv_encoding",
        "csv_blank_lines",
        "csv_feed",
        "csv_dialect",
        "csv_columns",
        "csv_distinct",
        "csv_classify",
        "csv_numbers",
        "csv_typing",
        "csv_readings",
        "csv_formats",
        "csv_number_formats",
        "csv_date_formats",
        "csv_format_kernels",
        "csv_types",
        "csv_sketches",
        "csv_heavy_hitters",
        "csv_slots",
        "csv_errors",
    ]
):
    from fuzz.invariants import CSV_LIMITS, check_csv, csv_memory_bound
    from fuzz.seeds import csv_seeds

MAX_LEN = 128 << 10


def main() -> None:
    harness = Harness(
        "csv",
        check_csv,
        list(csv_seeds().values()),
        seconds=10.0,
        memory=csv_memory_bound(CSV_LIMITS, MAX_LEN),
        csv=True,
    )
    harness.main(sys.argv)


if __name__ == "__main__":
    main()
