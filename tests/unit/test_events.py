import json
from pathlib import Path

import pytest
from pipeline_runtime.events import (
    BatchInvocation,
    EventShapeError,
    S3ObjectRef,
    batch_invocation,
    parse_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
BUCKET = "local-upload-123456789012-us-east-1"

# What each sample event must parse to: (key, event name, sequencer) per record.
EXPECTED = {
    "image_put.json": [("images/photo-rotated.jpg", "ObjectCreated:Put", "0055AED6DCD90281E5")],
    "csv_put.json": [("csv/sales.csv", "ObjectCreated:Put", "0055AED6DCD90281E6")],
    "image_put_unicode_key.json": [
        ("images/holiday photos/café à la plage ☀.jpg", "ObjectCreated:Put", "0055AED6DCD90281E7")
    ],
    "image_put_multi_record.json": [
        ("images/photo-rotated.jpg", "ObjectCreated:Put", "0055AED6DCD90281E8"),
        ("images/logo-transparent.png", "ObjectCreated:Put", "0055AED6DCD90281E9"),
    ],
    "csv_complete_multipart_upload.json": [
        ("csv/sales.csv", "ObjectCreated:CompleteMultipartUpload", "0055AED6DCD90281EA")
    ],
    "s3_test_event.json": [],
    "image_put_via_sqs.json": [
        ("images/photo-rotated.jpg", "ObjectCreated:Put", "0055AED6DCD90281EB")
    ],
    "csv_put_via_eventbridge.json": [
        ("csv/quarterly report 2026.csv", "ObjectCreated:PutObject", "0055AED6DCD90281EC")
    ],
}


def test_every_sample_event_is_covered():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_event_parses(name):
    refs = parse_event(json.loads((EVENTS / name).read_text()))
    assert [(r.key, r.event_name, r.sequencer) for r in refs] == EXPECTED[name]
    for ref in refs:
        assert ref.bucket == BUCKET
        assert ref.size and ref.size > 0
        assert ref.etag and '"' not in ref.etag
        assert ref.version_id


def test_s3_record_carries_identity():
    (ref,) = parse_event(json.loads((EVENTS / "image_put.json").read_text()))
    assert ref == S3ObjectRef(
        bucket=BUCKET,
        key="images/photo-rotated.jpg",
        version_id="3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        etag="0f343b0931126a20f133d67c2b018a3b",
        size=28114,
        sequencer="0055AED6DCD90281E5",
        event_name="ObjectCreated:Put",
        event_time="2026-11-23T12:00:00.000Z",
        request_id="C3D13FE58DE4C810",
    )
    assert ref.correlation_id == "0055AED6DCD90281E5"


def _event_with_key(raw_key: str) -> dict:
    return {"Records": [{"s3": {"bucket": {"name": "b"}, "object": {"key": raw_key, "size": 1}}}]}


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("images/cat+1.jpg", "images/cat 1.jpg"),
        ("images/cat%2B1.jpg", "images/cat+1.jpg"),
        ("images/%E6%97%A5%E6%9C%AC.png", "images/日本.png"),
        ("images/a%2Fb/c.jpg", "images/a/b/c.jpg"),
        ("images/100%25.jpg", "images/100%.jpg"),
        ("images/plain.jpg", "images/plain.jpg"),
    ],
)
def test_keys_are_url_decoded(raw, decoded):
    (ref,) = parse_event(_event_with_key(raw))
    assert ref.key == decoded


def test_eventbridge_keys_are_not_decoded():
    event = json.loads((EVENTS / "csv_put_via_eventbridge.json").read_text())
    event["detail"]["object"]["key"] = "csv/a+b%20c.csv"
    (ref,) = parse_event(event)
    assert ref.key == "csv/a+b%20c.csv"


def test_sns_inside_sqs_is_unwrapped():
    s3_event = json.loads((EVENTS / "image_put.json").read_text())
    sns = {"Type": "Notification", "Message": json.dumps(s3_event)}
    event = {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(sns)}]}
    assert [r.key for r in parse_event(event)] == ["images/photo-rotated.jpg"]


def test_missing_version_and_etag_are_none():
    (ref,) = parse_event(_event_with_key("images/x.jpg"))
    assert ref.version_id is None and ref.etag is None and ref.sequencer is None
    assert ref.correlation_id == "b/images/x.jpg"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"foo": 1}, "neither Records"),
        ({"Records": [{"s3": {"bucket": {"name": "b"}}}]}, "lacks"),
        ({"Records": ["x"]}, "not a JSON object"),
        ({"Records": [{"eventSource": "aws:sqs", "body": "not json"}]}, "not JSON"),
        ({"Records": [{"dynamodb": {}}]}, "unrecognised record"),
    ],
)
def test_bad_shapes_are_rejected_clearly(event, message):
    with pytest.raises(EventShapeError, match=message):
        parse_event(event)


BATCH_TASK = {"taskId": "dGFza2lk", "s3Key": "images/a+b%2B%C3%A9.jpg", "s3VersionId": "v1"}


@pytest.mark.parametrize(
    ("schema", "where"),
    [("2.0", {"s3Bucket": "b"}), ("1.0", {"s3BucketArn": "arn:aws:s3:::b"})],
)
def test_batch_operation_tasks_name_a_key_and_a_version_only(schema, where):
    event = {
        "invocationSchemaVersion": schema,
        "invocationId": "inv",
        "job": {"id": "job"},
        "tasks": [BATCH_TASK | where, BATCH_TASK | where | {"taskId": "t2", "s3VersionId": None}],
    }
    first, second = parse_event(event)
    assert first == S3ObjectRef(
        bucket="b",
        key="images/a b+é.jpg",
        version_id="v1",
        event_name="BatchOperations:LambdaInvoke",
        request_id="inv",
        task_id="dGFza2lk",
    )
    assert first.needs_identity and first.correlation_id == "dGFza2lk"
    assert (second.task_id, second.version_id) == ("t2", None)
    assert batch_invocation(event) == BatchInvocation(schema, "inv")


def test_other_shapes_are_no_batch_invocation():
    assert batch_invocation(json.loads((EVENTS / "image_put.json").read_text())) is None


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"invocationSchemaVersion": "3.0", "invocationId": "i", "tasks": [BATCH_TASK]},
            "S3 Batch Operations invocationSchemaVersion '3.0' is not 1.0 or 2.0",
        ),
        (
            {"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": []},
            "S3 Batch Operations event has no tasks",
        ),
        (
            {"invocationSchemaVersion": "2.0", "tasks": [BATCH_TASK]},
            "S3 Batch Operations event lacks invocationId or tasks",
        ),
        (
            {"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": [BATCH_TASK]},
            "S3 Batch Operations task lacks 's3Bucket'",
        ),
    ],
)
def test_malformed_batch_events_are_shape_errors(event, message):
    with pytest.raises(EventShapeError) as raised:
        parse_event(event)
    assert str(raised.value) == message
