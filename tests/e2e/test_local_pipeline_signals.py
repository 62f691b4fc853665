"""SIGTERM, and SIGINT to a run that a script started in the background, stop `run` and
`backfill` as Ctrl-C does: the report is written, the workers are gone, and the exit status
says which signal it was.

One input's GET is held by a proxy, so that a handler is busy when the signal comes; the
test waits for that request to arrive, not for a time.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from stack_model.template import ROOT
from tests.e2e.inputs import mixed_csv, transparent_png
from tests.emulator import client, running_moto
from tests.reliability.fault_proxy import FaultProxy

UPLOAD_BUCKET = "local-upload-123456789012-us-east-1"
HELD_KEY = "images/held.png"

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")


def _workers(parent: int) -> set[int]:
    """Pids of the function sandboxes the process spawned (multiprocessing's spawn_main)."""
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if ppid == parent and b"spawn_main" in cmdline:
            pids.add(int(stat.parent.name))
    return pids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class HeldGet:
    """A proxy in front of moto that holds the handler's GET of HELD_KEY for a minute."""

    def __init__(self) -> None:
        self.arrived = threading.Event()

    def forced(self, method: str, path: str) -> str | None:
        if method == "GET" and path.endswith(f"/{HELD_KEY}"):
            self.arrived.set()
            return "latency"
        return None


def _start(argv: list[str], ignore_sigint: bool = False) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "local_pipeline", *argv]
    if ignore_sigint:  # what a shell does to a job it starts in the background with `&`
        command = ["sh", "-c", f"trap '' INT; exec {shlex.join(command)}"]
    return subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _stop_while_busy(
    process: subprocess.Popen[str], held: HeldGet, signum: int
) -> tuple[str, str, set[int]]:
    try:
        assert held.arrived.wait(120), "the handler never fetched the held input"
        workers = _workers(process.pid)
        assert workers, "no sandbox process found"
        process.send_signal(signum)
        stdout, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return stdout, stderr, workers


@pytest.mark.parametrize(
    ("signum", "ignore_sigint", "status", "reason"),
    [
        (signal.SIGTERM, False, 143, "terminated (SIGTERM)"),
        (signal.SIGINT, True, 130, "interrupted (Ctrl-C)"),
    ],
    ids=["sigterm", "sigint-to-a-background-job"],
)
def test_run_stops_on_the_signal_with_its_report_and_no_worker_left(
    tmp_path: Path, signum: int, ignore_sigint: bool, status: int, reason: str
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.csv").write_bytes(mixed_csv(3))
    (inputs / "held.png").write_bytes(transparent_png())
    out = tmp_path / "out"
    held = HeldGet()
    with (
        running_moto() as endpoint,
        FaultProxy(endpoint, 0.0, latency_s=(60, 60), forced=held.forced) as proxy,
    ):
        argv = ["run", str(inputs), "--out", str(out), "--report", str(out / "report.json")]
        process = _start([*argv, "--endpoint-url", proxy.url], ignore_sigint)
        stdout, stderr, workers = _stop_while_busy(process, held, signum)

    assert process.returncode == status, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert stderr.strip().splitlines()[-1] == (
        f"error: {reason} before it settled; the report lists every input"
    )
    report = {e["key"]: e for e in json.loads((out / "report.json").read_text())["inputs"]}
    held_entry = report[HELD_KEY]
    assert (held_entry["outcome"], held_entry["error"]) == (
        "not_settled",
        f"{reason} before it settled",
    )
    assert report["csv/a.csv"]["outcome"] in ("results", "not_settled")
    assert (out / "index.html").is_file()
    assert not [pid for pid in workers if _alive(pid)]  # stopped, not orphaned


def test_backfill_stops_on_sigterm_with_the_report_of_the_settled_tasks(tmp_path: Path) -> None:
    out = tmp_path / "out"
    held = HeldGet()
    with (
        running_moto() as endpoint,
        FaultProxy(endpoint, 0.0, latency_s=(60, 60), forced=held.forced) as proxy,
    ):
        s3 = client("s3", endpoint)
        s3.create_bucket(Bucket=UPLOAD_BUCKET)
        s3.put_bucket_versioning(
            Bucket=UPLOAD_BUCKET, VersioningConfiguration={"Status": "Enabled"}
        )
        s3.put_object(Bucket=UPLOAD_BUCKET, Key="csv/a.csv", Body=mixed_csv(3))  # runs first
        s3.put_object(Bucket=UPLOAD_BUCKET, Key=HELD_KEY, Body=transparent_png())
        argv = [
            "backfill",
            "--endpoint-url",
            proxy.url,
            "--out",
            str(out),
            "--tasks-per-event",
            "1",
        ]
        process = _start(argv)
        stdout, stderr, workers = _stop_while_busy(process, held, signal.SIGTERM)

    assert process.returncode == 143, stdout + stderr
    assert "Traceback" not in stdout + stderr
    assert stderr.strip().splitlines()[-1] == (
        "error: terminated (SIGTERM): the job was cancelled with 1 task(s) not settled; "
        "the report lists the others"
    )
    (manifest_path,) = (out / "upload" / "batch-operations" / "reports").glob("job-*/manifest.json")
    manifest = json.loads(manifest_path.read_text())
    (result,) = manifest["Results"]
    rows = (out / "upload" / result["Key"]).read_text().splitlines()
    assert [row.split(",")[1] for row in rows] == ["csv/a.csv"]  # the settled task, alone
    assert not [pid for pid in workers if _alive(pid)]
