"""The one factory of the events the functions receive, in every shape the runtime reads.

After Powertools' own tests: one place builds each event shape, so that a test names only
what matters to it (a bucket, a key, a version) and every shape is built the same way.

- ``s3_object`` and ``s3_record``: one record of an S3 notification; without an envelope,
  the least the parser reads; with ``aws=True``, every field AWS sends;
- ``s3_event``: the notification (``{"Records": [...]}``) of such records;
- ``s3_put_event``: the notification S3 sends for an object just written (from its HEAD);
- ``sqs_event`` and ``sns_in_sqs_event``: an event wrapped as SQS (and SNS) deliver it;
- ``eventbridge_event``: EventBridge's "Object Created";
- ``batch_event``: an S3 Batch Operations ``LambdaInvoke`` (schema 1.0 or 2.0).

Keys are URL-encoded as S3 sends them, unless ``encode=False`` (a test of raw keys).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote_plus

EVENT_TIME = "2026-11-23T12:00:00.000Z"
BATCH_JOB_ID = "f3cc4f60-61f6-4a2b-8a21-d07600c373ce"
BATCH_INVOCATION_ID = "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo"


def s3_object(
    key: str,
    *,
    encode: bool = True,
    size: int | None = None,
    etag: str | None = None,
    version_id: str | None = None,
    sequencer: str | None = None,
) -> dict[str, Any]:
    """The ``s3.object`` of a record; fields left None are left out, as S3 may."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/") if encode else key}
    for name, value in (
        ("size", size),
        ("eTag", etag),
        ("versionId", version_id),
        ("sequencer", sequencer),
    ):
        if value is not None:
            obj[name] = value
    return obj


def s3_record(
    bucket: str,
    obj: dict[str, Any],
    *,
    aws: bool = False,
    event_source: str | None = None,
    event_name: str | None = None,
    event_time: str = EVENT_TIME,
    request_id: str | None = None,
    configuration_id: str | None = None,
    bucket_arn: bool = False,
) -> dict[str, Any]:
    """One notification record. ``aws``: every field AWS sends (version, source, region,
    time, name, request id); otherwise only the fields named."""
    s3: dict[str, Any] = {"bucket": {"name": bucket}, "object": obj}
    if bucket_arn:
        s3["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
    if configuration_id is not None:
        s3 = {"configurationId": configuration_id} | s3
    if not aws:
        record: dict[str, Any] = {}
        if event_source is not None:
            record["eventSource"] = event_source
        if event_name is not None:
            record["eventName"] = event_name
        return record | {"s3": s3}
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": event_time,
        "eventName": event_name or "ObjectCreated:Put",
        "responseElements": {"x-amz-request-id": request_id or "C3D13FE58DE4C810"},
        "s3": {"s3SchemaVersion": "1.0"} | s3,
    }


def s3_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def s3_put_event(bucket: str, key: str, head: dict[str, Any], sequencer: str) -> dict[str, Any]:
    """The S3 notification S3 would send for an object just written (key URL-encoded)."""
    obj = s3_object(
        key,
        size=head["ContentLength"],
        etag=head["ETag"].strip('"'),
        sequencer=sequencer,
        version_id=head.get("VersionId") or None,
    )
    return s3_event(s3_record(bucket, obj, aws=True, request_id=f"REQ{sequencer}"))


def sqs_event(inner: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(inner)}]}


def sns_in_sqs_event(inner: dict[str, Any]) -> dict[str, Any]:
    return sqs_event({"Type": "Notification", "Message": json.dumps(inner)})


def eventbridge_event(bucket: str, obj: dict[str, Any], reason: str = "PutObject") -> dict:
    """EventBridge's "Object Created"; ``obj`` holds key, size, etag, version-id, sequencer."""
    detail = {"bucket": {"name": bucket}, "object": obj, "reason": reason}
    return {"detail-type": "Object Created", "source": "aws.s3", "detail": detail}


def batch_event(
    schema: str,
    bucket: str,
    *tasks: tuple[str, str | None],
    invocation_id: str = BATCH_INVOCATION_ID,
    job_id: str = BATCH_JOB_ID,
    task_ids: list[str] | None = None,
    user_arguments: bool = True,
) -> dict[str, Any]:
    """The event Batch Operations sends for (key, version id) tasks in ``bucket``.

    Schema 2.0 names the bucket (``s3Bucket``) and carries ``userArguments``; 1.0 names
    the bucket's ARN (``s3BucketArn``)."""
    job: dict[str, Any] = {"id": job_id}
    if schema == "2.0" and user_arguments:
        job["userArguments"] = {}
    where = {"s3Bucket": bucket} if schema == "2.0" else {"s3BucketArn": f"arn:aws:s3:::{bucket}"}
    ids = task_ids or [f"task-{n}" for n in range(len(tasks))]
    return {
        "invocationSchemaVersion": schema,
        "invocationId": invocation_id,
        "job": job,
        "tasks": [
            {"taskId": task_id, "s3Key": quote_plus(key, safe="/"), "s3VersionId": version} | where
            for task_id, (key, version) in zip(ids, tasks, strict=True)
        ],
    }
