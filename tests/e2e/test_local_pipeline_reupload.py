"""The same bytes uploaded again after a delete are a new object, processed anew, as in S3.

S3's events name the version they are about; moto's name none, so, judged by ETag alone, a
re-upload of identical bytes looked like a duplicate of the first upload and was skipped.
"""

from __future__ import annotations

import io
import json
import signal
from pathlib import Path

from PIL import Image

from local_pipeline.cli import main
from tests.e2e.inputs import mixed_csv, transparent_png
from tests.e2e.test_local_pipeline_paths import _serve
from tests.e2e.test_local_pipeline_serve import _wait_for
from tests.emulator import client

UPLOAD_BUCKET = "local-upload-123456789012-us-east-1"
PROCESSED_BUCKET = "local-processed-123456789012-us-east-1"
OUTCOMES = {"results", "skipped_stale", "skipped_duplicate"}


def _run(endpoint: str, inputs: Path, out: Path) -> dict[str, dict]:
    argv = ["run", str(inputs), "--out", str(out), "--report", str(out / "report.json")]
    assert main([*argv, "--endpoint-url", endpoint]) == 0
    return {e["key"]: e for e in json.loads((out / "report.json").read_text())["inputs"]}


def test_identical_bytes_uploaded_after_a_delete_are_processed(
    tmp_path: Path, moto_endpoint: str
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "cat.png").write_bytes(transparent_png())
    (inputs / "table.csv").write_bytes(mixed_csv(4))
    first = _run(moto_endpoint, inputs, tmp_path / "first")
    assert {e["outcome"] for e in first.values()} == {"results"}

    s3 = client("s3", moto_endpoint)
    for key in first:
        s3.delete_object(Bucket=UPLOAD_BUCKET, Key=key)
    again = _run(moto_endpoint, inputs, tmp_path / "again")

    assert {key: e["outcome"] for key, e in again.items()} == {key: "results" for key in first}
    for key, entry in again.items():
        (marker,) = [o for o in entry["outputs"] if o.endswith(("manifest.json", ".csv.json"))]
        source = json.loads(Path(marker).read_text())["source"]
        current = s3.head_object(Bucket=UPLOAD_BUCKET, Key=key)["VersionId"]
        assert (source["key"], source["version_id"]) == (key, current)


def test_quick_overwrites_end_with_the_current_uploads_results(tmp_path: Path) -> None:
    """Events read after their key was overwritten name their own version (found among the
    key's versions), so each older one is skipped as stale and the current one stands."""
    process, lines = _serve(tmp_path / "out")
    seen: list[str] = []
    bodies = [_png(shade) for shade in range(6)] + [_png(0)]  # the last: the first's bytes
    try:
        endpoint = _wait_for(lines, r"http://127\.0\.0\.1:\d+", seen)
        _wait_for(lines, r"Handler logs follow", seen)
        s3 = client("s3", endpoint)
        for body in bodies:
            s3.put_object(Bucket=UPLOAD_BUCKET, Key="images/x.png", Body=body)
        outcomes = [
            _wait_for(lines, r">> ImageProcessorFunction images/x\.png: \w+", seen).split()[-1]
            for _ in bodies
        ]
        manifest = s3.get_object(Bucket=PROCESSED_BUCKET, Key="x.png/manifest.json")
        current = s3.head_object(Bucket=UPLOAD_BUCKET, Key="images/x.png")["VersionId"]
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    assert outcomes.count("results") >= 1 and set(outcomes) <= OUTCOMES, outcomes
    assert json.loads(manifest["Body"].read())["source"]["version_id"] == current


def _png(shade: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (40 * shade, 0, 0)).save(out, "PNG")
    return out.getvalue()
