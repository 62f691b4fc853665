"""Events without a sequencer (backfills, replays) never overwrite a newer upload's results.

A versioned fetch would still find the old version, and without sequencers the outputs
cannot say which write came first; so such an event is processed only while it names the
object the key holds now (``idempotency.ensure_current``).
"""

from __future__ import annotations

import io
import json
from typing import Any

from PIL import Image

from tests.events import s3_put_event

UPLOAD = "test-upload-123456789012-us-east-1"
PROCESSED = "test-processed-123456789012-us-east-1"


def _unsequenced_put(s3: Any, bucket: str, key: str, body: bytes) -> dict[str, Any]:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    event = s3_put_event(bucket, key, s3.head_object(Bucket=bucket, Key=key), "")
    del event["Records"][0]["s3"]["object"]["sequencer"]
    return event


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return out.getvalue()


def _status(result: dict[str, Any]) -> str:
    (record,) = result["records"]
    return str(record["status"])


def test_csv_event_for_an_overwritten_version_is_stale(aws: Any, load_function: Any) -> None:
    csv_fn = load_function("CsvSummarizerFunction")
    old = _unsequenced_put(aws, UPLOAD, "csv/t.csv", b"a\n1\n")
    new = _unsequenced_put(aws, UPLOAD, "csv/t.csv", b"a\n1\n2\n")
    assert _status(csv_fn.invoke(new)) == "results"
    assert _status(csv_fn.invoke(old)) == "skipped_stale"
    assert _status(csv_fn.invoke(new)) == "skipped_duplicate"
    summary = json.loads(aws.get_object(Bucket=UPLOAD, Key="summaries/t.csv.json")["Body"].read())
    assert summary["rows"] == 2
    versions = aws.list_object_versions(Bucket=UPLOAD, Prefix="summaries/")["Versions"]
    assert len(versions) == 1


def test_image_event_for_an_overwritten_version_is_stale(aws: Any, load_function: Any) -> None:
    image_fn = load_function("ImageProcessorFunction")
    old = _unsequenced_put(aws, UPLOAD, "images/p.png", _png(8, 8))
    new = _unsequenced_put(aws, UPLOAD, "images/p.png", _png(16, 12))
    assert _status(image_fn.invoke(old)) == "skipped_stale"  # before the newer one ran, too
    assert _status(image_fn.invoke(new)) == "results"
    manifest = aws.get_object(Bucket=PROCESSED, Key="p.png/manifest.json")["Body"].read()
    assert json.loads(manifest)["image"]["width"] == 16
