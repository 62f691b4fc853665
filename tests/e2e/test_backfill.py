"""`python -m local_pipeline backfill`: an S3 Batch Operations job on the emulator.

moto's server runs on loopback; the objects are put with a plain boto3 client and no
notification configuration, so only the backfill can make the functions see them. The
real handlers answer the job's events in their sandboxes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest
from PIL import Image

from local_pipeline.cli import main
from stack_model.batch_operations import REPORT_SCHEMA
from stack_model.template import load_stack
from tests.emulator import client, running_moto

STACK = load_stack()
BUCKETS = {bucket.logical_id: bucket.name for bucket in STACK.buckets()}
UPLOAD, PROCESSED = BUCKETS["UploadBucket"], BUCKETS["ProcessedBucket"]


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


CSV = b"city,amount\nOslo,3\nLima,4\n"
OBJECTS = {
    "csv/2024/a.csv": CSV,
    "csv/b c+d.csv.gz": gzip.compress(CSV),
    "csv/notes.txt": b"not a CSV: no filter matches, never a task",
    "images/a.png": _png((200, 0, 0)),
    "images/b c/ünï ké+y.png": _png((0, 200, 0)),  # URL-encoded in tasks and the report
    "images/broken.jpg": b"not an image",  # an error report: a PermanentFailure
    "images/z.png": _png((0, 0, 200)),
    "other/x.png": _png((9, 9, 9)),  # outside every filter prefix
}
# Each routed key: where its result marker is (bucket, key).
MARKERS = {
    "csv/2024/a.csv": (UPLOAD, "summaries/2024/a.csv.json"),
    "csv/b c+d.csv.gz": (UPLOAD, "summaries/b c+d.csv.gz.json"),
    "images/a.png": (PROCESSED, "a.png/manifest.json"),
    "images/b c/ünï ké+y.png": (PROCESSED, "b c/ünï ké+y.png/manifest.json"),
    "images/z.png": (PROCESSED, "z.png/manifest.json"),
}
BROKEN = "images/broken.jpg"


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A fresh emulator holding OBJECTS and no outputs: every test makes its own state."""
    with running_moto() as url:
        s3 = client("s3", url)
        for name in BUCKETS.values():  # versioned as the template says; no notifications
            s3.create_bucket(Bucket=name)
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        for key, body in OBJECTS.items():
            s3.put_object(Bucket=UPLOAD, Key=key, Body=body)
        yield url


def _outputs(s3: Any) -> dict[str, list[bytes]]:
    """Every output key with the bytes of each of its versions: a rewrite adds one."""
    outputs: dict[str, list[bytes]] = {}
    for bucket, prefix in ((PROCESSED, ""), (UPLOAD, "summaries/")):
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for version in page.get("Versions", []):
                body = s3.get_object(
                    Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"]
                )["Body"].read()
                outputs.setdefault(f"{bucket}/{version['Key']}", []).append(body)
    return outputs


def _report(s3: Any, out: Path) -> tuple[dict[str, Any], list[list[str]]]:
    """The job's completion report: its manifest and every row, from the bucket.

    The copy in the output folder must hold the same bytes.
    """
    (local_manifest,) = (out / "upload" / "batch-operations" / "reports").glob(
        "job-*/manifest.json"
    )
    key = local_manifest.relative_to(out / "upload").as_posix()
    body = s3.get_object(Bucket=UPLOAD, Key=key)["Body"].read()
    assert local_manifest.read_bytes() == body
    manifest = json.loads(body)
    rows = []
    for result in manifest["Results"]:
        assert result["Bucket"] == UPLOAD
        results_body = s3.get_object(Bucket=UPLOAD, Key=result["Key"])["Body"].read()
        assert (out / "upload" / result["Key"]).read_bytes() == results_body
        status_rows = list(csv.reader(io.StringIO(results_body.decode())))
        assert {row[3] for row in status_rows} == {result["TaskExecutionStatus"]}
        rows += status_rows
    return manifest, sorted(rows, key=lambda row: unquote_plus(row[1]))


def _backfill(endpoint: str, out: Path, *extra: str) -> int:
    argv = ["backfill", "--endpoint-url", endpoint, "--out", str(out), "--tasks-per-event", "2"]
    return main([*argv, *extra])


def test_a_backfill_processes_every_routed_object_and_reports_each_task(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = client("s3", endpoint)
    assert _backfill(endpoint, tmp_path / "first") == 1  # the broken image failed
    out = capsys.readouterr().out
    assert f"{len(MARKERS)} task(s) succeeded, 1 failed" in out
    assert "notes.txt" not in out and "other/" not in out

    manifest, rows = _report(s3, tmp_path / "first")
    assert manifest["Format"] == "Report_CSV_20180820"
    assert manifest["ReportSchema"] == REPORT_SCHEMA
    assert [unquote_plus(row[1]) for row in rows] == sorted([*MARKERS, BROKEN])
    outputs = _outputs(s3)
    for bucket, key, version, status, http, error_code, message in rows:
        source = unquote_plus(key)
        assert bucket == UPLOAD
        assert version == s3.head_object(Bucket=UPLOAD, Key=source)["VersionId"]
        assert http == "200"
        if source == BROKEN:  # the error report's reason, where the results would be
            error = json.loads(outputs[f"{PROCESSED}/broken.jpg/error.json"][0])
            assert (status, error_code) == ("failed", "PermanentFailure")
            assert message == f"{error['reason']}: broken.jpg/error.json"
            assert error["source"]["version_id"] == version
            continue
        marker_bucket, marker = MARKERS[source]
        assert (status, error_code, message) == ("succeeded", "", marker)
        recorded = json.loads(outputs[f"{marker_bucket}/{marker}"][0])["source"]
        assert recorded["key"] == source and recorded["version_id"] == version
    assert key == "images/z.png"  # the last row; keys are URL-encoded in the report:
    assert rows[3][1] == "images/b+c/%C3%BCn%C3%AF+k%C3%A9%2By.png"
    assert rows[1][1] == "csv/b+c%2Bd.csv.gz"
    assert set(map(len, outputs.values())) == {1}

    # The same backfill again: every task is a duplicate skip, and nothing is written; the
    # rejected upload stays a PermanentFailure, so the failed-tasks report still lists it.
    assert _backfill(endpoint, tmp_path / "second") == 1
    assert f"{len(MARKERS)} task(s) succeeded, 1 failed" in capsys.readouterr().out
    _, again = _report(s3, tmp_path / "second")
    assert [row[:6] for row in again] == [row[:6] for row in rows]

    # Each skip names the marker that records it; the broken image's is its error report.
    def skip(key: str) -> str:
        if key == BROKEN:
            return (
                f"{error['reason']}: broken.jpg/error.json; "
                "skipped_duplicate: this upload was already rejected: broken.jpg/error.json"
            )
        return f"skipped_duplicate: this upload is already done: {MARKERS[key][1]}"

    sources = [unquote_plus(row[1]) for row in rows]
    assert {unquote_plus(row[1]): row[6] for row in again} == {key: skip(key) for key in sources}
    assert _outputs(s3) == outputs


def test_created_before_leaves_newer_objects_out(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _backfill(endpoint, tmp_path, "--created-before", "2001-01-01") == 0
    assert capsys.readouterr().out == (
        f"no object under s3://{UPLOAD}/ created before 2001-01-01T00:00:00+00:00 "
        "is routed to a function\n"
    )
    assert _outputs(client("s3", endpoint)) == {}
    assert not (tmp_path / "upload").exists()


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["backfill"],
            "error: backfill processes objects already in an emulator: give --endpoint-url of "
            "one that runs (`bin/local-pipeline serve` prints it)",
        ),
        (
            ["backfill", "--endpoint-url", "http://127.0.0.1:1", "--prefix", "summaries/"],
            "error: --prefix 'summaries/': no S3 event filter of template.yaml matches a key "
            "under it (the functions listen to images/*, csv/*.csv, csv/*.csv.gz)",
        ),
        (
            ["backfill", "--endpoint-url", "http://127.0.0.1:1", "--created-before", "soon"],
            "error: --created-before 'soon': not an ISO 8601 date or time "
            "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)",
        ),
        (
            ["backfill", "--endpoint-url", "http://127.0.0.1:1", "--tasks-per-event", "0"],
            "error: --tasks-per-event 0: give 1 or more",
        ),
    ],
)
def test_each_misuse_is_one_line(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == line + "\n"
