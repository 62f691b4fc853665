import json
from pathlib import Path

import pytest
from pipeline_runtime.events import (
    BatchInvocation,
    EventShapeError,
    MalformedTask,
    S3ObjectRef,
    batch_invocation,
    parse_event,
)

from tests.events import (
    batch_event,
    eventbridge_event,
    s3_event,
    s3_object,
    s3_record,
    sns_in_sqs_event,
    sqs_event,
)

EVENTS = Path(__file__).resolve().parents[2] / "events"
BUCKET = "local-upload-123456789012-us-east-1"

# What each sample event must parse to: (key, sequencer) per record.
EXPECTED = {
    "image_put.json": [("images/photo-rotated.jpg", "0055AED6DCD90281E5")],
    "csv_put.json": [("csv/sales.csv", "0055AED6DCD90281E6")],
    "image_put_unicode_key.json": [
        ("images/holiday photos/café à la plage ☀.jpg", "0055AED6DCD90281E7")
    ],
    "image_put_multi_record.json": [
        ("images/photo-rotated.jpg", "0055AED6DCD90281E8"),
        ("images/logo-transparent.png", "0055AED6DCD90281E9"),
    ],
    "csv_complete_multipart_upload.json": [("csv/sales.csv", "0055AED6DCD90281EA")],
    "s3_test_event.json": [],
    "image_put_via_sqs.json": [("images/photo-rotated.jpg", "0055AED6DCD90281EB")],
    "csv_put_via_eventbridge.json": [("csv/quarterly report 2026.csv", "0055AED6DCD90281EC")],
    "image_batch_operations_schema2.json": [("images/holiday photos/café ☀.jpg", None)],
    "image_batch_operations_schema1.json": [("images/logo-transparent.png", None)],
    "csv_batch_operations_schema2.json": [("csv/quarterly report 2026.csv", None)],
}


def test_every_sample_event_is_covered():
    assert sorted(p.name for p in EVENTS.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_event_parses(name):
    refs = parse_event(json.loads((EVENTS / name).read_text()))
    assert [(r.key, r.sequencer) for r in refs] == EXPECTED[name]
    for ref in refs:
        assert ref.bucket == BUCKET
        if ref.task_id:  # a Batch Operations task names a key and maybe a version only
            assert ref.needs_head and ref.size is None
            continue
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
        event_time="2026-11-23T12:00:00.000Z",
        request_id="C3D13FE58DE4C810",
    )
    assert ref.correlation_id == "0055AED6DCD90281E5"


def _event_with_key(raw_key: str) -> dict:
    return s3_event(s3_record("b", s3_object(raw_key, encode=False, size=1)))


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
    event = sns_in_sqs_event(json.loads((EVENTS / "image_put.json").read_text()))
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
        request_id="inv",
        task_id="dGFza2lk",
    )
    assert first.needs_head and first.correlation_id == "dGFza2lk"
    assert (second.task_id, second.version_id) == ("t2", None)
    assert batch_invocation(event) == BatchInvocation(schema, "inv", (first, second))


def test_other_shapes_are_no_batch_invocation():
    assert batch_invocation(json.loads((EVENTS / "image_put.json").read_text())) is None


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            {"invocationSchemaVersion": "3.0", "invocationId": "i", "tasks": [BATCH_TASK]},
            BatchInvocation(
                "3.0",
                "i",
                (MalformedTask("dGFza2lk", "invocationSchemaVersion '3.0' is not 1.0 or 2.0"),),
            ),
        ),
        ({"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": []}, None),
        ({"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": {"a": 1}}, None),
        ({"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": [{"s3Key": "k"}]}, None),
        (
            {"invocationSchemaVersion": "2.0", "tasks": [BATCH_TASK | {"s3Bucket": "b"}]},
            BatchInvocation(
                "2.0",
                "",
                (
                    S3ObjectRef(
                        "b",
                        "images/a b+é.jpg",
                        "v1",
                        task_id="dGFza2lk",
                    ),
                ),
            ),
        ),
        (
            {"invocationSchemaVersion": "2.0", "invocationId": "i", "tasks": [BATCH_TASK]},
            BatchInvocation(
                "2.0",
                "i",
                (
                    MalformedTask(
                        "dGFza2lk", "the task has no s3Bucket (schema 2.0) or s3BucketArn (1.0)"
                    ),
                ),
            ),
        ),
        (
            {
                "invocationSchemaVersion": "2.0",
                "invocationId": "i",
                "tasks": [{"taskId": "t", "s3Bucket": "b", "s3Key": "a%zz"}],
            },
            BatchInvocation(
                "2.0", "i", (MalformedTask("t", "key 'a%zz' is not a URL-encoded UTF-8 key"),)
            ),
        ),
    ],
)
def test_malformed_batch_events_are_answered_task_by_task_never_raised(event, expected):
    """Tasks without a taskId cannot be answered: Batch applies treatMissingKeysAs to them."""
    if expected is None:
        expected = BatchInvocation("2.0", "i", ())
    assert batch_invocation(event) == expected
    assert parse_event(event) == [t for t in expected.tasks if isinstance(t, S3ObjectRef)]


@pytest.mark.parametrize("raw", ["images/100%", "images/%E9t%C3%A9.jpg", "images/%zz.jpg"])
def test_a_notification_key_with_an_invalid_escape_is_a_shape_error(raw):
    event = s3_event(s3_record("b", s3_object(raw, encode=False)))
    with pytest.raises(EventShapeError, match="is not a URL-encoded UTF-8 key"):
        parse_event(event)


# One key with a space, a "+" and unicode, as each shape carries it.
KEY = "csv/q1 2026 + ünïcode.csv"
ENCODED_KEY = "csv/q1+2026+%2B+%C3%BCn%C3%AFcode.csv"  # S3 notifications and Batch tasks


def _s3(raw_key: str = ENCODED_KEY) -> dict:
    obj = s3_object(raw_key, encode=False, size=5, etag="e0", version_id="v0", sequencer="01")
    return s3_event(s3_record("b", obj, event_source="aws:s3"))


def _eventbridge() -> dict:
    obj = {"key": KEY, "size": 5, "etag": "e0", "version-id": "v0", "sequencer": "01"}
    return eventbridge_event("b", obj)


def _batch_event() -> dict:
    return batch_event(
        "2.0", "b", (KEY, "v0"), invocation_id="i", job_id="j", task_ids=["t"], user_arguments=False
    )


SHAPES = {
    "s3": _s3,
    "sqs": lambda: sqs_event(_s3()),
    "sns_in_sqs": lambda: sns_in_sqs_event(_s3()),
    "eventbridge": _eventbridge,
    "batch_operations": _batch_event,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_names_the_same_key(shape):
    (ref,) = parse_event(SHAPES[shape]())
    assert (ref.bucket, ref.key) == ("b", KEY)


def test_an_eventbridge_key_is_taken_as_it_comes_unlike_powertools_key():
    from aws_lambda_powertools.utilities.data_classes import S3EventBridgeNotificationEvent

    event = _eventbridge()
    # Powertools' property would turn the "+" into a space: not the object's key.
    assert S3EventBridgeNotificationEvent(event).detail.object.key == "csv/q1 2026   ünïcode.csv"
    assert parse_event(event)[0].key == KEY
