"""Peak memory of the local runner and its processes on one big CSV (`run`, end to end).

    python bench/bench_local_memory.py                # 300 MB and 1 GB CSVs
    python bench/bench_local_memory.py --mb 50        # a quick check of the harness

Each input is generated into a temporary folder and run through ``bin/local-pipeline run``
(moto's server in the runner process, one warm worker per function). While it runs, every
process of the run is sampled from /proc: ``VmHWM``, the peak resident set that the
kernel keeps for the process itself from its exec. Not ``ru_maxrss``: a spawned child's
figure starts from the forking parent's peak. A worker resets its own ``VmHWM`` at each
invocation (the REPORT line's "Max Memory Used"), so its peak is also read from its log.
The target: the largest process under the input's size plus 400 MB.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAUNCHER = ROOT / "bin" / "local-pipeline"
MB = 1024 * 1024


def write_csv(path: Path, size_mb: int) -> int:
    """A mixed CSV of about size_mb: ids, dates, amounts, flags, a few hundred labels."""
    block = "".join(
        f"{i},2026-03-{1 + i % 28:02d},{i * 1.25:.2f},{i % 2 == 0},item {i % 977}\n"
        for i in range(100_000)
    ).encode()
    with path.open("wb") as out:
        out.write(b"id,day,amount,ok,label\n")
        while out.tell() < size_mb * MB:
            out.write(block)
    return path.stat().st_size


def _status(pid: int) -> dict[str, str]:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        found = []
        for task in tasks:
            text = (task / "children").read_text().split()
            found += [int(child) for child in text]
        return found
    except OSError:
        return []


def _kb(value: str) -> int:
    return int(value.split()[0])


def measure(csv: Path, out: Path) -> dict[str, float]:
    """Run the pipeline on csv; the peak VmHWM (MB) of the runner and of its workers."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(LAUNCHER), "run", str(csv), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    runner_kb, worker_kb = 0, 0
    while process.poll() is None:
        status = _status(process.pid)
        if "VmHWM" in status:
            runner_kb = max(runner_kb, _kb(status["VmHWM"]))
        for child in _children(process.pid):
            child_status = _status(child)
            if "VmHWM" in child_status:
                worker_kb = max(worker_kb, _kb(child_status["VmHWM"]))
        time.sleep(0.05)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        sys.exit(
            f"run failed ({process.returncode}): {process.stderr.read() if process.stderr else ''}"
        )
    log = (out / "logs" / "CsvSummarizerFunction.log").read_text()
    reported = [int(mb) for mb in re.findall(r"Max Memory Used: (\d+) MB", log)]
    return {
        "runner_mb": runner_kb / 1024,
        "worker_mb": max(worker_kb / 1024, max(reported, default=0)),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, nargs="+", default=[300, 1024])
    args = parser.parse_args()
    print("| input | runner + emulator peak | worker peak | target (input + 400 MB) | wall |")
    print("|---|---|---|---|---|")
    for size_mb in args.mb:
        with tempfile.TemporaryDirectory() as folder:
            csv = Path(folder) / f"big-{size_mb}.csv"
            size = write_csv(csv, size_mb) / MB
            peaks = measure(csv, Path(folder) / "out")
            largest = max(peaks["runner_mb"], peaks["worker_mb"])
            verdict = "met" if largest <= size + 400 else "missed"
            runner, worker = peaks["runner_mb"], peaks["worker_mb"]
            print(
                f"| {size:,.0f} MB CSV | {runner:,.0f} MB | {worker:,.0f} MB"
                f" | {size + 400:,.0f} MB: {verdict} | {peaks['wall_s']:.0f} s |",
                flush=True,
            )


if __name__ == "__main__":
    main()
