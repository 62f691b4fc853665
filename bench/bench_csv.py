"""CSV summarizer benchmark: this core vs DuckDB SUMMARIZE (1 thread) vs csvkit's csvstat.

    python bench/bench_csv.py            # 1M rows x 10 columns (~100 MB), x3 for RSS flatness
    python bench/bench_csv.py --quick    # 100k rows, to check the harness
    python bench/bench_csv.py --shapes   # MB/s at 10, 100, 1,000 and 10,000 columns
    python bench/bench_csv.py --gigabyte # 1 GB of 1,000 columns against the function's timeout

Each engine runs in its own subprocess (fresh interpreter) so peak RSS (ru_maxrss) and CPU
seconds belong to that engine alone; the core's runs with the CSV function's environment
from template.yaml. Generated inputs are cached under bench/out/.
DuckDB and csvkit are bench-only dependencies.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stack_model.template import load_stack  # noqa: E402

OUT = ROOT / "bench" / "out"
CORE = ROOT / "csv_summarizer"
# The core imports the shared file-signature table from the runtime layer, as on Lambda.
SHARED = ROOT / "layers" / "runtime"


def function_environment() -> dict[str, str]:
    """This environment plus the CSV function's from template.yaml: its allocator settings
    (read by pyarrow's mimalloc when it loads) change the peak RSS the core is measured at."""
    return {**os.environ, **load_stack().function("CsvSummarizerFunction").environment}


WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
    "sigma",
    "tau",
    "upsilon",
    "phi",
    "chi",
    "psi",
    "omega",
    "red",
    "green",
    "blue",
    "cyan",
    "magenta",
    "yellow",
    "black",
    "white",
]
CATEGORIES = [f"cat_{i:02d}" for i in range(20)]
CITIES = [f"City {i}" for i in range(800)]


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Mixed types: ints, floats with blanks and NA, ISO dates and datetimes, categories,
    free text with commas and quotes, booleans."""
    rnd = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write("id,qty,price,score,day,created_at,category,city,comment,active\n")
        for i in range(1, rows + 1):
            r = rnd.random()
            price = "" if r < 0.03 else "NA" if r < 0.05 else f"{rnd.uniform(0, 5000):.2f}"
            score = f"{rnd.gauss(50, 15):.6f}"
            day = f"20{rnd.randint(10, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            ts = f"{day}T{rnd.randint(0, 23):02d}:{rnd.randint(0, 59):02d}:{rnd.randint(0, 59):02d}"
            words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(2, 6)))
            if rnd.random() < 0.3:
                comment = f'"{words}, ""quoted"" {rnd.randint(0, 99999)}"'
            else:
                comment = f"{words} {rnd.randint(0, 99999)}"
            f.write(
                f"{i},{rnd.randint(0, 500)},{price},{score},{day},{ts},"
                f"{rnd.choice(CATEGORIES)},{rnd.choice(CITIES)},{comment},"
                f"{'true' if rnd.random() < 0.5 else 'false'}\n"
            )
    tmp.replace(path)


def wide_cell(kind: int, rnd: random.Random) -> str:
    """One value of a wide file's column, by the column's kind (its position modulo 7)."""
    if kind == 0:
        return str(rnd.randrange(100_000))
    if kind == 1:
        return "" if rnd.random() < 0.03 else f"{rnd.uniform(0, 1000):.2f}"
    if kind == 2:
        return f"20{rnd.randint(10, 25)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
    if kind == 3:
        return rnd.choice(CATEGORIES)
    if kind == 4:
        return "true" if rnd.random() < 0.5 else "false"
    if kind == 5:
        return rnd.choice(CITIES)
    return f"{rnd.choice(WORDS)} {rnd.randrange(1000)}"


def generate_wide(path: Path, columns: int, rows: int, seed: int = 5) -> None:
    """``columns`` columns of seven kinds in turn (integers, decimals with blanks, ISO
    dates, categories, booleans, cities, short text), ~7 bytes a value."""
    rnd = random.Random(seed)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        f.write(",".join(f"c{j}" for j in range(columns)) + "\n")
        for _ in range(rows):
            f.write(",".join(wide_cell(j % 7, rnd) for j in range(columns)) + "\n")
    tmp.replace(path)


def triple(src: Path, dst: Path) -> None:
    with dst.open("wb") as out:
        for copy in range(3):
            with src.open("rb") as f:
                header = f.readline()
                if copy == 0:
                    out.write(header)
                shutil.copyfileobj(f, out, 1 << 20)


def head(src: Path, dst: Path, rows: int) -> None:
    with src.open("rb") as f, dst.open("wb") as out:
        for i, line in enumerate(f):
            if i > rows:
                break
            out.write(line)


# ---- engines, each run in a child process -----------------------------------------------
def run_core(path: str) -> dict[str, object]:
    sys.path[:0] = [str(CORE), str(SHARED)]
    t0 = time.perf_counter()
    from summarize import CsvLimits, summarize

    import_s = time.perf_counter() - t0
    with open(path, "rb") as f:
        s = summarize(f, CsvLimits())
    return {"rows": s["rows"], "import_s": import_s}


def run_duckdb(path: str) -> dict[str, object]:
    import duckdb

    con = duckdb.connect()
    con.execute("SET threads TO 1")
    cur = con.execute(f"SUMMARIZE SELECT * FROM read_csv('{path}')")
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    count = rows[0][names.index("count")] if rows else None
    return {"rows": count, "columns": len(rows)}


def run_csvstat(path: str) -> dict[str, object]:
    exe = shutil.which("csvstat") or str(Path(sys.executable).parent / "csvstat")
    p = subprocess.run([exe, path], capture_output=True, text=True, check=True)
    return {"rows": None, "out_lines": len(p.stdout.splitlines())}


def run_core_timed(path: str) -> dict[str, object]:
    """The core as the function runs it: told the time left before each batch (the
    timeout less the handler's margin, on the wall clock), so it ends in a summary or in
    ``too_slow``."""
    sys.path[:0] = [str(CORE), str(SHARED)]
    from csv_errors import CsvRejectedError
    from summarize import CsvLimits, summarize

    deadline = time.monotonic() + CSV_TIMEOUT_S - REPORT_MARGIN_S
    with open(path, "rb") as f:
        try:
            s = summarize(f, CsvLimits(), lambda: deadline - time.monotonic())
        except CsvRejectedError as exc:
            return {"ended": exc.reason, "message": exc.message}
    return {"ended": "summary", "rows": s["rows"]}


ENGINES = {
    "core": run_core,
    "core-timed": run_core_timed,
    "duckdb": run_duckdb,
    "csvstat": run_csvstat,
}


def peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(engine: str, path: str) -> None:
    t0 = time.perf_counter()
    c0 = time.process_time()
    info = ENGINES[engine](path)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu += kids.ru_utime + kids.ru_stime
    # VmHWM is this process's own peak; ru_maxrss would carry the parent's peak across
    # fork+exec. csvstat runs in a grandchild: its peak comes from RUSAGE_CHILDREN.
    rss = max(peak_rss_mb(), kids.ru_maxrss / 1024 if engine == "csvstat" else 0.0)
    print(json.dumps({"wall": wall, "cpu": cpu, "rss_mb": rss, **info}))


def measure(engine: str, path: Path, repeat: int, one_core: bool = False) -> dict[str, float]:
    """Median wall and CPU seconds over ``repeat`` fresh runs; the largest peak RSS."""
    runs = []
    env = function_environment() if engine == "core" else None
    pin = ["taskset", "-c", "0"] if one_core and shutil.which("taskset") else []
    for _ in range(repeat):
        out = subprocess.run(
            [*pin, sys.executable, __file__, "--child", engine, str(path)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    res = dict(runs[0])
    for key in ("wall", "cpu"):
        res[key] = statistics.median(r[key] for r in runs)
    res["rss_mb"] = max(r["rss_mb"] for r in runs)
    return res


def cold_import() -> float:
    code = (
        f"import sys,time; sys.path[:0] = [{str(CORE)!r}, {str(SHARED)!r}]; "
        "t=time.perf_counter(); "
        "import summarize; print(time.perf_counter()-t)"
    )
    env = function_environment()
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=env
            ).stdout
        )
        for _ in range(5)
    ]
    return sorted(times)[len(times) // 2]


WIDE_SHAPES = ((1_000, 20_000), (10_000, 200))


def side_by_side(cols: int, rows: int, name: str, repeat: int) -> tuple[Path, dict[str, dict]]:
    """A generated file of ``cols`` x ``rows`` (made once, kept under bench/out/), and the
    core's and DuckDB's runs on it, alternating, each pinned to one core: median CPU and
    wall seconds, the largest VmHWM."""
    path = OUT / f"{name}_{cols}x{rows}.csv"
    if not path.exists():
        generate_wide(path, cols, rows)
    runs: dict[str, list[dict[str, float]]] = {"core": [], "duckdb": []}
    for _ in range(repeat):
        for engine in runs:
            runs[engine].append(measure(engine, path, 1, one_core=True))
    return path, {
        engine: {k: statistics.median(r[k] for r in rs) for k in ("cpu", "wall")}
        | {"rss_mb": max(r["rss_mb"] for r in rs)}
        for engine, rs in runs.items()
    }


def wide(repeat: int) -> None:
    """Wide files, core and DuckDB alternating, each pinned to one core (CPU s, VmHWM)."""
    OUT.mkdir(parents=True, exist_ok=True)
    print("| file | MB | core CPU s | DuckDB CPU s | core / DuckDB | peak RSS MB: core / DuckDB |")
    print("|---|---|---|---|---|---|")
    for cols, rows in WIDE_SHAPES:
        path, result = side_by_side(cols, rows, "wide", repeat)
        core, duck = result["core"], result["duckdb"]
        print(
            f"| {cols:,} x {rows:,} | {path.stat().st_size / 1e6:.1f} | {core['cpu']:.2f} | "
            f"{duck['cpu']:.2f} | {core['cpu'] / duck['cpu']:.2f}x | "
            f"{core['rss_mb']:.0f} / {duck['rss_mb']:.0f} |",
            flush=True,
        )


SHAPE_COLUMNS = (10, 100, 1_000, 10_000)
SHAPE_BYTES = 40_000_000  # each shape's file, so that only the column count differs
CSV_TIMEOUT_S = 300  # the CSV function's Timeout in template.yaml
REPORT_MARGIN_S = 15  # csv_summarizer/app.py's: the time kept for writing the report


def shapes(repeat: int) -> None:
    """The speed a user can plan with: one file of ~40 MB per column count, core and DuckDB
    alternating on one core. MB per CPU second is the core's rate on one vCPU; ``fits in
    the timeout`` is what that rate reads in the function's 300 s, before ``too_slow``'s
    15 s margin."""
    OUT.mkdir(parents=True, exist_ok=True)
    print(
        "| columns | rows | MB | core MB/s | core s per GB | fits in 300 s | "
        "DuckDB MB/s | core / DuckDB | peak RSS MB: core / DuckDB |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for cols in SHAPE_COLUMNS:
        rows = max(1, round(SHAPE_BYTES / (cols * 7.4)))
        path, result = side_by_side(cols, rows, "shape", repeat)
        mb = path.stat().st_size / 1e6
        core, duck = result["core"], result["duckdb"]
        rate = mb / core["cpu"]
        print(
            f"| {cols:,} | {rows:,} | {mb:.1f} | {rate:.1f} | {1000 / rate:.0f} | "
            f"{rate * (CSV_TIMEOUT_S - 15) / 1000:.2f} GB | {mb / duck['cpu']:.1f} | "
            f"{core['cpu'] / duck['cpu']:.2f}x | {core['rss_mb']:.0f} / {duck['rss_mb']:.0f} |",
            flush=True,
        )


def gigabyte() -> None:
    """1 GB of 1,000 columns (the 1,000 x 20,000 file's rows seven times over), summarized
    as the function would, on one core: a summary, or ``too_slow``?"""
    OUT.mkdir(parents=True, exist_ok=True)
    part = OUT / "wide_1000x20000.csv"
    if not part.exists():
        generate_wide(part, 1_000, 20_000)
    path = OUT / "wide_1000x140000.csv"
    if not path.exists():
        with path.open("wb") as out, part.open("rb") as f:
            out.write(f.readline())
            body = f.read()
            for _ in range(7):
                out.write(body)
    env = function_environment()
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    out = subprocess.run(
        [*pin, sys.executable, __file__, "--child", "core-timed", str(path)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    run = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"{path.stat().st_size / 1e9:.2f} GB, 1,000 columns: {run['ended']} "
        f"({run.get('rows', run.get('message'))}); wall {run['wall']:.0f} s of "
        f"{CSV_TIMEOUT_S - REPORT_MARGIN_S} s, CPU {run['cpu']:.0f} s, "
        f"peak RSS {run['rss_mb']:.0f} MB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k rows instead of 1M")
    ap.add_argument("--repeat", type=int, default=3, help="runs per engine; medians reported")
    ap.add_argument("--wide", action="store_true", help="1,000 x 20,000 and 10,000 x 200 only")
    ap.add_argument("--shapes", action="store_true", help="MB/s at 10 to 10,000 columns")
    ap.add_argument("--gigabyte", action="store_true", help="1 GB of 1,000 columns vs the timeout")
    ap.add_argument("--child", nargs=2, metavar=("ENGINE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    if args.wide:
        wide(args.repeat)
        return
    if args.shapes:
        shapes(args.repeat)
        return
    if args.gigabyte:
        gigabyte()
        return
    rows = 100_000 if args.quick else 1_000_000
    OUT.mkdir(parents=True, exist_ok=True)
    main_file = OUT / f"mixed_{rows}.csv"
    if not main_file.exists():
        print(f"generating {main_file} ...", flush=True)
        generate(main_file, rows)
    x3 = OUT / f"mixed_{rows}_x3.csv"
    if not x3.exists():
        triple(main_file, x3)
    slice_rows = 10_000 if args.quick else 100_000
    sliced = OUT / f"mixed_{rows}_head{slice_rows}.csv"
    if not sliced.exists():
        head(main_file, sliced, slice_rows)

    runs = [
        ("core", main_file, rows),
        ("duckdb", main_file, rows),
        ("core", x3, 3 * rows),
        ("duckdb", x3, 3 * rows),
        ("core", sliced, slice_rows),
        ("duckdb", sliced, slice_rows),
        ("csvstat", sliced, slice_rows),
    ]
    results = []
    print(
        f"{'engine':8} {'file':28} {'MB':>6} {'wall s':>7} {'MB/s':>6} {'rows/s':>9} "
        f"{'CPU s':>6} {'MB/CPU-s':>8} {'RSS MB':>6}"
    )
    for engine, path, n in runs:
        rep = 1 if engine == "csvstat" else args.repeat
        r = measure(engine, path, rep)
        mb = path.stat().st_size / 1e6
        r.update(engine=engine, file=path.name, mb=mb, mbps=mb / r["wall"], rps=n / r["wall"])
        r["mbpc"] = mb / r["cpu"]
        results.append(r)
        print(
            f"{engine:8} {path.name:28} {mb:6.1f} {r['wall']:7.2f} {r['mbps']:6.1f} "
            f"{r['rps']:9,.0f} {r['cpu']:6.2f} {r['mbpc']:8.1f} {r['rss_mb']:6.0f}",
            flush=True,
        )
    by = {(r["engine"], r["file"]): r for r in results}
    print()
    for f in (main_file, x3):
        c, d = by[("core", f.name)], by[("duckdb", f.name)]
        print(
            f"core/duckdb(1 thread) on {f.name}: wall {c['mbps'] / d['mbps']:.2f}x, "
            f"CPU {c['mbpc'] / d['mbpc']:.2f}x"
        )
    core1, core3 = by[("core", main_file.name)], by[("core", x3.name)]
    print(f"RSS x3/x1 (core): {core3['rss_mb'] / core1['rss_mb']:.3f}")
    cs = by[("csvstat", sliced.name)]
    cslice = by[("core", sliced.name)]
    print(f"core vs csvstat on {slice_rows} rows: {cslice['mbps'] / cs['mbps']:.0f}x faster (wall)")
    print(f"cold import of summarize (median of 5): {cold_import() * 1000:.0f} ms")
    print(f"python {sys.version.split()[0]}, cpus {os.cpu_count()}")


if __name__ == "__main__":
    main()
