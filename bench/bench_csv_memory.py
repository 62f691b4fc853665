"""CSV summarizer memory benchmark: peak RSS on inputs whose values, not rows, are large.

    python bench/bench_csv_memory.py                 # the three ~270 MB inputs
    python bench/bench_csv_memory.py --mb 30         # smaller inputs, to check the harness
    python bench/bench_csv_memory.py --keep          # keep the generated files for reuse

Inputs (generated into a temporary folder, or --dir):

- ``wide_2k``: one text column of 150,000 distinct ~2 KB descriptions (a few repeated),
  plus an integer id and a category.
- ``wide_90k``: 3,000 distinct ~90 KB values, plus an integer id and a date.
- ``ragged``: four header fields; 55% of records have three or five (four stays the most
  common width, so it is the column count).
- ``columns_1k``: 1,000 columns of small integers (work per column and batch dominates).

Each input is summarized by the core (``summarize`` with the handler's ``CsvLimits``) in a
fresh interpreter with the function's environment from template.yaml; peak RSS is that
child's ``VmHWM`` (interpreter and imports included).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from bench_csv import CORE, SHARED, WORDS, function_environment, peak_rss_mb


def _corpus(rnd: random.Random, size: int) -> str:
    """Random words to cut values from: slicing is fast, unlike word-by-word generation."""
    out: list[str] = []
    n = 0
    while n < size:
        w = rnd.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def _wide(
    f: TextIO, target: int, distinct: int, length: int, extra: Callable[[int], str], seed: int
) -> None:
    """``distinct`` values of about ``length`` characters, each once, then repeats of a few
    of them until the file reaches ``target`` bytes."""
    rnd = random.Random(seed)
    corpus = _corpus(rnd, 1 << 20)
    span = len(corpus) - 2 * length
    written = f.write("id,extra,description\n")
    i = 0
    while written < target:
        k = i if i < distinct else rnd.randrange(20)
        r = random.Random(k)
        off, size = r.randrange(span), length + r.randrange(-length // 10, length // 10)
        # An id makes each value distinct; the comma makes every one a quoted field.
        text = f'"{k:07d}, {corpus[off : off + size]}"'
        written += f.write(f"{i + 1},{extra(i)},{text}\n")
        i += 1


def gen_wide_2k(f: TextIO, target: int) -> None:
    cats = [f"cat_{i:02d}" for i in range(20)]
    _wide(f, target, min(150_000, target // 1800), 1750, lambda i: cats[i % 20], seed=1)


def gen_wide_90k(f: TextIO, target: int) -> None:
    def day(i: int) -> str:
        return f"20{10 + i % 15}-{1 + i % 12:02d}-{1 + i % 28:02d}"

    _wide(f, target, min(3_000, target // 92_000), 90_000, day, seed=2)


def gen_ragged(f: TextIO, target: int) -> None:
    rnd = random.Random(3)
    written = f.write("id,qty,name,flag\n")
    names = [f"name_{i}" for i in range(1000)]
    i = 0
    while written < target:
        lines = []
        for _ in range(1000):
            i += 1
            r = rnd.random()
            fields = [str(i), str(rnd.randrange(500)), rnd.choice(names), "true"]
            if r < 0.3:
                fields.pop()
            elif r < 0.55:
                fields.append(str(rnd.random()))
            lines.append(",".join(fields))
        written += f.write("\n".join(lines) + "\n")


def gen_columns_1k(f: TextIO, target: int) -> None:
    rnd = random.Random(4)
    written = f.write(",".join(f"c{i}" for i in range(1000)) + "\n")
    while written < target:
        written += f.write(",".join(str(rnd.randrange(1000)) for _ in range(1000)) + "\n")


INPUTS: dict[str, Callable[[TextIO, int], None]] = {
    "wide_2k": gen_wide_2k,
    "wide_90k": gen_wide_90k,
    "ragged": gen_ragged,
    "columns_1k": gen_columns_1k,
}


def generate(folder: Path, mb: int) -> list[Path]:
    paths = []
    for name, gen in INPUTS.items():
        path = folder / f"{name}_{mb}mb.csv"
        if not path.exists():
            print(f"generating {path} ...", flush=True)
            tmp = path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8", newline="") as f:
                gen(f, mb * 1_000_000)
            tmp.replace(path)
        paths.append(path)
    return paths


def child(path: str) -> None:
    """Summarize ``path`` with the handler's limits; print rows, peak RSS, wall seconds."""
    sys.path[:0] = [str(CORE), str(SHARED)]
    from summarize import CsvLimits, summarize

    # As in app.py with the template's defaults (MaxCsvBytes 2 GiB, CsvMaxFieldBytes 1 MiB).
    limits = CsvLimits(max_field_bytes=1_048_576, max_bytes=2 << 30, over_max_bytes="reject")
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        s = summarize(f, limits)
    wall = time.perf_counter() - t0
    cols = {c["name"]: [c["type"], c["distinct"], c["distinct_approximate"]] for c in s["columns"]}
    print(
        json.dumps(
            {
                "rows": s["rows"],
                "ragged": s["issues"]["ragged_rows"]["count"],
                "columns": cols,
                "rss_mb": peak_rss_mb(),
                "wall": wall,
            }
        )
    )


def measure(path: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=function_environment(),
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--mb", type=int, default=270, help="size of each input, MB")
    ap.add_argument("--dir", type=Path, help="where to generate (and reuse) the inputs")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs")
    ap.add_argument("--child", metavar="PATH", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    folder = args.dir or Path(tempfile.mkdtemp(prefix="bench_csv_memory_"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        paths = generate(folder, args.mb)
        print(f"{'input':16} {'size MB':>8} {'rows':>10} {'peak RSS MB':>12} {'wall s':>7}")
        for path in paths:
            r = measure(path)
            mb = path.stat().st_size / 1e6
            print(
                f"{path.stem:16} {mb:8.1f} {r['rows']:>10,} {r['rss_mb']:12.0f} {r['wall']:7.1f}",
                flush=True,
            )
            columns = r["columns"]
            shown = json.dumps(columns) if len(columns) <= 10 else f"{len(columns)} columns"
            print(f"  ragged {r['ragged']:,}; columns {shown}", flush=True)
    finally:
        if not (args.keep or args.dir):
            shutil.rmtree(folder)
    print(f"python {sys.version.split()[0]}; inputs in {folder}")


if __name__ == "__main__":
    main()
