"""`run` on what users bring after the samples: files in parts, a flaky endpoint, Ctrl-C."""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from stack_model.template import ROOT
from tests.e2e.cli import local_pipeline
from tests.e2e.inputs import mixed_csv, rotated_jpeg, transparent_png
from tests.emulator import running_moto
from tests.reliability.fault_proxy import FaultProxy

# boto3's default: above it, upload_file goes in parts (run sends one PUT instead, and the
# runner's moto server must still handle bodies this big without holding extra copies).
MULTIPART_THRESHOLD = 8 * 1024 * 1024


def _noise_png(side: int) -> bytes:
    """A PNG that does not compress: about 3 bytes per pixel."""
    image = Image.frombytes("RGB", (side, side), random.Random(5).randbytes(side * side * 3))
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=0)
    return out.getvalue()


def _big_csv(target_bytes: int) -> bytes:
    header = "id,day,amount,ok,label\n"
    rows = [
        f"{i},2026-03-{1 + i % 28:02d},{i * 1.25:.2f},{i % 2 == 0},item {i % 977}\n"
        for i in range(target_bytes // 40)
    ]
    return (header + "".join(rows)).encode()


def _run_args(inputs: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(inputs), "--out", str(out), "--report", str(out / "report.json"), *extra]


def _run(inputs: Path, out: Path, *extra: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return local_pipeline(*_run_args(inputs, out, *extra), timeout=timeout)


def _report(path: Path) -> dict[str, Any]:
    return {entry["key"]: entry for entry in json.loads(path.read_text())["inputs"]}


@pytest.mark.slow
def test_files_uploaded_in_parts_are_reported_once_with_their_real_outcome(tmp_path: Path):
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "big.png").write_bytes(_noise_png(2600))
    (inputs / "big.csv").write_bytes(_big_csv(40_000_000))
    # Rejected and big: its error report must not be masked either.
    (inputs / "big-broken.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(10 * 1024 * 1024))
    assert all(p.stat().st_size > MULTIPART_THRESHOLD for p in inputs.iterdir())
    out = tmp_path / "out"

    completed = _run(inputs, out)

    assert completed.returncode == 0, completed.stdout + completed.stderr
    report = _report(out / "report.json")
    assert sorted(report) == ["csv/big.csv", "images/big-broken.jpg", "images/big.png"]
    image, table, broken = (
        report["images/big.png"],
        report["csv/big.csv"],
        report["images/big-broken.jpg"],
    )
    assert (image["outcome"], image["attempts"], image["duplicates"]) == ("results", 1, 0)
    assert len(image["outputs"]) == 6
    thumbnail = out / "processed" / "big.png" / "thumbnail.jpg"
    with Image.open(thumbnail) as picture:
        assert picture.size == (300, 300)
    assert (table["outcome"], table["duplicates"]) == ("results", 0)
    summary = json.loads((out / "upload" / "summaries" / "big.csv.json").read_text())
    assert summary["rows"] == 40_000_000 // 40
    assert broken["outcome"] == "error_report"
    assert broken["error"] == "corrupt"
    # One line per input in the progress output, nothing settled twice.
    assert completed.stdout.count(" -> ") == 3


@pytest.fixture
def small_inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "rotated.jpg").write_bytes(rotated_jpeg())
    (folder / "logo.png").write_bytes(transparent_png())
    for n in range(3):
        (folder / f"table-{n}.csv").write_bytes(mixed_csv(20 + n))
    return folder


@pytest.mark.slow
def test_a_flaky_endpoint_is_survived_and_every_input_settles(small_inputs: Path, tmp_path):
    """One object request in five gets a 503 or 500, the runner's own requests included."""
    out = tmp_path / "out"
    with (
        running_moto() as endpoint,
        FaultProxy(endpoint, rate=0.2, seed=11, kinds=("slowdown_503", "internal_500")) as proxy,
    ):
        completed = _run(small_inputs, out, "--endpoint-url", proxy.url)
        injected = sum(proxy.injected.values())
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Traceback" not in completed.stdout + completed.stderr
    assert injected >= 5, proxy.injected  # the faults really happened
    report = _report(out / "report.json")
    assert len(report) == 5
    assert {entry["outcome"] for entry in report.values()} == {"results"}
    assert all(Path(output).exists() for e in report.values() for output in e["outputs"])


@pytest.mark.slow
def test_ctrl_c_writes_the_report_with_every_input(small_inputs: Path, tmp_path: Path):
    """Ctrl-C while one input is still being fetched (its GET is held for a minute)."""
    (small_inputs / "zzz-slow.csv").write_bytes(mixed_csv(5))
    out = tmp_path / "out"

    def hold_the_slow_get(method: str, path: str) -> str | None:
        return "latency" if method == "GET" and path.endswith("/csv/zzz-slow.csv") else None

    with (
        running_moto() as endpoint,
        FaultProxy(endpoint, rate=0.0, latency_s=(60, 60), forced=hold_the_slow_get) as proxy,
    ):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "local_pipeline",
                *_run_args(small_inputs, out, "--endpoint-url", proxy.url),
            ],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        seen = []
        for line in process.stdout:  # the five others settle; zzz-slow.csv cannot
            seen.append(line)
            if "[5/6]" in line:
                break
        process.send_signal(signal.SIGINT)
        rest, stderr = process.communicate(timeout=60)
    stdout = "".join(seen) + rest
    assert process.returncode == 130, stdout + stderr
    assert "Traceback" not in stdout + stderr
    lines = stderr.strip().splitlines()
    assert lines[0] == (  # at once, before any waiting: what happens, and how to stop harder
        "interrupted (Ctrl-C): stopping. Work in flight is abandoned; what settled is on "
        "disk already, and the report is being written. Press Ctrl-C again to quit at once."
    )
    assert lines[-1] == (
        "error: interrupted (Ctrl-C) before it settled; the report lists every input"
    )
    report = _report(out / "report.json")
    assert len(report) == 6
    slow = report.pop("csv/zzz-slow.csv")
    assert (slow["outcome"], slow["error"]) == (
        "not_settled",
        "interrupted (Ctrl-C) before it settled",
    )
    assert {entry["outcome"] for entry in report.values()} == {"results"}
    # Every settled input's outputs are on disk, downloaded as it settled.
    outputs = [Path(output) for entry in report.values() for output in entry["outputs"]]
    assert len(outputs) == 2 * 6 + 3 and all(path.is_file() for path in outputs)
    assert (out / "upload" / "summaries" / "table-0.csv.json").read_bytes().startswith(b"{")
    assert (out / "index.html").exists()
