"""The REPORT line's ``Max Memory Used`` is the handler process's own peak, not its parent's."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from local_pipeline.cli import main
from tests.conftest import upload
from tests.emulator import client

UPLOAD_BUCKET = "local-upload-123456789012-us-east-1"
PROCESSED_BUCKET = "local-processed-123456789012-us-east-1"
PARENT_BALLAST_MB = 650


def _tiny_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (1, 1), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def test_max_memory_used_is_the_workers_own_peak(
    tmp_path: Path, moto_endpoint: str, capfd: pytest.CaptureFixture[str]
) -> None:
    """Linux carries a process's peak RSS across exec into the program it starts; a worker
    spawned by a runner that once held 650 MB must still report what the handler used."""
    s3 = client("s3", moto_endpoint)
    for bucket in (UPLOAD_BUCKET, PROCESSED_BUCKET):  # invoke at an endpoint creates nothing
        s3.create_bucket(Bucket=bucket)
    event = upload(s3, UPLOAD_BUCKET, "images/tiny.png", _tiny_png(), sequencer="01")
    event_file = tmp_path / "event.json"
    event_file.write_text(json.dumps(event))
    ballast = bytearray(b"\x01") * (PARENT_BALLAST_MB * 1024 * 1024)  # every page touched

    status = main(
        ["invoke", "ImageProcessorFunction", "-e", str(event_file), "--endpoint-url", moto_endpoint]
    )

    del ballast
    captured = capfd.readouterr()
    assert status == 0, captured.err
    (used,) = re.findall(r"REPORT RequestId: .* Max Memory Used: (\d+) MB", captured.err)
    # The interpreter, Pillow, boto3 and Powertools: tens of MB, never the parent's 650.
    assert 20 < int(used) < 200, captured.err
