"""Nothing removes or misstates the results of the object a key holds now.

Each test is a hostile or operator's case that once deleted or replaced current results:
a Batch task or an event about a version that is gone, deleted since, never existed or
lives in another bucket; a clean-up delete that kept failing; and results written for an
object the key no longer holds. Every such outcome is answered and writes nothing.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image
from pipeline_runtime.endings import RecordsFailedError

from tests.conftest import LambdaContext, upload
from tests.events import batch_event
from tests.integration.faults import fail_first_calls
from tests.integration.test_batch_operations import PROCESSED, SALES, UPLOAD, response

MISTYPED_VERSION = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _versions(s3: Any, bucket: str) -> list[tuple[str, str, bool]]:
    """Every object version and delete marker, with whether it is the latest."""
    listing = s3.list_object_versions(Bucket=bucket)
    entries = listing.get("Versions", []) + listing.get("DeleteMarkers", [])
    return sorted((e["Key"], e["VersionId"], e["IsLatest"]) for e in entries)


def _source_version(s3: Any, bucket: str, key: str) -> str:
    return str(s3.head_object(Bucket=bucket, Key=key)["Metadata"]["source-version-id"])


def _two_settled_uploads(s3: Any, fn: Any, key: str, first: bytes, second: bytes) -> list[str]:
    """Upload ``key`` twice, each followed by its S3 event; the version ids, oldest first."""
    versions = []
    for sequencer, body in (("0001", first), ("0002", second)):
        event = upload(s3, UPLOAD, key, body, sequencer)
        assert fn.invoke(event)["records"][0]["status"] == "results"
        versions.append(event["Records"][0]["s3"]["object"]["versionId"])
    return versions


@pytest.fixture
def image_fn(aws, load_function):
    return load_function("ImageProcessorFunction")


@pytest.fixture
def csv_fn(aws, load_function):
    return load_function("CsvSummarizerFunction")


# ---------------------------------------------------------------- Batch tasks about other versions
def test_a_task_for_a_deleted_older_version_keeps_the_current_manifest(aws, image_fn):
    """The issue's reproduction: V1 and V2 settled, V1 deleted, a task names V1."""
    v1, v2 = _two_settled_uploads(aws, image_fn, "images/cat.png", _png((9, 9, 9)), _png((1, 2, 3)))
    aws.delete_object(Bucket=UPLOAD, Key="images/cat.png", VersionId=v1)
    before = _versions(aws, PROCESSED)

    result = image_fn.invoke(batch_event("2.0", UPLOAD, ("images/cat.png", v1)))

    assert _versions(aws, PROCESSED) == before  # the current manifest is still there
    assert _source_version(aws, PROCESSED, "cat.png/manifest.json") == v2
    assert result == response(
        "2.0",
        (
            "PermanentFailure",
            f"source_missing: s3://{UPLOAD}/images/cat.png (version {v1}) does not exist; "
            "nothing was written",
        ),
    )


def test_a_task_for_a_deleted_older_version_keeps_the_current_summary(aws, csv_fn):
    v1, v2 = _two_settled_uploads(aws, csv_fn, "csv/s.csv", SALES, SALES + b"east,7\n")
    aws.delete_object(Bucket=UPLOAD, Key="csv/s.csv", VersionId=v1)
    before = _versions(aws, UPLOAD)

    (result,) = csv_fn.invoke(batch_event("1.0", UPLOAD, ("csv/s.csv", v1)))["results"]

    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"].startswith("source_missing: ")
    assert _versions(aws, UPLOAD) == before
    assert _source_version(aws, UPLOAD, "summaries/s.csv.json") == v2


def test_a_task_for_a_version_that_never_existed_keeps_the_current_summary(aws, csv_fn):
    _, v2 = _two_settled_uploads(aws, csv_fn, "csv/t.csv", SALES, SALES + b"east,7\n")
    before = _versions(aws, UPLOAD)

    (result,) = csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/t.csv", MISTYPED_VERSION)))[
        "results"
    ]

    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        f"source_missing: s3://{UPLOAD}/csv/t.csv (version {MISTYPED_VERSION}) does not "
        "exist; nothing was written",
    )
    assert _versions(aws, UPLOAD) == before
    assert _source_version(aws, UPLOAD, "summaries/t.csv.json") == v2


def test_a_task_for_an_overwritten_version_still_stored_is_not_current(aws, image_fn):
    v1, v2 = _two_settled_uploads(aws, image_fn, "images/old.png", _png((9, 9, 9)), _png((1, 2, 3)))
    before = _versions(aws, PROCESSED)

    (result,) = image_fn.invoke(batch_event("2.0", UPLOAD, ("images/old.png", v1)))["results"]

    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        f"not_current: s3://{UPLOAD}/images/old.png now holds version {v2}, not {v1}; "
        "nothing was written",
    )
    assert _versions(aws, PROCESSED) == before


def test_a_task_for_the_right_key_in_another_bucket_writes_nothing(aws, image_fn, csv_fn):
    _two_settled_uploads(aws, image_fn, "images/cat.png", _png((9, 9, 9)), _png((1, 2, 3)))
    aws.create_bucket(Bucket="someone-elses-bucket")
    aws.put_object(Bucket="someone-elses-bucket", Key="images/cat.png", Body=b"not ours")
    before = _versions(aws, PROCESSED)
    event = batch_event("2.0", UPLOAD, ("images/cat.png", None))
    event["tasks"][0]["s3Bucket"] = "someone-elses-bucket"

    (result,) = image_fn.invoke(event)["results"]

    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        f"ignored: bucket someone-elses-bucket is not this function's upload bucket {UPLOAD}",
    )
    assert _versions(aws, PROCESSED) == before
    (result,) = csv_fn.invoke(event)["results"]
    assert result["resultCode"] == "PermanentFailure"
    assert "Contents" not in aws.list_objects_v2(Bucket="someone-elses-bucket", Prefix="summ")


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_a_task_for_a_version_of_a_key_deleted_since_writes_no_results(aws, image_fn, schema):
    """The version is still stored, but the key holds no object now (a delete marker)."""
    body = _png((5, 6, 7))
    aws.put_object(Bucket=UPLOAD, Key="images/was.png", Body=body)
    version = aws.head_object(Bucket=UPLOAD, Key="images/was.png")["VersionId"]
    aws.delete_object(Bucket=UPLOAD, Key="images/was.png")

    (result,) = image_fn.invoke(batch_event(schema, UPLOAD, ("images/was.png", version)))["results"]

    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        f"not_current: s3://{UPLOAD}/images/was.png has been deleted since; nothing was written",
    )
    assert _versions(aws, PROCESSED) == []


# ---------------------------------------------------------------- S3 events about other objects
def test_an_event_for_a_key_deleted_since_retires_nothing(aws, csv_fn):
    """V1 settled; V2's event arrives after both versions were deleted for good."""
    first = upload(aws, UPLOAD, "csv/gone.csv", SALES, "0001")
    csv_fn.invoke(first)
    second = upload(aws, UPLOAD, "csv/gone.csv", SALES + b"east,7\n", "0002")
    for version in (first, second):
        version_id = version["Records"][0]["s3"]["object"]["versionId"]
        aws.delete_object(Bucket=UPLOAD, Key="csv/gone.csv", VersionId=version_id)
    before = _versions(aws, UPLOAD)

    (record,) = csv_fn.invoke(second)["records"]

    version_id = second["Records"][0]["s3"]["object"]["versionId"]
    assert (record["status"], record["detail"]) == (
        "skipped_stale",
        f"source_missing: s3://{UPLOAD}/csv/gone.csv (version {version_id}) does not exist",
    )
    assert _versions(aws, UPLOAD) == before


def test_an_event_for_a_version_deleted_since_by_a_delete_marker_writes_nothing(aws, image_fn):
    event = upload(aws, UPLOAD, "images/bye.png", _png((1, 1, 1)), "0001")
    aws.delete_object(Bucket=UPLOAD, Key="images/bye.png")

    (record,) = image_fn.invoke(event)["records"]

    assert (record["status"], record["detail"]) == (
        "skipped_stale",
        f"not_current: s3://{UPLOAD}/images/bye.png has been deleted since",
    )
    assert _versions(aws, PROCESSED) == []


# ---------------------------------------------------------------- a clean-up that fails
def test_a_failed_retirement_raises_and_the_retry_finishes_it(aws, csv_fn, monkeypatch):
    csv_fn.invoke(upload(aws, UPLOAD, "csv/swap.csv", SALES, "0001"))
    rejected = upload(aws, UPLOAD, "csv/swap.csv", b"", "0002")
    with monkeypatch.context() as patch:
        deletes = fail_first_calls(csv_fn.module.store.client, "delete_object", 10**6, patch)
        with pytest.raises(RecordsFailedError):
            csv_fn.invoke(rejected)  # the error report is written, the old summary is not retired
    assert deletes == ["summaries/swap.csv.json"] * 3

    (record,) = csv_fn.invoke(rejected)["records"]  # Lambda's retry

    assert record["status"] == "skipped_duplicate"
    assert record["detail"] == (
        "this upload was already rejected: summaries/swap.csv.error.json; "
        "retired the older marker summaries/swap.csv.json"
    )
    listing = aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")
    assert [o["Key"] for o in listing["Contents"]] == ["summaries/swap.csv.error.json"]


def test_a_failed_retirement_of_an_error_report_is_finished_by_a_batch_rerun(
    aws, image_fn, monkeypatch
):
    image_fn.invoke(upload(aws, UPLOAD, "images/fix.png", b"not an image", "0001"))
    good = upload(aws, UPLOAD, "images/fix.png", _png((3, 3, 3)), "0002")
    with monkeypatch.context() as patch:
        fail_first_calls(image_fn.module.store.client, "delete_object", 10**6, patch)
        with pytest.raises(RecordsFailedError):
            image_fn.invoke(good)
    assert aws.head_object(Bucket=PROCESSED, Key="fix.png/error.json")

    (result,) = image_fn.invoke(batch_event("2.0", UPLOAD, ("images/fix.png", None)))["results"]

    assert result["resultCode"] == "Succeeded"
    assert result["resultString"].endswith("; retired the older marker fix.png/error.json")
    with pytest.raises(ClientError):
        aws.head_object(Bucket=PROCESSED, Key="fix.png/error.json")


# ---------------------------------------------------------------- malformed and impossible tasks
def test_malformed_tasks_fail_alone_and_the_others_run(aws, csv_fn):
    aws.put_object(Bucket=UPLOAD, Key="csv/ok.csv", Body=SALES)
    event = batch_event(
        "2.0", UPLOAD, ("csv/ok.csv", None), ("csv/x.csv", None), ("csv/y.csv", None)
    )
    del event["tasks"][1]["s3Key"]
    event["tasks"][2]["s3Key"] = "csv/bad%E9escape.csv"

    results = csv_fn.invoke(event)["results"]

    assert [(r["taskId"], r["resultCode"], r["resultString"]) for r in results] == [
        ("task-0", "Succeeded", "summaries/ok.csv.json"),
        ("task-1", "PermanentFailure", "malformed_task: the task has no s3Key"),
        (
            "task-2",
            "PermanentFailure",
            "malformed_task: key 'csv/bad%E9escape.csv' is not a URL-encoded UTF-8 key",
        ),
    ]


@pytest.mark.parametrize(
    ("change", "results"),
    [
        ({"tasks": []}, []),
        ({"tasks": "csv/ok.csv"}, []),
        ({"tasks": [["not", "an", "object"]]}, []),
    ],
)
def test_an_event_with_no_usable_task_still_gets_a_valid_response(aws, csv_fn, change, results):
    event = batch_event("2.0", UPLOAD, ("csv/ok.csv", None)) | change
    assert csv_fn.invoke(event) == response("2.0") | {"results": results}


def test_an_event_without_an_invocation_id_still_answers_every_task(aws, csv_fn):
    aws.put_object(Bucket=UPLOAD, Key="csv/ok.csv", Body=SALES)
    event = batch_event("2.0", UPLOAD, ("csv/ok.csv", None))
    del event["invocationId"]
    answer = csv_fn.invoke(event)
    assert answer["invocationId"] == ""
    assert answer["results"] == [
        {"taskId": "task-0", "resultCode": "Succeeded", "resultString": "summaries/ok.csv.json"}
    ]


def test_a_key_longer_than_s3_allows_is_a_permanent_failure(aws, image_fn, csv_fn):
    long_key = "images/" + "a" * 1100 + ".png"
    aws.put_object(Bucket=UPLOAD, Key=long_key, Body=_png((1, 1, 1)))  # moto allows it; S3 not
    (result,) = image_fn.invoke(batch_event("2.0", UPLOAD, (long_key, None)))["results"]
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"] == (
        "source_missing: the key is 1111 bytes, over S3's limit of 1024; "
        "no such object can exist; nothing was written"
    )
    assert _versions(aws, PROCESSED) == []


def test_outputs_whose_keys_would_be_too_long_get_a_report_where_one_fits(aws, image_fn, csv_fn):
    # 1,020 bytes: a valid key, but its summary key (summaries/ + .json) would not be.
    csv_key = "csv/" + "c" * 1012 + ".csv"
    aws.put_object(Bucket=UPLOAD, Key=csv_key, Body=SALES)
    (result,) = csv_fn.invoke(batch_event("2.0", UPLOAD, (csv_key, None)))["results"]
    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        "key_too_long: no error report: its key would be 1037 bytes, over S3's 1024",
    )
    # An image's error report fits where its variants do not.
    image_key = "images/" + "i" * 1005 + ".png"
    aws.put_object(Bucket=UPLOAD, Key=image_key, Body=_png((1, 1, 1)))
    (result,) = image_fn.invoke(batch_event("2.0", UPLOAD, (image_key, None)))["results"]
    report_key = "i" * 1005 + ".png/error.json"
    assert (result["resultCode"], result["resultString"]) == (
        "PermanentFailure",
        f"key_too_long: {report_key}",
    )
    report = json.loads(aws.get_object(Bucket=PROCESSED, Key=report_key)["Body"].read())
    assert report["message"].startswith("output key ")
    assert [k for k, _, _ in _versions(aws, PROCESSED)] == [report_key]


def test_an_s3_event_whose_report_cannot_be_written_raises_for_the_failure_queue(aws, csv_fn):
    csv_key = "csv/" + "c" * 1012 + ".csv"
    event = upload(aws, UPLOAD, csv_key, SALES, "0001")
    with pytest.raises(RecordsFailedError):
        csv_fn.invoke(event)
    assert "Contents" not in aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")


# ---------------------------------------------------------------- time per task
def test_a_task_out_of_time_after_another_is_retried_not_rejected(aws, csv_fn, monkeypatch):
    aws.put_object(Bucket=UPLOAD, Key="csv/first.csv", Body=SALES)
    aws.put_object(Bucket=UPLOAD, Key="csv/second.csv", Body=SALES)
    clock = LambdaContext(csv_fn.spec.name, timeout_s=300)
    real_put = csv_fn.module.store.client.put_object

    def put_object(**kwargs: Any) -> Any:
        if kwargs["Key"] == "summaries/first.csv.json":
            clock.remaining_s = 14.0  # the first task used almost the whole invocation
        return real_put(**kwargs)

    monkeypatch.setattr(csv_fn.module.store.client, "put_object", put_object)
    event = batch_event("2.0", UPLOAD, ("csv/first.csv", None), ("csv/second.csv", None))

    results = csv_fn.module.lambda_handler(event, clock)["results"]

    assert [(r["resultCode"], r["resultString"]) for r in results] == [
        ("Succeeded", "summaries/first.csv.json"),
        (
            "TemporaryFailure",
            "deferred: only 14 s of the invocation's 300 s were left after the records before it",
        ),
    ]
    assert "summaries/second.csv.error.json" not in {
        o["Key"] for o in aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")["Contents"]
    }


def test_a_task_that_runs_out_of_time_after_another_gets_no_error_report(aws, csv_fn, monkeypatch):
    aws.put_object(Bucket=UPLOAD, Key="csv/first.csv", Body=SALES)
    aws.put_object(Bucket=UPLOAD, Key="csv/second.csv", Body=SALES)
    clock = LambdaContext(csv_fn.spec.name, timeout_s=300)
    real_summarize = csv_fn.module.summarize
    calls: list[int] = []

    def summarize(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the second task starts with time, then the clock runs out
            clock.remaining_s = 10.0
        return real_summarize(*args, **kwargs)

    monkeypatch.setattr(csv_fn.module, "summarize", summarize)
    event = batch_event("2.0", UPLOAD, ("csv/first.csv", None), ("csv/second.csv", None))

    results = csv_fn.module.lambda_handler(event, clock)["results"]

    assert [r["resultCode"] for r in results] == ["Succeeded", "TemporaryFailure"]
    assert results[1]["resultString"].startswith(
        "deferred: out of time after the records before it: stopped after 0 rows"
    )
    keys = {o["Key"] for o in aws.list_objects_v2(Bucket=UPLOAD, Prefix="summaries/")["Contents"]}
    assert keys == {"summaries/first.csv.json"}


def test_a_request_s3_refuses_as_invalid_is_a_permanent_failure_tried_once(
    aws, csv_fn, monkeypatch
):
    aws.put_object(Bucket=UPLOAD, Key="csv/ok.csv", Body=SALES)
    calls: list[str] = []

    def get_object(**kwargs: Any) -> Any:
        calls.append(kwargs["Key"])
        raise ClientError(
            {
                "Error": {"Code": "KeyTooLongError", "Message": "Your key is too long"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            },
            "GetObject",
        )

    monkeypatch.setattr(csv_fn.module.store.client, "get_object", get_object)
    (result,) = csv_fn.invoke(batch_event("2.0", UPLOAD, ("csv/ok.csv", None)))["results"]
    assert result["resultCode"] == "PermanentFailure"
    assert result["resultString"] == (
        "invalid_request: An error occurred (KeyTooLongError) when calling the GetObject "
        "operation: Your key is too long"
    )
    assert calls == ["csv/ok.csv"]
