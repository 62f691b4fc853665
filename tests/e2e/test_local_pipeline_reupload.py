"""The same bytes uploaded again after a delete are a new object, processed anew, as in S3.

S3's events name the version they are about; moto's name none, so, judged by ETag alone, a
re-upload of identical bytes looked like a duplicate of the first upload and was skipped.
"""

from __future__ import annotations

import json
from pathlib import Path

from local_pipeline.cli import main
from tests.e2e.inputs import mixed_csv, transparent_png
from tests.emulator import client

UPLOAD_BUCKET = "local-upload-123456789012-us-east-1"


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
