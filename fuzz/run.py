"""Run one atheris fuzzer for N seconds and record its figures.

    python fuzz/run.py image --seconds 600 [--jobs 1] [-- extra libFuzzer flags]

Seeds the corpus (fuzz/make_corpus.py) on first use, keeps the growing corpus in
fuzz/corpus/<target>/, writes the log to fuzz/out/<target>/fuzz.log and the figures
(executions, exec/s, coverage, findings) to fuzz/out/<target>/stats.json. Needs a Python with
atheris (``make fuzz`` builds one in .tools/fuzz).
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FUZZ = ROOT / "fuzz"
# Per-input bounds for libFuzzer; the harness checks tighter ones itself (fuzz/invariants.py).
FLAGS = {
    "image": ["-max_len=65536", "-timeout=20", "-rss_limit_mb=2048"],
    "csv": ["-max_len=131072", "-timeout=20", "-rss_limit_mb=2048"],
}
_STAT = re.compile(r"#(\d+)\s+(?:\w+)\s+cov: (\d+) ft: (\d+) corp: (\d+)/(\S+).*?exec/s: (\d+)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("target", choices=sorted(FLAGS))
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument("extra", nargs="*", help="more libFuzzer flags")
    args = parser.parse_args()

    corpus = FUZZ / "corpus" / args.target
    if not corpus.is_dir() or not any(corpus.iterdir()):
        subprocess.run([sys.executable, str(FUZZ / "make_corpus.py")], check=True)
    out = FUZZ / "out" / args.target
    out.mkdir(parents=True, exist_ok=True)
    log = out / "fuzz.log"
    cmd = [
        sys.executable,
        str(FUZZ / f"fuzz_{args.target}.py"),
        str(corpus),
        f"-max_total_time={args.seconds}",
        f"-artifact_prefix={out}/",
        "-print_final_stats=1",
        *FLAGS[args.target],
        *args.extra,
    ]
    print(" ".join(cmd), flush=True)
    started = time.monotonic()
    run_started = time.time()  # earlier runs' findings stay on disk for replay; not counted
    with log.open("w") as fh:
        code = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, cwd=ROOT).returncode
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    stats = [m.groups() for m in _STAT.finditer(text)]
    last = stats[-1] if stats else None
    final = dict(re.findall(r"stat::(\w+):\s+(\d+)", text))  # only when libFuzzer exits

    def new(path: Path) -> bool:
        return path.is_file() and path.stat().st_mtime >= run_started

    findings = sorted(p.stem for p in (out / "findings").glob("*.txt") if new(p))
    figures = {
        "target": args.target,
        "seconds": round(elapsed, 1),
        "exit_code": code,
        "executions": int(final.get("number_of_executed_units", last[0] if last else 0)),
        "exec_per_s": int(final.get("average_exec_per_sec", 0))
        or (round(int(last[0]) / elapsed, 1) if last else 0),
        "peak_rss_mb": int(final.get("peak_rss_mb", 0)),
        "coverage_edges": int(last[1]) if last else 0,
        "features": int(last[2]) if last else 0,
        "corpus_inputs": int(last[3]) if last else 0,
        "findings": findings,
        # libFuzzer's own artifacts: crash-*, timeout-*, oom-*, slow-unit-*
        "artifacts": sorted(p.name for p in out.iterdir() if new(p) and "-" in p.name),
    }
    (out / "stats.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0 if code == 0 and not findings else 1


if __name__ == "__main__":
    raise SystemExit(main())
