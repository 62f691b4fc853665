"""Turn whatever invoked us into a list of S3 objects to process.

Accepted shapes, read through Powertools' event data classes:
- an S3 event notification (``Records[].s3``), possibly with several records;
- the same notification wrapped in SQS (``Records[].body`` holds the S3 event JSON), or in
  SNS and then SQS (the body is an SNS notification whose ``Message`` is the S3 event);
- an EventBridge "Object Created" event (``detail.bucket.name`` / ``detail.object.key``);
- an S3 Batch Operations ``LambdaInvoke`` event (``tasks[]``, invocation schema 1.0 or 2.0).
  A task names a key and maybe a version, nothing more: its ref has no ETag, size or
  sequencer until ``s3io.ObjectStore.fill_from_head`` HEADs the object (``needs_head``).
  A Batch event is never refused as a whole: each task is a ref or a ``MalformedTask``
  that gets its own answer (``batch_invocation``), because a raise would fail every task.

``s3:TestEvent`` (sent when a notification configuration is saved) yields no objects.

Keys in S3 notifications and Batch tasks are URL-encoded, ``+`` for a space, and are decoded
strictly (``decode_key``): S3 encodes every ``%`` and writes UTF-8, so an invalid escape
means the event names no object S3 can hold, and guessing would name the wrong one.
EventBridge keys are taken as they come, although Powertools'
``S3EventBridgeNotificationObject.key`` decodes them too: AWS documents the encoding for
notifications only (notification-content-structure, not ev-events); real EventBridge events
carry raw keys (``:`` unescaped, where a notification has ``%3A``), and so does moto.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from aws_lambda_powertools.utilities.data_classes import (
    S3EventBridgeNotificationEvent,
    SQSRecord,
)
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import (
    S3BatchOperationTask,
)
from aws_lambda_powertools.utilities.data_classes.s3_event import S3EventRecord
from aws_lambda_powertools.utilities.data_classes.sns_event import SNSMessage

BATCH_SCHEMA_VERSIONS = ("1.0", "2.0")


class EventShapeError(ValueError):
    """The event is not one of the shapes we accept; retrying cannot help."""


@dataclass(frozen=True)
class S3ObjectRef:
    """One uploaded object, as named by one event record."""

    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    sequencer: str | None = None
    event_time: str | None = None
    request_id: str | None = None
    task_id: str | None = None  # the S3 Batch Operations task that named the object

    @property
    def correlation_id(self) -> str:
        """Ties every log line of this record together: the sequencer is unique per write."""
        return self.sequencer or self.task_id or self.request_id or f"{self.bucket}/{self.key}"

    @property
    def needs_head(self) -> bool:
        """A Batch Operations task not yet HEADed: no ETag or size to fetch and judge it by."""
        return self.task_id is not None and self.etag is None

    def as_source(self) -> dict[str, Any]:
        """What outputs record about their source, for idempotency and provenance."""
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
            "sequencer": self.sequencer,
            "event_time": self.event_time,
        }


@dataclass(frozen=True)
class MalformedTask:
    """A Batch Operations task that names no object we could read: answered, never raised."""

    task_id: str
    problem: str


@dataclass(frozen=True)
class BatchInvocation:
    """An S3 Batch Operations event: what its response echoes, and its tasks in order.

    Tasks without a ``taskId`` cannot be answered and are left out: Batch Operations then
    applies the response's ``treatMissingKeysAs`` (PermanentFailure) to them.
    """

    schema_version: str
    invocation_id: str
    tasks: tuple[S3ObjectRef | MalformedTask, ...] = ()


def parse_event(event: dict[str, Any]) -> list[S3ObjectRef]:
    """All S3 objects named by ``event``, in the order given."""
    return _walk(event)


def batch_invocation(event: dict[str, Any]) -> BatchInvocation | None:
    """The invocation of an S3 Batch Operations event; None for every other shape.

    Never raises for a Batch event, however malformed: the response must still be valid.
    """
    if not _is_batch_operation(event):
        return None
    invocation_id = event.get("invocationId")
    return BatchInvocation(
        str(event.get("invocationSchemaVersion")),
        invocation_id if isinstance(invocation_id, str) else "",
        tuple(_batch_tasks(event)),
    )


def _is_batch_operation(event: Any) -> bool:
    return isinstance(event, dict) and "invocationSchemaVersion" in event


def _walk(event: Any) -> list[S3ObjectRef]:
    """The one dispatch over event shapes."""
    if not isinstance(event, dict):
        raise EventShapeError(f"event must be a JSON object, got {type(event).__name__}")
    if event.get("Event") == "s3:TestEvent":
        return []
    if _is_batch_operation(event):
        return _from_batch_operation(event)
    if event.get("detail-type") == "Object Created" and event.get("source") == "aws.s3":
        return [_from_eventbridge(event)]
    records = event.get("Records")
    if not isinstance(records, list):
        raise EventShapeError("event has neither Records nor an EventBridge detail")
    refs: list[S3ObjectRef] = []
    for record in records:
        if not isinstance(record, dict):
            raise EventShapeError("a record is not a JSON object")
        if record.get("eventSource") == "aws:sqs" or ("body" in record and "s3" not in record):
            refs.extend(_from_sqs_record(record))
        elif "s3" in record:
            refs.append(_from_s3_record(record))
        else:
            raise EventShapeError(f"unrecognised record with fields {sorted(record)}")
    return refs


def _from_s3_record(record: dict[str, Any]) -> S3ObjectRef:
    s3_record = S3EventRecord(record)
    try:
        bucket = s3_record.s3.bucket.name
        obj = s3_record.s3.get_object
        raw_key = obj.key
    except (KeyError, TypeError, AttributeError) as exc:
        raise EventShapeError(f"S3 record lacks {exc}") from exc
    size = obj.get("size")
    return S3ObjectRef(
        bucket=bucket,
        key=decode_key(raw_key),
        version_id=obj.version_id or None,
        etag=normalise_etag(obj.etag),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_time=s3_record.get("eventTime"),
        request_id=(s3_record.get("responseElements") or {}).get("x-amz-request-id"),
    )


def _from_sqs_record(record: dict[str, Any]) -> list[S3ObjectRef]:
    sqs_record = SQSRecord(record)
    inner = _json(sqs_record.get("body"), "SQS record body")
    sns = SNSMessage(inner) if isinstance(inner, dict) else None
    # SNS fan-out puts the S3 event one level deeper, in "Message".
    if sns is not None and sns.get("Type") == "Notification" and "Message" in inner:
        message = _json(sns.message, "SNS Message in an SQS record")
        return _walk(message)
    return _walk(inner)


def _json(text: Any, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise EventShapeError(f"{what} is not JSON: {exc}") from exc


def _from_eventbridge(event: dict[str, Any]) -> S3ObjectRef:
    detail = S3EventBridgeNotificationEvent(event).detail
    try:
        bucket = detail.bucket.name
        obj = detail.object
        key = obj["key"]  # as it comes: see the module docstring
    except (KeyError, TypeError, AttributeError) as exc:
        raise EventShapeError(f"EventBridge detail lacks {exc}") from exc
    size = obj.size
    return S3ObjectRef(
        bucket=bucket,
        key=key,
        version_id=obj.get("version-id") or None,
        etag=normalise_etag(obj.etag),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_time=event.get("time"),
        request_id=detail.get("request-id"),
    )


def _from_batch_operation(event: dict[str, Any]) -> list[S3ObjectRef]:
    """The readable tasks' objects; malformed tasks are answered by ``batch_invocation``."""
    return [task for task in _batch_tasks(event) if isinstance(task, S3ObjectRef)]


def _batch_tasks(event: dict[str, Any]) -> list[S3ObjectRef | MalformedTask]:
    tasks = event.get("tasks")
    if not isinstance(tasks, list):
        return []
    version = event.get("invocationSchemaVersion")
    wrong_version = (
        None
        if version in BATCH_SCHEMA_VERSIONS
        else f"invocationSchemaVersion {version!r} is not 1.0 or 2.0"
    )
    invocation_id = event.get("invocationId")
    parsed: list[S3ObjectRef | MalformedTask] = []
    for raw in tasks:
        task_id = raw.get("taskId") if isinstance(raw, dict) else None
        if not isinstance(task_id, str) or not task_id:
            continue  # nothing to answer it by: treatMissingKeysAs applies
        try:
            if wrong_version:
                raise EventShapeError(wrong_version)
            ref = _from_batch_task(S3BatchOperationTask(raw), invocation_id)
        except EventShapeError as malformed:
            parsed.append(MalformedTask(task_id, str(malformed)))
            continue
        parsed.append(ref)
    return parsed


def _from_batch_task(task: S3BatchOperationTask, invocation_id: Any) -> S3ObjectRef:
    raw_key = task.get("s3Key")
    if not isinstance(raw_key, str) or not raw_key:
        raise EventShapeError("the task has no s3Key")
    bucket = task.get("s3Bucket") or (task.s3_bucket_arn or "").rpartition(":::")[2]
    if not isinstance(bucket, str) or not bucket:
        raise EventShapeError("the task has no s3Bucket (schema 2.0) or s3BucketArn (1.0)")
    version_id = task.s3_version_id
    if version_id is not None and not isinstance(version_id, str):
        raise EventShapeError(f"s3VersionId {version_id!r} is not a string")
    return S3ObjectRef(
        bucket=bucket,
        key=decode_key(raw_key),  # not Powertools' s3_key, which decodes leniently
        version_id=version_id or None,
        request_id=invocation_id if isinstance(invocation_id, str) else None,
        task_id=task.task_id,
    )


# A "%" that does not start a two-digit hex escape.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_key(raw: str) -> str:
    """An S3 key from its URL-encoded form (``+`` for a space), refusing invalid escapes.

    ``unquote_plus`` would keep a stray ``%`` and replace invalid UTF-8 with U+FFFD: a key
    that S3 cannot hold, whose outputs and error report would land under a mangled name.
    """
    if _BAD_ESCAPE.search(raw):
        raise EventShapeError(f"key {raw!r} is not a URL-encoded UTF-8 key")
    try:
        return unquote_to_bytes(raw.replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        raise EventShapeError(f"key {raw!r} is not a URL-encoded UTF-8 key") from None


def normalise_etag(etag: str | None) -> str | None:
    """An ETag as events carry it: S3's responses quote it, notifications do not."""
    return etag.strip('"') if etag else None
