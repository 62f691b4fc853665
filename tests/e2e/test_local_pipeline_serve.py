"""`python -m local_pipeline serve`: upload with boto3 as the banner says, then Ctrl-C."""

from __future__ import annotations

import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from stack_model.template import ROOT
from tests.e2e.cli import local_pipeline
from tests.e2e.inputs import mixed_csv
from tests.emulator import client

UPLOAD_BUCKET = "local-upload-123456789012-us-east-1"


def _wait_for(lines: queue.Queue[str], pattern: str, seen: list[str], timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        seen.append(line)
        if match := re.search(pattern, line):
            return match.group(0)
    raise AssertionError(f"no line matching {pattern!r} in:\n{''.join(seen)}")


def test_serve_processes_uploads_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "local_pipeline", "serve", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout

    def read_lines() -> None:
        for line in stdout:
            lines.put(line)

    threading.Thread(target=read_lines, daemon=True).start()
    seen: list[str] = []
    try:
        endpoint = _wait_for(lines, r"http://127\.0\.0\.1:\d+", seen)
        _wait_for(lines, rf"s3 cp \S+ s3://{UPLOAD_BUCKET}/csv/", seen)  # ready-to-paste CLI
        _wait_for(lines, r"Handler logs follow", seen)

        s3 = client("s3", endpoint)
        s3.put_object(Bucket=UPLOAD_BUCKET, Key="csv/live upload.csv", Body=mixed_csv(4))
        _wait_for(lines, r">> CsvSummarizerFunction csv/live upload\.csv: results", seen)
        summary = s3.get_object(Bucket=UPLOAD_BUCKET, Key="summaries/live upload.csv.json")
        assert b'"rows": 4' in summary["Body"].read()
        assert any('"service":"csv-summarizer"' in line for line in seen)  # logs streamed
        page = (out / "index.html").read_text()
        assert "csv/live upload.csv" in page and "4 rows" in page  # the live results page
        assert (out / "upload" / "summaries" / "live upload.csv.json").is_file()  # on disk

        # Uploads that fire nothing get their line too, with the reason, as in `run`.
        s3.put_object(Bucket=UPLOAD_BUCKET, Key="notes.txt", Body=b"at the root")
        s3.put_object(Bucket=UPLOAD_BUCKET, Key="csv/SALES.CSV", Body=mixed_csv(2))
        reason = (
            "not_triggered; no S3 event of template.yaml matches this key (the functions "
            "listen to images/*, csv/*.csv, csv/*.csv.gz; filters are case-sensitive)"
        )
        _wait_for(lines, re.escape(f">> notes.txt: {reason}"), seen)
        _wait_for(lines, re.escape(f">> csv/SALES.CSV: {reason}"), seen)
        # The function's own output is no upload of the user's: no line for it.
        assert not [line for line in seen if line.startswith(">> summaries/")]

        # A second consumer of the same queues would hang: `run` refuses at once instead.
        (tmp_path / "t.csv").write_bytes(mixed_csv(2))
        refused = local_pipeline(
            "run", str(tmp_path / "t.csv"), "--endpoint-url", endpoint,
            "--out", str(tmp_path / "run-out"), timeout=60,
        )  # fmt: skip
        assert refused.returncode == 2, refused.stdout + refused.stderr
        # Whichever queue's probe the serve takes first is named: both are consumed.
        assert refused.stderr.strip() in {
            "error: another process (a `serve`?) already consumes the events of "
            f"{function} at {endpoint}; upload to it directly, or stop it before "
            "`run --endpoint-url`"
            for function in ("ImageProcessorFunction", "CsvSummarizerFunction")
        }

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        _wait_for(lines, r"^stopped", seen, timeout_s=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
