"""Cold start of each handler: import time and RSS of a fresh process, as Lambda's init.

Each sample is a new interpreter with the function's import roots (CodeUri, then its
layers' source folders) and the template's environment, importing the handler module the
way Lambda does. Reports the median over --runs, plus the slowest imports of one run
(`python -X importtime`), which is where trimming pays.

    python bench/cold_start.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stack_model.template import load_stack  # noqa: E402

CHILD = """
import resource, sys, time
start = time.perf_counter()
import app
elapsed = time.perf_counter() - start
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{elapsed * 1000:.1f} {rss_mb:.1f}")
"""


def _env(spec) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "AWS_"))}
    env.update(spec.environment)
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(str(p) for p in spec.import_roots),
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            # As on Lambda: the X-Ray SDK sees it and skips centralized sampling (and the
            # X-Ray API client it would build at import).
            "LAMBDA_TASK_ROOT": str(spec.code_dir),
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "POWERTOOLS_TRACE_DISABLED": "false",
        }
    )
    return env


def measure(spec, runs: int) -> tuple[float, float, list[tuple[int, str]]]:
    samples = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD],
            env=_env(spec),
            capture_output=True,
            text=True,
            check=True,
            cwd=spec.code_dir,
        ).stdout.split()
        samples.append((float(out[0]), float(out[1])))
    trace = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        env=_env(spec),
        capture_output=True,
        text=True,
        check=True,
        cwd=spec.code_dir,
    ).stderr
    # importtime lines: "import time: self | cumulative | <indent>name"; app's own
    # imports are the lines nested exactly one level below it.
    direct = []
    for line in trace.splitlines()[1:]:
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip()) - 1) // 2
        if depth == 1:
            direct.append((int(cumulative), name.strip()))
    return (
        statistics.median(s[0] for s in samples),
        statistics.median(s[1] for s in samples),
        sorted(direct, reverse=True)[:8],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("| handler | median import ms | median RSS after import MB |")
    print("|---|---|---|")
    details = []
    for spec in load_stack().functions():
        import_ms, rss_mb, top = measure(spec, args.runs)
        print(f"| {spec.logical_id} | {import_ms:.0f} | {rss_mb:.0f} |")
        details.append((spec.logical_id, top))
    for name, top in details:
        print(f"\n{name}: heaviest top-level imports (cumulative µs, one run)")
        for micros, module in top:
            print(f"  {micros:>9}  {module.strip()}")


if __name__ == "__main__":
    main()
