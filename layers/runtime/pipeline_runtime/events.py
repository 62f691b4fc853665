"""Turn whatever invoked us into a list of S3 objects to process.

Accepted shapes:
- an S3 event notification (``Records[].s3``), possibly with several records;
- the same notification wrapped in SQS (``Records[].body`` holds the S3 event JSON);
- an EventBridge "Object Created" event (``detail.bucket.name`` / ``detail.object.key``);
- an S3 Batch Operations ``LambdaInvoke`` event (``tasks[]``, invocation schema 1.0 or 2.0).
  A task names a key and maybe a version, nothing more: its ref has no ETag, size or
  sequencer until ``s3io.ObjectStore.identify`` HEADs the object (``needs_identity``).

``s3:TestEvent`` (sent when a notification configuration is saved) yields no objects.
Keys in S3 notifications are URL-encoded with ``+`` for spaces; EventBridge keys are not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import S3BatchOperationEvent

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
    event_name: str = "ObjectCreated:Put"
    event_time: str | None = None
    request_id: str | None = None
    task_id: str | None = None  # the S3 Batch Operations task that named the object

    @property
    def correlation_id(self) -> str:
        """Ties every log line of this record together: the sequencer is unique per write."""
        return self.sequencer or self.task_id or self.request_id or f"{self.bucket}/{self.key}"

    @property
    def needs_identity(self) -> bool:
        """A Batch Operations task not yet HEADed: no ETag or size to fetch and judge it by."""
        return self.task_id is not None and self.etag is None

    def identity(self) -> dict[str, Any]:
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
class BatchInvocation:
    """What an S3 Batch Operations response must echo back."""

    schema_version: str
    invocation_id: str


def batch_invocation(event: dict[str, Any]) -> BatchInvocation | None:
    """The invocation of an S3 Batch Operations event; None for every other shape."""
    if not _is_batch_operation(event):
        return None
    batch = S3BatchOperationEvent(event)
    return BatchInvocation(batch.invocation_schema_version, batch.invocation_id)


def _is_batch_operation(event: Any) -> bool:
    return isinstance(event, dict) and "invocationSchemaVersion" in event


def parse_event(event: dict[str, Any]) -> list[S3ObjectRef]:
    """All S3 objects named by ``event``, in the order given."""
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
    try:
        s3 = record["s3"]
        obj = s3["object"]
        bucket = s3["bucket"]["name"]
        raw_key = obj["key"]
    except (KeyError, TypeError) as exc:
        raise EventShapeError(f"S3 record lacks {exc}") from exc
    size = obj.get("size")
    return S3ObjectRef(
        bucket=bucket,
        key=unquote_plus(raw_key),
        version_id=obj.get("versionId") or None,
        etag=_normalise_etag(obj.get("eTag") or obj.get("etag")),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_name=str(record.get("eventName", "ObjectCreated:Put")),
        event_time=record.get("eventTime"),
        request_id=(record.get("responseElements") or {}).get("x-amz-request-id"),
    )


def _from_sqs_record(record: dict[str, Any]) -> list[S3ObjectRef]:
    try:
        inner = json.loads(record["body"])
    except (KeyError, TypeError, json.JSONDecodeError) as exc:
        raise EventShapeError(f"SQS record body is not JSON: {exc}") from exc
    # SNS fan-out puts the S3 event one level deeper, in "Message".
    if isinstance(inner, dict) and inner.get("Type") == "Notification" and "Message" in inner:
        inner = json.loads(inner["Message"])
    return parse_event(inner)


def _from_batch_operation(event: dict[str, Any]) -> list[S3ObjectRef]:
    batch = S3BatchOperationEvent(event)
    version = event.get("invocationSchemaVersion")
    if version not in BATCH_SCHEMA_VERSIONS:
        raise EventShapeError(
            f"S3 Batch Operations invocationSchemaVersion {version!r} is not 1.0 or 2.0"
        )
    if not isinstance(event.get("invocationId"), str) or not isinstance(event.get("tasks"), list):
        raise EventShapeError("S3 Batch Operations event lacks invocationId or tasks")
    if not event["tasks"]:
        raise EventShapeError("S3 Batch Operations event has no tasks")
    refs = []
    for task in batch.tasks:
        try:
            refs.append(
                S3ObjectRef(
                    bucket=task.s3_bucket,  # schema 2.0: s3Bucket; 1.0: from s3BucketArn
                    key=task.s3_key,  # URL-encoded like S3 notifications; decoded here
                    version_id=task.s3_version_id or None,
                    event_name="BatchOperations:LambdaInvoke",
                    request_id=batch.invocation_id,
                    task_id=task.task_id,
                )
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise EventShapeError(f"S3 Batch Operations task lacks {exc}") from exc
    return refs


def _from_eventbridge(event: dict[str, Any]) -> S3ObjectRef:
    detail = event.get("detail") or {}
    try:
        bucket = detail["bucket"]["name"]
        obj = detail["object"]
        key = obj["key"]
    except (KeyError, TypeError) as exc:
        raise EventShapeError(f"EventBridge detail lacks {exc}") from exc
    size = obj.get("size")
    return S3ObjectRef(
        bucket=bucket,
        key=key,  # EventBridge keys are not URL-encoded
        version_id=obj.get("version-id") or None,
        etag=_normalise_etag(obj.get("etag")),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_name="ObjectCreated:" + str(detail.get("reason", "PutObject")),
        event_time=event.get("time"),
        request_id=detail.get("request-id"),
    )


def _normalise_etag(etag: str | None) -> str | None:
    return etag.strip('"') if etag else None
