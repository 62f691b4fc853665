"""The CSV core against an earlier revision of itself, on the same files, runs interleaved.

    python bench/ab_csv.py --base 2def45c              # the bench file, 5 runs each
    python bench/ab_csv.py --base 2def45c --formatted  # and an export written for people
    python bench/ab_csv.py --base 2def45c --file bench/out/shape_1000x5405.csv  # any file

The earlier revision is checked out in a temporary git worktree. Each run is a fresh
interpreter pinned to one core (``taskset -c 0`` when there is one); A and B alternate, so
that load from other work on the machine falls on both. Reported: median CPU seconds (user +
system of the child alone) and the child's own peak RSS (VmHWM, read before it exits).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from bench_csv import OUT, generate  # noqa: E402

CHILD = """
import json, os, resource, sys
sys.path[:0] = [sys.argv[1] + "/csv_summarizer", sys.argv[1] + "/layers/runtime"]
from summarize import CsvLimits, summarize
with open(sys.argv[2], "rb") as f:
    summary = summarize(f, CsvLimits())
usage = resource.getrusage(resource.RUSAGE_SELF)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime, "rss_mb": hwm / 1024,
                  "types": [c["type"] for c in summary["columns"]]}))
"""


def generate_formatted(path: Path, rows: int, seed: int = 11) -> None:
    """An export written for people: grouped money with a currency, percentages, US dates
    and 12-hour times, accounting negatives."""
    rnd = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        f.write("id,amount,discount,ordered,shipped,balance,region\n")
        for i in range(1, rows + 1):
            amount = f'"${rnd.uniform(0, 50000):,.2f}"'
            pct = f"{rnd.uniform(0, 40):.1f}%"
            m, d, y = rnd.randint(1, 12), rnd.randint(1, 28), rnd.randint(2015, 2025)
            hour = rnd.randint(1, 12)
            ampm = rnd.choice(("AM", "PM"))
            bal = rnd.uniform(-9000, 9000)
            balance = f'"({abs(bal):,.2f})"' if bal < 0 else f'"{bal:,.2f}"'
            f.write(
                f"{i},{amount},{pct},{m}/{d}/{y},{m}/{d}/{y} {hour}:{rnd.randint(0, 59):02d} "
                f"{ampm},{balance},{rnd.choice(('North', 'South', 'East', 'West'))}\n"
            )


def run_once(tree: Path, path: Path) -> dict[str, object]:
    cmd = [sys.executable, "-c", CHILD, str(tree), str(path)]
    if shutil.which("taskset"):
        cmd = ["taskset", "-c", "0", *cmd]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--base", required=True, help="git revision to compare against (A)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--formatted", action="store_true", help="also an export for people")
    ap.add_argument("--file", type=Path, action="append", help="these files instead (repeatable)")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    files = [path.resolve() for path in args.file or []]
    for path in files:
        if not path.is_file():
            ap.error(f"--file {path}: no such file")
    if not files:
        files = [OUT / f"mixed_{args.rows}.csv"]
        if not files[0].exists():
            generate(files[0], args.rows)
    if args.formatted:
        files.append(OUT / f"formatted_{args.rows}.csv")
        if not files[-1].exists():
            generate_formatted(files[-1], args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "base"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(base), args.base],
            check=True,
        )
        try:
            for path in files:
                runs: dict[str, list[dict[str, object]]] = {"A": [], "B": []}
                for _ in range(args.repeat):
                    runs["A"].append(run_once(base, path))
                    runs["B"].append(run_once(ROOT, path))
                mb = path.stat().st_size / 1e6
                print(f"{path.name} ({mb:.0f} MB), median of {args.repeat}, one core:")
                for label, rev in (("A", args.base), ("B", "this tree")):
                    cpu = statistics.median(float(r["cpu"]) for r in runs[label])  # type: ignore[arg-type]
                    rss = statistics.median(float(r["rss_mb"]) for r in runs[label])  # type: ignore[arg-type]
                    types = Counter(runs[label][0]["types"])  # type: ignore[arg-type]
                    print(f"  {label} {rev:12} CPU {cpu:6.2f} s  peak RSS {rss:5.0f} MB  "
                          f"types {dict(types)}")  # fmt: skip
                a = statistics.median(float(r["cpu"]) for r in runs["A"])  # type: ignore[arg-type]
                b = statistics.median(float(r["cpu"]) for r in runs["B"])  # type: ignore[arg-type]
                print(f"  B/A CPU: {b / a:.3f}")
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True
            )


if __name__ == "__main__":
    main()
