"""`python -m local_pipeline backfill` on objects uploaded before any notification existed.

moto's server runs on loopback; the objects are put with a plain boto3 client and no
notification configuration, so only the backfill can make the functions see them.
"""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import boto3
import pytest
from botocore.stub import ANY, Stubber
from PIL import Image

from local_pipeline.backfill import (
    DRY_RUN,
    QUEUED,
    Checkpoint,
    LocalTarget,
    Options,
    StoredObject,
    backfill,
    lambda_target,
    s3_event,
)
from local_pipeline.cli import main
from local_pipeline.template import load_stack
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
    "csv/b.csv.gz": gzip.compress(CSV),
    "csv/notes.txt": b"not a CSV: no filter matches, never invoked",
    "images/a.png": _png((200, 0, 0)),
    "images/b c/ünï ké+y.png": _png((0, 200, 0)),  # URL-encoded in the event
    "images/broken.jpg": b"not an image",  # an error report, not a failure
    "images/z.png": _png((0, 0, 200)),
    "other/x.png": _png((9, 9, 9)),  # outside every filter prefix
}
ROUTED = sorted(k for k in OBJECTS if k.endswith((".csv", ".csv.gz")) or k.startswith("images/"))


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A fresh emulator holding OBJECTS and no outputs: every test makes its own state."""
    with running_moto() as url:
        s3 = _client(url)
        for name in BUCKETS.values():  # versioned as the template says; no notifications
            s3.create_bucket(Bucket=name)
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        for key, body in OBJECTS.items():
            s3.put_object(Bucket=UPLOAD, Key=key, Body=body)
        yield url


def _client(endpoint: str) -> Any:
    return client("s3", endpoint)


def _outputs(s3: Any) -> dict[str, int]:
    """Every output key with its number of versions: a rewrite adds a version."""
    versions: dict[str, int] = {}
    for bucket, prefix in ((PROCESSED, ""), (UPLOAD, "summaries/")):
        pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
        for page in pages:
            for version in page.get("Versions", []):
                key = f"{bucket}/{version['Key']}"
                versions[key] = versions.get(key, 0) + 1
    return versions


def _backfill(endpoint: str, checkpoint: Path, *extra: str) -> int:
    argv = ["backfill", "--endpoint-url", endpoint, "--checkpoint", str(checkpoint)]
    return main([*argv, "--concurrency", "2", *extra])


def _counts(output: str) -> str:
    """The summary line: invocations by outcome."""
    return next(line for line in output.splitlines() if " invocation(s): " in line)


def test_dry_run_lists_the_routed_objects_and_writes_nothing(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    assert _backfill(endpoint, checkpoint, "--dry-run") == 0
    out = capsys.readouterr().out
    assert f"{len(ROUTED)} invocation(s): {len(ROUTED)} {DRY_RUN}" in out
    assert "ImageProcessorFunction   images/b c/ünï ké+y.png" in out
    assert "CsvSummarizerFunction    csv/b.csv.gz" in out
    assert "notes.txt" not in out and "other/" not in out
    assert _outputs(_client(endpoint)) == {}
    assert not checkpoint.exists()


def test_an_interrupted_run_resumes_with_only_the_remainder(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = tmp_path / "checkpoint.json"
    assert _backfill(endpoint, checkpoint, "--limit", "3") == 0
    first = capsys.readouterr().out
    saved = json.loads(checkpoint.read_text())
    # Prefixes in listing order: both csv/ objects, then the first image, settled.
    assert saved == {
        "bucket": UPLOAD,
        "after": {"csv/": "csv/b.csv.gz", "images/": "images/a.png"},
        "failed": {},
    }
    assert _counts(first) == "3 invocation(s): 3 results"
    assert f"checkpoint: {checkpoint}" in first

    assert _backfill(endpoint, checkpoint) == 0
    second = capsys.readouterr().out
    assert "after 'images/a.png'" in second
    invoked = sorted(line.split()[2] for line in second.splitlines() if " -> " in line)
    assert invoked == ["images/b", "images/broken.jpg", "images/z.png"]  # the rest only
    assert _counts(second) == "3 invocation(s): 1 error_report, 2 results"
    assert not checkpoint.exists()  # removed once a run completes

    versions = _outputs(_client(endpoint))
    assert set(versions.values()) == {1}
    assert f"{UPLOAD}/summaries/2024/a.csv.json" in versions
    assert f"{UPLOAD}/summaries/b.csv.gz.json" in versions
    assert f"{PROCESSED}/b c/ünï ké+y.png/manifest.json" in versions
    assert f"{PROCESSED}/broken.jpg/error.json" in versions
    s3 = _client(endpoint)
    manifest = json.loads(s3.get_object(Bucket=PROCESSED, Key="a.png/manifest.json")["Body"].read())
    head = s3.head_object(Bucket=UPLOAD, Key="images/a.png")
    assert manifest["source"]["version_id"] == head["VersionId"]
    assert manifest["source"]["sequencer"] is None
    assert {v["name"] for v in manifest["variants"]} == {
        "compressed",
        "low_quality",
        "webp",
        "png",
        "thumbnail",
    }


def test_a_second_run_is_all_duplicates_and_writes_nothing(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = _client(endpoint)
    assert _backfill(endpoint, tmp_path / "first.json") == 0
    assert _counts(capsys.readouterr().out) == (
        f"{len(ROUTED)} invocation(s): 1 error_report, {len(ROUTED) - 1} results"
    )
    before = _outputs(s3)
    assert _backfill(endpoint, tmp_path / "checkpoint.json") == 0
    out = capsys.readouterr().out
    assert _counts(out) == f"{len(ROUTED)} invocation(s): {len(ROUTED)} skipped_duplicate"
    assert _outputs(s3) == before


def test_a_backfill_never_overwrites_a_newer_upload(
    endpoint: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    s3 = _client(endpoint)
    head = s3.head_object(Bucket=UPLOAD, Key="images/z.png")
    old = StoredObject(
        "images/z.png", 0, head["ETag"].strip('"'), head["LastModified"], head["VersionId"]
    )
    s3.put_object(Bucket=UPLOAD, Key="images/z.png", Body=_png((250, 250, 0)))
    assert _backfill(endpoint, tmp_path / "c.json", "--prefix", "images/z") == 0
    assert _counts(capsys.readouterr().out) == "1 invocation(s): 1 results"
    newer = _outputs(s3)

    # The event for the old version arrives late (an async backfill event queued before
    # the overwrite): it names a version the key no longer holds, so it is stale.
    target = LocalTarget(STACK, endpoint, {fn.logical_id: {} for fn in STACK.functions()}, 1)
    try:
        outcome = target.invoke(
            "ImageProcessorFunction", s3_event(STACK.region, UPLOAD, old), old.key
        )
    finally:
        target.close()
    assert outcome == "skipped_stale"
    assert _outputs(s3) == newer
    manifest = json.loads(s3.get_object(Bucket=PROCESSED, Key="z.png/manifest.json")["Body"].read())
    assert manifest["source"]["version_id"] != old.version_id


class _Session:
    """Stands in for a boto3 Session: hands out the stubbed clients."""

    def __init__(self, **clients: Any) -> None:
        self.clients = clients

    def client(self, service: str, **_: Any) -> Any:
        return self.clients[service]


def test_the_lambda_target_sends_one_async_invoke_per_routed_object(endpoint: str) -> None:
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    names = {"ImageProcessorFunction": "prod-images", "CsvSummarizerFunction": "prod-csv"}
    with Stubber(cloudformation) as cfn_stub, Stubber(lambda_client) as lambda_stub:
        outputs = [{"OutputKey": f"{k}Name", "OutputValue": v} for k, v in names.items()]
        outputs.append({"OutputKey": "UploadBucketName", "OutputValue": UPLOAD})
        cfn_stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "prod",
                        "CreationTime": "2026-01-01T00:00:00Z",
                        "StackStatus": "CREATE_COMPLETE",
                        "Outputs": outputs,
                    }
                ]
            },
            {"StackName": "prod"},
        )
        target, bucket = lambda_target(
            STACK, _Session(cloudformation=cloudformation, **{"lambda": lambda_client}), "prod", {}
        )
        assert bucket == UPLOAD and target.names == names
        payloads: list[dict[str, Any]] = []
        lambda_client.meta.events.register(
            "provide-client-params.lambda.Invoke",
            lambda params, **_: payloads.append(json.loads(params["Payload"])),
        )
        for key in ROUTED:  # concurrency 1: the calls come in listing order
            function = "prod-images" if key.startswith("images/") else "prod-csv"
            lambda_stub.add_response(
                "invoke",
                {"StatusCode": 202},
                {"FunctionName": function, "InvocationType": "Event", "Payload": ANY},
            )
        s3 = _client(endpoint)
        options = Options(UPLOAD, ["csv/", "images/"], concurrency=1)
        result = backfill(STACK, s3, target, options, Checkpoint(None, UPLOAD), say=lambda _: None)
        lambda_stub.assert_no_pending_responses()
    assert result.counts == {QUEUED: len(ROUTED)} and result.complete

    records = [payload["Records"][0] for payload in payloads]
    assert [r["s3"]["object"]["key"] for r in records] == [
        "csv/2024/a.csv",
        "csv/b.csv.gz",
        "images/a.png",
        "images/b+c/%C3%BCn%C3%AF+k%C3%A9%2By.png",  # as S3 encodes keys in events
        "images/broken.jpg",
        "images/z.png",
    ]
    for record in records:
        key = record["s3"]["object"]["key"]
        head = s3.head_object(Bucket=UPLOAD, Key=unquote_plus(key))
        assert record["eventName"] == "ObjectCreated:Put"
        assert record["s3"]["bucket"]["name"] == UPLOAD
        assert record["s3"]["object"]["eTag"] == head["ETag"].strip('"')
        assert record["s3"]["object"]["versionId"] == head["VersionId"]
        assert record["s3"]["object"]["size"] == head["ContentLength"]
        assert "sequencer" not in record["s3"]["object"]


def test_a_failed_invoke_is_kept_in_the_checkpoint_and_retried_first(
    endpoint: str, tmp_path: Path
) -> None:
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    names = {"ImageProcessorFunction": "img", "CsvSummarizerFunction": "csv"}
    target, _ = lambda_target(STACK, _Session(**{"lambda": lambda_client}), None, names)
    checkpoint = Checkpoint(tmp_path / "c.json", UPLOAD)
    options = Options(UPLOAD, ["csv/2024/"], concurrency=1)
    with Stubber(lambda_client) as stub:
        stub.add_client_error("invoke", "TooManyRequestsException", http_status_code=429)
        result = backfill(STACK, _client(endpoint), target, options, checkpoint, lambda _: None)
        assert result.counts == {"failed": 1}
        saved = json.loads(checkpoint.path.read_text())  # type: ignore[union-attr]
        assert saved["failed"] == {"csv/2024/a.csv": ["CsvSummarizerFunction"]}
        assert saved["after"] == {"csv/2024/": "csv/2024/a.csv"}

        stub.add_response("invoke", {"StatusCode": 202}, {"FunctionName": "csv", **_ASYNC})
        resumed = Checkpoint.load(checkpoint.path, UPLOAD)
        result = backfill(STACK, _client(endpoint), target, options, resumed, lambda _: None)
        assert result.counts == {QUEUED: 1} and resumed.failed == {}


_ASYNC = {"InvocationType": "Event", "Payload": ANY}
