"""What the reliability tests share: generated inputs, a `local_pipeline run` driver, and
readers of the emulator's state.

Sizes: ``RELIABILITY_SCALE=full`` selects the published sizes (``make reliability``);
without it, each test runs a bounded size that fits ``make test``. With
``RELIABILITY_OUT=DIR``, each test also writes its figures to ``DIR/<name>.json``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from stack_model.template import ROOT

FULL_SCALE = os.environ.get("RELIABILITY_SCALE", "") == "full"
IMAGE_FUNCTION = "ImageProcessorFunction"
CSV_FUNCTION = "CsvSummarizerFunction"
ORIENTATION = 0x0112


def scaled(bounded: int, full: int) -> int:
    return full if FULL_SCALE else bounded


def publish(name: str, figures: dict[str, Any]) -> None:
    """Print the figures (pytest -s shows them) and keep them when RELIABILITY_OUT is set."""
    text = json.dumps(figures, indent=2, sort_keys=True)
    print(f"\n--- {name} ---\n{text}")
    out = os.environ.get("RELIABILITY_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        (Path(out) / f"{name}.json").write_text(text + "\n")


# ---------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Input:
    path: Path
    key: str  # where `local_pipeline run` uploads it
    function: str
    valid: bool  # False: the function must write an error report, not results
    body: bytes = field(repr=False)

    @property
    def etag(self) -> str:
        return hashlib.md5(self.body).hexdigest()  # single-part upload: the ETag is the MD5


def small_image(rng: random.Random, index: int) -> tuple[str, bytes]:
    """A small image with its file name; the format, mode and size vary with ``index``."""
    size = (rng.randint(16, 80), rng.randint(16, 80))
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
    out = io.BytesIO()
    match index % 5:
        case 0:
            image = Image.new("RGB", size, colour)
            image.paste((255 - colour[0], 40, 90), (0, 0, size[0] // 2, size[1] // 2))
            exif = Image.Exif()
            exif[ORIENTATION] = rng.choice((1, 3, 6, 8))
            image.save(out, "JPEG", quality=90, exif=exif)
            return f"photo-{index}.jpg", out.getvalue()
        case 1:
            image = Image.new("RGBA", size, (*colour, 0))
            image.paste((*colour, 255), (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
            image.save(out, "PNG")
            return f"logo {index}.png", out.getvalue()  # a space in the key
        case 2:
            Image.new("L", size, colour[0]).save(out, "PNG")
            return f"grey-{index}.png", out.getvalue()
        case 3:
            Image.new("P", size, index % 256).save(out, "GIF")
            return f"palette-{index}.gif", out.getvalue()
        case _:
            Image.new("RGB", size, colour).save(out, "WEBP", quality=80)
            return f"café-{index}.webp", out.getvalue()  # unicode in the key


BAD_IMAGES = (
    ("not-an-image-{}.jpg", b"plain text, named like a JPEG\n"),
    ("truncated-{}.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"),
    ("empty-{}.png", b""),
)
BAD_CSVS = (
    ("empty-{}.csv", b"\n\n"),
    ("binary-{}.csv", bytes(range(256)) * 4),
)


def small_csv(rng: random.Random, rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "day", "amount", "ok", "label"])
    for i in range(rows):
        amount = "" if rng.random() < 0.2 else f"{rng.uniform(-50, 500):.2f}"
        day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        writer.writerow([i, day, amount, rng.random() < 0.5, f"item, {rng.randrange(1000)}"])
    return out.getvalue().encode()


def write_inputs(
    folder: Path, images: int, csvs: int, bad_images: int = 0, bad_csvs: int = 0, seed: int = 0
) -> list[Input]:
    """Generated inputs under folder (images/ and tables/), deterministic for a seed."""
    rng = random.Random(seed)
    files: list[tuple[str, bytes, str, bool]] = []
    for i in range(images):
        name, body = small_image(rng, i)
        files.append((f"pictures/{i % 7}/{name}", body, IMAGE_FUNCTION, True))
    for i in range(bad_images):
        name, body = BAD_IMAGES[i % len(BAD_IMAGES)]
        files.append((f"pictures/bad/{name.format(i)}", body, IMAGE_FUNCTION, False))
    for i in range(csvs):
        body = small_csv(rng, rng.randint(1, 40))
        files.append((f"tables/{i % 5}/t-{i}.csv", body, CSV_FUNCTION, True))
    for i in range(bad_csvs):
        name, body = BAD_CSVS[i % len(BAD_CSVS)]
        files.append((f"tables/bad/{name.format(i)}", body, CSV_FUNCTION, False))
    return [write_input(folder, *file) for file in files]


def write_input(folder: Path, relative: str, body: bytes, function: str, valid: bool) -> Input:
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    key = ("images/" if function == IMAGE_FUNCTION else "csv/") + relative
    return Input(path, key, function, valid, body)


# ---------------------------------------------------------------- running the pipeline
@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    report: dict[str, Any]
    wall_s: float  # the whole command
    settle_s: float  # from the first settled event to the last
    # (function, events of that function settled so far, current RSS of its worker in MB)
    rss_samples: list[tuple[str, int, float]] = field(default_factory=list)


def _children(pid: int) -> list[int]:
    try:
        tasks = Path(f"/proc/{pid}/task").iterdir()
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:
        return []


def _worker_rss_mb(runner_pid: int, functions: tuple[str, ...]) -> dict[str, float]:
    """Current RSS of each function's worker, found by the log file on its stdout (Linux)."""
    found = {}
    for pid in _children(runner_pid):
        try:
            stdout = os.readlink(f"/proc/{pid}/fd/1")
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        function = next((fn for fn in functions if stdout.endswith(f"/{fn}.log")), None)
        rss = next(
            (line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")), None
        )
        if function and rss:
            found[function] = int(rss) / 1024
    return found


class _RssSampler:
    """Samples the workers' current RSS every ``interval_s``, with the events settled so far."""

    def __init__(self, pid: int, settled: Counter[str], interval_s: float = 0.2) -> None:
        self.samples: list[tuple[str, int, float]] = []
        self._pid, self._settled, self._interval_s = pid, settled, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        functions = (IMAGE_FUNCTION, CSV_FUNCTION)
        while not self._stop.wait(self._interval_s):
            for function, rss in _worker_rss_mb(self._pid, functions).items():
                self.samples.append((function, self._settled[function], rss))

    def stop(self) -> list[tuple[str, int, float]]:
        self._stop.set()
        self._thread.join()
        return self.samples


def run_pipeline(
    paths: list[Path],
    out: Path,
    endpoint_url: str | None = None,
    env_vars: dict[str, Any] | None = None,
    timeout_s: float = 1800,
    sample_rss: bool = False,
) -> Run:
    """``python -m local_pipeline run`` in a subprocess; progress lines are timestamped.

    ``sample_rss``: also sample the current RSS of the function workers (Linux /proc).
    """
    command = [sys.executable, "-m", "local_pipeline", "run", *map(str, paths)]
    command += ["--out", str(out), "--report", str(out / "report.json")]
    if endpoint_url:
        command += ["--endpoint-url", endpoint_url]
    if env_vars:
        env_file = out.parent / f"{out.name}-env-vars.json"
        env_file.write_text(json.dumps(env_vars))
        command += ["--env-vars", str(env_file)]
    started = time.perf_counter()
    settled_at: list[float] = []
    settled: Counter[str] = Counter()
    lines: list[str] = []
    with subprocess.Popen(
        command,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        sampler = _RssSampler(process.pid, settled) if sample_rss else None
        for line in process.stdout:  # not a terminal: "  [k/N] Function key -> outcome"
            lines.append(line)
            if line.startswith("  ["):
                settled_at.append(time.perf_counter())
                settled[line.split()[1]] += 1
            if time.perf_counter() - started > timeout_s:
                process.kill()
                break
        stderr = process.stderr.read()
        process.wait()
        rss_samples = sampler.stop() if sampler else []
    wall_s = time.perf_counter() - started
    report_path = out / "report.json"
    if not report_path.exists():
        # Fail with the run's output, never hand the test an empty report to KeyError on.
        pytest.fail(
            f"the run wrote no report (exit {process.returncode}):\n"
            f"{''.join(lines)[-3000:]}\n{stderr[-3000:]}",
            pytrace=False,
        )
    report = json.loads(report_path.read_text())
    settle_s = settled_at[-1] - settled_at[0] if len(settled_at) > 1 else 0.0
    return Run(process.returncode, "".join(lines), stderr, report, wall_s, settle_s, rss_samples)


# ---------------------------------------------------------------- logs
def report_lines(log: Path) -> list[dict[str, float]]:
    """The worker's REPORT lines, in order: duration and peak memory of each invocation."""
    lines = []
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("REPORT RequestId:"):
            parts = line.split()
            lines.append(
                {
                    "duration_ms": float(parts[parts.index("Duration:") + 1]),
                    "max_memory_mb": float(parts[parts.index("Used:") + 1]),
                }
            )
    return lines


def count_log_messages(log: Path, message: str) -> int:
    """How many Powertools JSON lines of the log carry this message."""
    count = 0
    for line in log.read_text(encoding="utf-8").splitlines():
        if line.startswith("{"):
            try:
                count += json.loads(line).get("message") == message
            except json.JSONDecodeError:
                continue
    return count
