"""Both handlers answer S3 Batch Operations (LambdaInvoke) events, schema 1.0 and 2.0."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from typing import Any

import pytest
from PIL import Image

from tests.conftest import upload
from tests.events import BATCH_INVOCATION_ID as INVOCATION
from tests.events import batch_event
from tests.integration.faults import fail_first_calls

UPLOAD = "test-upload-123456789012-us-east-1"
PROCESSED = "test-processed-123456789012-us-east-1"
SALES = b"region,units\nnorth,3\nsouth,5\n"


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def response(schema: str, *results: tuple[str, str]) -> dict[str, Any]:
    return {
        "invocationSchemaVersion": schema,
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": INVOCATION,
        "results": [
            {"taskId": f"task-{n}", "resultCode": code, "resultString": text}
            for n, (code, text) in enumerate(results)
        ],
    }


def _versions(s3: Any, bucket: str) -> list[tuple[str, str]]:
    """Every object version and delete marker: a re-run that writes nothing leaves it as is."""
    listing = s3.list_object_versions(Bucket=bucket)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sorted((e["Key"], e["VersionId"]) for e in entries)


def _put(s3: Any, key: str, body: bytes) -> str:
    return s3.put_object(Bucket=UPLOAD, Key=key, Body=body)["VersionId"]


def _report_reason(s3: Any, bucket: str, key: str) -> str:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())["reason"]


@pytest.fixture
def image_fn(aws, load_function):
    return load_function("ImageProcessorFunction")


@pytest.fixture
def csv_fn(aws, load_function):
    return load_function("CsvSummarizerFunction")


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_an_image_task_writes_its_variants_and_names_the_manifest(aws, image_fn, schema):
    version = _put(aws, "images/a/cat.jpg", _jpeg())
    result = image_fn.invoke(batch_event(schema, UPLOAD, ("images/a/cat.jpg", version)))
    assert result == response(schema, ("Succeeded", "a/cat.jpg/manifest.json"))
    head = aws.head_object(Bucket=PROCESSED, Key="a/cat.jpg/manifest.json")
    assert head["Metadata"]["source-version-id"] == version


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_csv_task_writes_its_summary_and_names_it(aws, csv_fn, schema):
    version = _put(aws, "csv/2026/sales.csv", SALES)
    result = csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/2026/sales.csv", version)))
    assert result == response(schema, ("Succeeded", "summaries/2026/sales.csv.json"))
    head = aws.head_object(Bucket=UPLOAD, Key="summaries/2026/sales.csv.json")
    assert head["Metadata"]["source-version-id"] == version


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_missing_key_is_a_permanent_failure_that_writes_nothing(aws, image_fn, csv_fn, schema):
    result = image_fn.invoke(batch_event(schema, UPLOAD, ("images/gone.jpg", None)))
    expected = f"source_missing: s3://{UPLOAD}/images/gone.jpg does not exist; nothing was written"
    assert result == response(schema, ("PermanentFailure", expected))
    result = csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/gone.csv", None)))
    expected = f"source_missing: s3://{UPLOAD}/csv/gone.csv does not exist; nothing was written"
    assert result == response(schema, ("PermanentFailure", expected))
    assert (_versions(aws, PROCESSED), _versions(aws, UPLOAD)) == ([], [])


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_rejected_input_is_a_permanent_failure_and_its_report_is_written(
    aws, image_fn, csv_fn, schema
):
    _put(aws, "images/not-an-image.jpg", b"hello, I am text")
    result = image_fn.invoke(batch_event(schema, UPLOAD, ("images/not-an-image.jpg", None)))
    expected = ("PermanentFailure", "unsupported_format: not-an-image.jpg/error.json")
    assert result == response(schema, expected)
    assert _report_reason(aws, PROCESSED, "not-an-image.jpg/error.json") == "unsupported_format"

    _put(aws, "csv/photo.csv", _jpeg())
    result = csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/photo.csv", None)))
    assert result == response(
        schema, ("PermanentFailure", "not_text: summaries/photo.csv.error.json")
    )
    assert _report_reason(aws, UPLOAD, "summaries/photo.csv.error.json") == "not_text"


def test_too_large_is_judged_by_the_size_the_head_found(aws, csv_fn, monkeypatch):
    monkeypatch.setattr(csv_fn.module, "CONFIG", replace(csv_fn.module.CONFIG, max_csv_bytes=10))
    _put(aws, "csv/big.csv", SALES)
    gets = fail_first_calls(csv_fn.module.store.client, "get_object", 0, monkeypatch)
    result = csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/big.csv", None)))
    assert result == response(
        "2.0", ("PermanentFailure", "too_large: summaries/big.csv.error.json")
    )
    assert gets == []  # rejected from the HEAD's size, before any download


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_lasting_transient_fault_is_a_temporary_failure_not_a_raise(
    aws, image_fn, monkeypatch, schema
):
    _put(aws, "images/flaky.jpg", _jpeg())
    gets = fail_first_calls(image_fn.module.store.client, "get_object", 10**6, monkeypatch)
    ((result),) = image_fn.invoke(batch_event(schema, UPLOAD, ("images/flaky.jpg", None)))[
        "results"
    ]
    assert (result["taskId"], result["resultCode"]) == ("task-0", "TemporaryFailure")
    assert result["resultString"].startswith("failed: ClientError(")
    assert "SlowDown" in result["resultString"]
    assert len(gets) == 3  # the in-invocation retries ran first
    assert _versions(aws, PROCESSED) == []


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_url_encoded_and_unicode_keys(aws, image_fn, csv_fn, schema):
    image_key = "images/holiday photos/café +1 ☀.jpg"
    _put(aws, image_key, _jpeg())
    event = batch_event(schema, UPLOAD, (image_key, None))
    assert event["tasks"][0]["s3Key"] == "images/holiday+photos/caf%C3%A9+%2B1+%E2%98%80.jpg"
    result = image_fn.invoke(event)
    assert result == response(schema, ("Succeeded", "holiday photos/café +1 ☀.jpg/manifest.json"))
    _put(aws, "csv/q1 2026 + ünïcode.csv", SALES)
    result = csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/q1 2026 + ünïcode.csv", None)))
    assert result == response(schema, ("Succeeded", "summaries/q1 2026 + ünïcode.csv.json"))


def test_several_tasks_in_one_event_end_independently(aws, image_fn, monkeypatch):
    _put(aws, "images/good.jpg", _jpeg())
    _put(aws, "images/bad.jpg", b"text")
    _put(aws, "images/flaky.jpg", _jpeg())
    real_get = image_fn.module.store.client.get_object
    flaky = fail_first_calls(image_fn.module.store.client, "get_object", 10**6, monkeypatch)
    monkeypatch.setattr(
        image_fn.module.store.client,
        "get_object",
        lambda **kw: flaky(**kw) if kw["Key"] == "images/flaky.jpg" else real_get(**kw),
    )
    tasks = [("images/good.jpg", None), ("images/gone.jpg", None), ("images/bad.jpg", None)]
    tasks += [("images/flaky.jpg", None), ("csv/sales.csv", None)]
    results = image_fn.invoke(batch_event("2.0", UPLOAD, *tasks))["results"]
    assert [(r["taskId"], r["resultCode"]) for r in results] == [
        ("task-0", "Succeeded"),
        ("task-1", "PermanentFailure"),
        ("task-2", "PermanentFailure"),
        ("task-3", "TemporaryFailure"),
        ("task-4", "PermanentFailure"),
    ]
    assert [r["resultString"] for r in results[:3]] == [
        "good.jpg/manifest.json",
        f"source_missing: s3://{UPLOAD}/images/gone.jpg does not exist; nothing was written",
        "unsupported_format: bad.jpg/error.json",
    ]
    assert results[4]["resultString"] == "ignored: key is not under images/"


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_second_run_is_a_duplicate_skip_that_writes_nothing(aws, image_fn, csv_fn, schema):
    _put(aws, "images/again.jpg", _jpeg())
    _put(aws, "images/broken.jpg", b"text")
    _put(aws, "csv/again.csv", SALES)
    event = batch_event(schema, UPLOAD, ("images/again.jpg", None), ("images/broken.jpg", None))
    image_fn.invoke(event)
    csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/again.csv", None)))
    processed, uploaded = _versions(aws, PROCESSED), _versions(aws, UPLOAD)

    # The skip names the marker; a rejected upload stays a PermanentFailure with its reason,
    # so that it never drops out of a re-run's failed-tasks report.
    assert image_fn.invoke(event) == response(
        schema,
        ("Succeeded", "skipped_duplicate: this upload is already done: again.jpg/manifest.json"),
        (
            "PermanentFailure",
            "unsupported_format: broken.jpg/error.json; "
            "skipped_duplicate: this upload was already rejected: broken.jpg/error.json",
        ),
    )
    assert csv_fn.invoke(batch_event(schema, UPLOAD, ("csv/again.csv", None))) == response(
        schema,
        ("Succeeded", "skipped_duplicate: this upload is already done: summaries/again.csv.json"),
    )
    assert (_versions(aws, PROCESSED), _versions(aws, UPLOAD)) == (processed, uploaded)


def test_a_task_after_the_s3_event_of_the_same_upload_is_a_duplicate(aws, image_fn):
    image_fn.invoke(upload(aws, UPLOAD, "images/seen.jpg", _jpeg(), "0001"))
    before = _versions(aws, PROCESSED)
    result = image_fn.invoke(batch_event("2.0", UPLOAD, ("images/seen.jpg", None)))
    expected = (
        "Succeeded",
        "skipped_duplicate: this upload is already done: seen.jpg/manifest.json",
    )
    assert result == response("2.0", expected)
    assert _versions(aws, PROCESSED) == before


def test_a_task_without_a_version_processes_the_current_object(aws, csv_fn):
    _put(aws, "csv/v.csv", SALES)
    current = _put(aws, "csv/v.csv", SALES + b"east,7\n")
    csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/v.csv", None)))
    head = aws.head_object(Bucket=UPLOAD, Key="summaries/v.csv.json")
    assert head["Metadata"]["source-version-id"] == current


def test_a_task_naming_an_overwritten_version_is_a_permanent_failure(aws, csv_fn):
    old = _put(aws, "csv/old.csv", SALES)
    new = _put(aws, "csv/old.csv", SALES + b"east,7\n")
    result = csv_fn.invoke(batch_event("1.0", UPLOAD, ("csv/old.csv", old)))
    expected = (
        f"not_current: s3://{UPLOAD}/csv/old.csv now holds version {new}, not {old}; "
        "nothing was written"
    )
    assert result == response("1.0", ("PermanentFailure", expected))
    assert "Contents" not in aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")


def test_a_task_naming_a_version_that_does_not_exist_is_source_missing(aws, csv_fn):
    _put(aws, "csv/v.csv", SALES)
    version = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    result = csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/v.csv", version)))
    expected = (
        f"source_missing: s3://{UPLOAD}/csv/v.csv (version {version}) does not exist; "
        "nothing was written"
    )
    assert result == response("2.0", ("PermanentFailure", expected))
    assert "Contents" not in aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")


def test_a_late_s3_event_of_an_older_upload_never_replaces_a_tasks_newer_summary(aws, csv_fn):
    """A Batch task's marker has no sequencer to order by: the late event is judged by
    whether the key still holds its object, and it does not."""
    late = upload(aws, UPLOAD, "csv/late.csv", SALES, "0001")
    newer = _put(aws, "csv/late.csv", SALES + b"east,7\n")
    csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/late.csv", None)))
    before = _versions(aws, UPLOAD)

    (record,) = csv_fn.invoke(late)["records"]
    old = late["Records"][0]["s3"]["object"]["versionId"]
    assert (record["status"], record["detail"]) == (
        "skipped_stale",
        f"not_current: s3://{UPLOAD}/csv/late.csv now holds version {newer}, not {old}",
    )
    assert _versions(aws, UPLOAD) == before
    head = aws.head_object(Bucket=UPLOAD, Key="summaries/late.csv.json")
    assert head["Metadata"]["source-version-id"] == newer
