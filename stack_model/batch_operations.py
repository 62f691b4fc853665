"""The shape of an S3 Batch Operations job that invokes Lambda, as AWS documents it.

Pure data, no I/O: the events a job sends (invocation schema 2.0), how a function's answer
is read per task, and the completion report S3 writes. The local backfill runs jobs of this
shape on the emulator; ``operations`` creates real ones, with the same prefixes.

- Event: ``{invocationSchemaVersion: "2.0", invocationId, job: {id, userArguments},
  tasks: [{taskId, s3Key, s3VersionId, s3Bucket}]}``; ``s3Key`` is URL-encoded.
- Answer: ``{invocationSchemaVersion, invocationId, treatMissingKeysAs, results: [{taskId,
  resultCode, resultString}]}``, ``resultCode`` one of ``RESULT_CODES``.
- Completion report: ``<prefix>/job-<id>/manifest.json`` naming one CSV per task status
  under ``<prefix>/job-<id>/results/``; rows as in S3's own reports.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

INVOCATION_SCHEMA_VERSION = "2.0"
# Where jobs keep their files in the upload bucket; no S3 notification watches these.
MANIFEST_PREFIX = "batch-operations/manifests"
REPORT_PREFIX = "batch-operations/reports"
REPORT_FORMAT = "Report_CSV_20180820"
REPORT_SCHEMA = "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"

SUCCEEDED = "Succeeded"
TEMPORARY_FAILURE = "TemporaryFailure"
PERMANENT_FAILURE = "PermanentFailure"
RESULT_CODES = (SUCCEEDED, TEMPORARY_FAILURE, PERMANENT_FAILURE)
# How a task's result starts when the invocation failed as a whole (S3's report wording).
FUNCTION_ERROR = "Lambda returned function error"
# S3 redrives a TemporaryFailure "before the job completes"; it documents no count.
MAX_TASK_ATTEMPTS = 3


def opaque_id() -> str:
    """An id like S3's invocation and task ids: opaque, URL-safe base64."""
    return secrets.token_urlsafe(24)


def user_arguments(prefix: str) -> dict[str, str]:
    """The job's UserArguments, passed in every event: what the backfill was asked for."""
    return {"keyPrefix": prefix}


def parse_created_before(text: str) -> datetime:
    """An ISO 8601 date or time, as UTC when no offset is given; ValueError says why."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--created-before {text!r}: not an ISO 8601 date or time "
            "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Task:
    """One object of the manifest."""

    task_id: str
    bucket: str
    key: str  # as stored, not encoded
    version_id: str | None

    @property
    def encoded_key(self) -> str:
        """The key as Batch Operations passes it and reports it: URL-encoded."""
        return quote_plus(self.key, safe="/")


def task_event(
    job_id: str, tasks: list[Task], user_arguments: dict[str, str] | None = None
) -> dict[str, Any]:
    """The event of one invocation, in invocation schema 2.0."""
    return {
        "invocationSchemaVersion": INVOCATION_SCHEMA_VERSION,
        "invocationId": opaque_id(),
        "job": {"id": job_id, "userArguments": dict(user_arguments or {})},
        "tasks": [
            {
                "taskId": task.task_id,
                "s3Key": task.encoded_key,
                "s3VersionId": task.version_id,
                "s3Bucket": task.bucket,
            }
            for task in tasks
        ],
    }


@dataclass(frozen=True)
class TaskResult:
    code: str  # one of RESULT_CODES
    message: str


def task_results(event: dict[str, Any], ok: bool, payload: Any) -> dict[str, TaskResult]:
    """Each task's result, by task id, from what the invocation returned.

    A function error fails every task of the event, with Lambda's error payload as S3
    reports it. A task the answer leaves out takes ``treatMissingKeysAs``.
    """
    task_ids = [task["taskId"] for task in event["tasks"]]
    if not ok:
        message = f"{FUNCTION_ERROR}: {json.dumps(payload, ensure_ascii=False)}"
        return dict.fromkeys(task_ids, TaskResult(PERMANENT_FAILURE, message))
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), list):
        invalid = TaskResult(PERMANENT_FAILURE, "Invalid JSON returned in Lambda payload")
        return dict.fromkeys(task_ids, invalid)
    missing_as = payload.get("treatMissingKeysAs", PERMANENT_FAILURE)
    if missing_as not in RESULT_CODES:
        missing_as = PERMANENT_FAILURE
    results = {
        task_id: TaskResult(missing_as, "the function's answer has no result for this task")
        for task_id in task_ids
    }
    for result in payload["results"]:
        if not isinstance(result, dict) or result.get("taskId") not in results:
            continue
        code = result.get("resultCode")
        if code not in RESULT_CODES:
            message = f"invalid resultCode {code!r}"
            results[result["taskId"]] = TaskResult(PERMANENT_FAILURE, message)
            continue
        results[result["taskId"]] = TaskResult(code, str(result.get("resultString") or ""))
    return results


def report_manifest_key(job_id: str, prefix: str = REPORT_PREFIX) -> str:
    """Where a job's completion report starts: the manifest naming its CSVs."""
    return f"{prefix}/job-{job_id}/manifest.json"


def report_row(task: Task, result: TaskResult) -> list[str]:
    """One CSV row of the completion report, as S3 writes it.

    S3's rows hold the HTTP status of the invocation (200: Lambda answered) before the
    error code, whatever order the ReportSchema line names them in.
    """
    status = "succeeded" if result.code == SUCCEEDED else "failed"
    error_code = "" if result.code == SUCCEEDED else result.code
    version = task.version_id or ""
    return [task.bucket, task.encoded_key, version, status, "200", error_code, result.message]


def completion_report(
    job_id: str,
    bucket: str,
    rows: Iterable[tuple[Task, TaskResult]],
    created: datetime,
    prefix: str = REPORT_PREFIX,
) -> dict[str, bytes]:
    """The report's objects by key: one CSV per task status, and the manifest naming them."""
    by_status: dict[str, io.StringIO] = {}
    for task, result in rows:
        row = report_row(task, result)
        out = by_status.setdefault(row[3], io.StringIO())
        csv.writer(out, lineterminator="\n").writerow(row)
    files: dict[str, bytes] = {}
    entries = []
    for status in ("succeeded", "failed"):
        if status not in by_status:
            continue
        body = by_status[status].getvalue().encode("utf-8")
        name = hashlib.sha1(f"{job_id}/{status}".encode(), usedforsecurity=False).hexdigest()
        key = f"{prefix}/job-{job_id}/results/{name}.csv"
        files[key] = body
        entries.append(
            {
                "TaskExecutionStatus": status,
                "Bucket": bucket,
                "MD5Checksum": hashlib.md5(body, usedforsecurity=False).hexdigest(),
                "Key": key,
            }
        )
    manifest = {
        "Format": REPORT_FORMAT,
        "ReportCreationDate": created.astimezone(UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z"),
        "Results": entries,
        "ReportSchema": REPORT_SCHEMA,
    }
    files[report_manifest_key(job_id, prefix)] = json.dumps(manifest, indent=4).encode()
    return files
