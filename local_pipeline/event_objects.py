"""The objects an event names, read as the handlers read them, and pointed at stored versions.

Each object is read with the handlers' own parser (``pipeline_runtime.events.parse_event``),
so the runner and the functions always agree on which objects an event names. Where the
runner knows better than the event which version it is about (moto's notifications carry
no version id: ``emulator.with_version_ids``; ``invoke`` seeds the objects an event file
names), ``with_versions`` writes the stored version into the event. This module knows only
where each shape keeps the version id, ETag and size; the parser reads the rest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pipeline_runtime.events import S3ObjectRef, parse_event


def named_objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of every object the event names, in any shape the handlers accept.

    Raises ``EventShapeError`` (a ValueError) for any other event.
    """
    return [(ref.bucket, ref.key) for ref in parse_event(event)]


@dataclass(frozen=True)
class StoredVersion:
    """One version of an object as S3 holds it: what an event about it carries."""

    version_id: str | None
    etag: str | None
    size: int | None


# The version to name for each object, by (bucket, key).
Versions = Mapping[tuple[str, str], StoredVersion]


def with_versions(event: dict[str, Any], versions: Versions) -> dict[str, Any]:
    """A copy of ``event`` whose objects carry the version id, ETag and size in ``versions``
    (objects it lacks are left as they are), in every shape, SQS and SNS bodies included.
    A Batch task carries the version id only, as Batch Operations sends it.

    ``event`` must be one the parser accepts (``named_objects`` does not raise for it).
    """
    copy = json.loads(json.dumps(event))
    _rewrite(copy, versions)
    return copy


def _rewrite(event: Any, versions: Versions) -> bool:
    """Write the versions into ``event`` in place; True when something was written.

    The shapes are told apart as ``parse_event`` tells them; each object node is read by
    ``parse_event`` on an event that holds that node alone.
    """
    if not isinstance(event, dict) or event.get("Event") == "s3:TestEvent":
        return False
    if "invocationSchemaVersion" in event:
        tasks = event.get("tasks")
        written = False
        for task in tasks if isinstance(tasks, list) else []:
            written |= _write(
                task, parse_event({**event, "tasks": [task]}), versions, "s3VersionId"
            )
        return written
    if event.get("detail-type") == "Object Created" and event.get("source") == "aws.s3":
        node = event["detail"]["object"]
        return _write(node, parse_event(event), versions, "version-id", "etag", "size")
    written = False
    for record in event.get("Records") or []:
        if record.get("eventSource") == "aws:sqs" or ("body" in record and "s3" not in record):
            written |= _rewrite_sqs_record(record, versions)
        elif "s3" in record:
            node = record["s3"]["object"]
            refs = parse_event({"Records": [record]})
            written |= _write(node, refs, versions, "versionId", "eTag", "size")
    return written


def _rewrite_sqs_record(record: dict[str, Any], versions: Versions) -> bool:
    inner = json.loads(record["body"])
    # SNS fan-out puts the S3 event one level deeper, in "Message".
    if isinstance(inner, dict) and inner.get("Type") == "Notification" and "Message" in inner:
        message = json.loads(inner["Message"])
        if not _rewrite(message, versions):
            return False
        inner["Message"] = json.dumps(message)
    elif not _rewrite(inner, versions):
        return False
    record["body"] = json.dumps(inner)
    return True


def _write(node: dict[str, Any], refs: list[S3ObjectRef], versions: Versions, *fields: str) -> bool:
    """Writes version id, ETag and size, in that order, to the named fields of ``node``."""
    if len(refs) != 1 or (found := versions.get((refs[0].bucket, refs[0].key))) is None:
        return False
    values = (found.version_id, found.etag, found.size)
    node.update(zip(fields, values, strict=False))
    return True
