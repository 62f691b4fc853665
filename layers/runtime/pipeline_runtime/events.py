"""Turn whatever invoked us into a list of S3 objects to process.

Accepted shapes, read through Powertools' event data classes:
- an S3 event notification (``Records[].s3``), possibly with several records;
- the same notification wrapped in SQS (``Records[].body`` holds the S3 event JSON), or in
  SNS and then SQS (the body is an SNS notification whose ``Message`` is the S3 event);
- an EventBridge "Object Created" event (``detail.bucket.name`` / ``detail.object.key``);
- an S3 Batch Operations ``LambdaInvoke`` event (``tasks[]``, invocation schema 1.0 or 2.0).
  A task names a key and maybe a version, nothing more: its ref has no ETag, size or
  sequencer until ``s3io.ObjectStore.identify`` HEADs the object (``needs_identity``).

``s3:TestEvent`` (sent when a notification configuration is saved) yields no objects.

Keys in S3 notifications and Batch tasks are URL-encoded, ``+`` for a space, and are decoded
with ``unquote_plus``. EventBridge keys are taken as they come, although Powertools'
``S3EventBridgeNotificationObject.key`` decodes them too: AWS documents the encoding for
notifications only (notification-content-structure, not ev-events); real EventBridge events
carry raw keys (``:`` unescaped, where a notification has ``%3A``), and so does moto.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import (
    S3BatchOperationEvent,
    S3EventBridgeNotificationEvent,
    SQSRecord,
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


# Writes a new version id / ETag / size into the event's own node for one object.
_IdentityWriter = Callable[[str | None, str | None, int | None], None]
# Called with each object's ref and the writer for its node, while the event is walked.
_Visit = Callable[[S3ObjectRef, _IdentityWriter], None]


def parse_event(event: dict[str, Any]) -> list[S3ObjectRef]:
    """All S3 objects named by ``event``, in the order given."""
    return _walk(event, None)


def batch_invocation(event: dict[str, Any]) -> BatchInvocation | None:
    """The invocation of an S3 Batch Operations event; None for every other shape."""
    if not _is_batch_operation(event):
        return None
    batch = S3BatchOperationEvent(event)
    return BatchInvocation(batch.invocation_schema_version, batch.invocation_id)


def with_identities(
    event: dict[str, Any], identity_of: Callable[[S3ObjectRef], S3ObjectRef | None]
) -> dict[str, Any]:
    """A copy of ``event`` whose objects carry the version id, ETag and size of
    ``identity_of(ref)`` (None: left as they are), in every shape, SQS and SNS bodies
    included. A Batch task carries the version id only, as Batch Operations sends it.

    For tools that replay an event against objects they put there (the local runner).
    """
    copy = json.loads(json.dumps(event))

    def visit(ref: S3ObjectRef, write: _IdentityWriter) -> None:
        new = identity_of(ref)
        if new is not None:
            write(new.version_id, new.etag, new.size)

    _walk(copy, visit)
    return copy


def _is_batch_operation(event: Any) -> bool:
    return isinstance(event, dict) and "invocationSchemaVersion" in event


def _walk(event: Any, visit: _Visit | None) -> list[S3ObjectRef]:
    """The one dispatch over event shapes; ``visit`` sees each object as it is found."""
    if not isinstance(event, dict):
        raise EventShapeError(f"event must be a JSON object, got {type(event).__name__}")
    if event.get("Event") == "s3:TestEvent":
        return []
    if _is_batch_operation(event):
        return _from_batch_operation(event, visit)
    if event.get("detail-type") == "Object Created" and event.get("source") == "aws.s3":
        return [_from_eventbridge(event, visit)]
    records = event.get("Records")
    if not isinstance(records, list):
        raise EventShapeError("event has neither Records nor an EventBridge detail")
    refs: list[S3ObjectRef] = []
    for record in records:
        if not isinstance(record, dict):
            raise EventShapeError("a record is not a JSON object")
        if record.get("eventSource") == "aws:sqs" or ("body" in record and "s3" not in record):
            refs.extend(_from_sqs_record(record, visit))
        elif "s3" in record:
            refs.append(_from_s3_record(record, visit))
        else:
            raise EventShapeError(f"unrecognised record with fields {sorted(record)}")
    return refs


def _from_s3_record(record: dict[str, Any], visit: _Visit | None) -> S3ObjectRef:
    s3_record = S3EventRecord(record)
    try:
        bucket = s3_record.s3.bucket.name
        obj = s3_record.s3.get_object
        raw_key = obj.key
    except (KeyError, TypeError, AttributeError) as exc:
        raise EventShapeError(f"S3 record lacks {exc}") from exc
    size = obj.get("size")
    ref = S3ObjectRef(
        bucket=bucket,
        key=unquote_plus(raw_key),
        version_id=obj.version_id or None,
        etag=normalise_etag(obj.etag),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_name=str(s3_record.get("eventName") or "ObjectCreated:Put"),
        event_time=s3_record.get("eventTime"),
        request_id=(s3_record.get("responseElements") or {}).get("x-amz-request-id"),
    )
    if visit is not None:
        visit(ref, _writer(obj.raw_event, "versionId", "eTag", "size"))
    return ref


def _from_sqs_record(record: dict[str, Any], visit: _Visit | None) -> list[S3ObjectRef]:
    sqs_record = SQSRecord(record)
    inner = _json(sqs_record.get("body"), "SQS record body")
    sns = SNSMessage(inner) if isinstance(inner, dict) else None
    # SNS fan-out puts the S3 event one level deeper, in "Message".
    if sns is not None and sns.get("Type") == "Notification" and "Message" in inner:
        message = _json(sns.message, "SNS Message in an SQS record")
        refs = _walk(message, visit)
        if visit is not None:  # the visit changed the decoded copies: encode them again
            inner["Message"] = json.dumps(message)
    else:
        refs = _walk(inner, visit)
    if visit is not None:
        record["body"] = json.dumps(inner)
    return refs


def _json(text: Any, what: str) -> Any:
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise EventShapeError(f"{what} is not JSON: {exc}") from exc


def _from_eventbridge(event: dict[str, Any], visit: _Visit | None) -> S3ObjectRef:
    detail = S3EventBridgeNotificationEvent(event).detail
    try:
        bucket = detail.bucket.name
        obj = detail.object
        key = obj["key"]  # as it comes: see the module docstring
    except (KeyError, TypeError, AttributeError) as exc:
        raise EventShapeError(f"EventBridge detail lacks {exc}") from exc
    size = obj.size
    ref = S3ObjectRef(
        bucket=bucket,
        key=key,
        version_id=obj.get("version-id") or None,
        etag=normalise_etag(obj.etag),
        size=int(size) if size is not None else None,
        sequencer=obj.get("sequencer"),
        event_name="ObjectCreated:" + str(detail.reason or "PutObject"),
        event_time=event.get("time"),
        request_id=detail.get("request-id"),
    )
    if visit is not None:
        visit(ref, _writer(obj.raw_event, "version-id", "etag", "size"))
    return ref


def _from_batch_operation(event: dict[str, Any], visit: _Visit | None) -> list[S3ObjectRef]:
    version = event.get("invocationSchemaVersion")
    if version not in BATCH_SCHEMA_VERSIONS:
        raise EventShapeError(
            f"S3 Batch Operations invocationSchemaVersion {version!r} is not 1.0 or 2.0"
        )
    if not isinstance(event.get("invocationId"), str) or not isinstance(event.get("tasks"), list):
        raise EventShapeError("S3 Batch Operations event lacks invocationId or tasks")
    if not event["tasks"]:
        raise EventShapeError("S3 Batch Operations event has no tasks")
    batch = S3BatchOperationEvent(event)
    refs = []
    for task in batch.tasks:
        try:
            ref = S3ObjectRef(
                bucket=task.s3_bucket,  # schema 2.0: s3Bucket; 1.0: from s3BucketArn
                key=task.s3_key,  # Powertools decodes it with unquote_plus
                version_id=task.s3_version_id or None,
                event_name="BatchOperations:LambdaInvoke",
                request_id=batch.invocation_id,
                task_id=task.task_id,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise EventShapeError(f"S3 Batch Operations task lacks {exc}") from exc
        if visit is not None:
            visit(ref, _writer(task.raw_event, "s3VersionId"))  # a task has no ETag or size
        refs.append(ref)
    return refs


def _writer(node: dict[str, Any], *fields: str) -> _IdentityWriter:
    """Writes version id, ETag and size, in that order, to the named fields of ``node``."""

    def write(version_id: str | None, etag: str | None, size: int | None) -> None:
        node.update(zip(fields, (version_id, etag, size), strict=False))

    return write


def normalise_etag(etag: str | None) -> str | None:
    """An ETag as events carry it: S3's responses quote it, notifications do not."""
    return etag.strip('"') if etag else None
