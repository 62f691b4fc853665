"""Every record ends in exactly one place: results, an error report, a skip, or a raise.

- ``InputRejected`` (corrupt, unsupported, too large, ...): a JSON error report is written
  where the results would have been, logged at ERROR, counted; the function does not raise,
  because a retry cannot help.
- A duplicate or out-of-date event is skipped with a log line and a metric.
- Anything else (S3 still failing after retries, a bug) is logged and counted, the other
  records still run, and the invocation raises at the end so that Lambda's async retries
  and then the on-failure queue take over. Nothing is silently dropped.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pipeline_runtime.events import S3ObjectRef, parse_event
from pipeline_runtime.observability import MetricUnit, logger, metrics

ERROR_REPORT_SCHEMA_VERSION = "1.0"

# Object metadata (x-amz-meta-*) that every output carries about its source.
META_ETAG = "source-etag"
META_VERSION_ID = "source-version-id"
META_SEQUENCER = "source-sequencer"


class InputRejected(Exception):
    """The input itself is unusable; retrying cannot help."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


class Status(enum.StrEnum):
    """Where one record ended."""

    RESULTS = "results"
    ERROR_REPORT = "error_report"
    DUPLICATE = "skipped_duplicate"
    STALE = "skipped_stale"
    IGNORED = "ignored"
    FAILED = "failed"


class RecordSkipped(Exception):
    """The work is not needed: a duplicate, or an event older than the outputs."""

    def __init__(self, status: Status, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


@dataclass
class RecordOutcome:
    status: Status
    outputs: list[str] = field(default_factory=list)
    detail: str | None = None


class RecordsFailed(RuntimeError):
    """Raised after all records ran, when some failed for reasons a retry may fix."""


def source_metadata(ref: S3ObjectRef) -> dict[str, str]:
    """Object metadata that lets a later event tell a duplicate or a stale event apart."""
    meta = {META_ETAG: ref.etag, META_VERSION_ID: ref.version_id, META_SEQUENCER: ref.sequencer}
    return {name: value for name, value in meta.items() if value}


def _padded(sequencer: str, width: int) -> str:
    return sequencer.upper().ljust(width, "0")


def compare_sequencers(a: str, b: str) -> int:
    """-1, 0 or 1 as write ``a`` came before, with or after write ``b`` of the same key.

    S3 documents comparing sequencers lexicographically after right-padding the shorter
    with zeros.
    """
    width = max(len(a), len(b))
    pa, pb = _padded(a, width), _padded(b, width)
    return (pa > pb) - (pa < pb)


def classify_against_recorded(ref: S3ObjectRef, recorded: dict[str, str] | None) -> Status | None:
    """DUPLICATE or STALE if outputs already recorded for ``ref``'s key make work needless.

    ``recorded`` is the source metadata found on the existing outputs (None if there are
    none). Returns None when the event must be processed.
    """
    if not recorded:
        return None
    seen_seq = recorded.get(META_SEQUENCER)
    if ref.sequencer and seen_seq:
        order = compare_sequencers(ref.sequencer, seen_seq)
        if order < 0:
            return Status.STALE
        if order == 0:
            return Status.DUPLICATE
        return None
    # Without sequencers (EventBridge replays, backfills) the version, then the ETag, decide.
    seen_version = recorded.get(META_VERSION_ID)
    if ref.version_id and seen_version:
        return Status.DUPLICATE if ref.version_id == seen_version else None
    if ref.etag and recorded.get(META_ETAG) == ref.etag:
        return Status.DUPLICATE
    return None


def error_report(ref: S3ObjectRef, rejection: InputRejected, service: str) -> dict[str, Any]:
    return {
        "schema_version": ERROR_REPORT_SCHEMA_VERSION,
        "status": "rejected",
        "reason": rejection.reason,
        "message": rejection.message,
        "source": ref.identity(),
        "function": service,
        "rejected_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


RecordHandler = Callable[[S3ObjectRef], RecordOutcome]
ErrorReportWriter = Callable[[S3ObjectRef, InputRejected], str]


def process_event(
    event: dict[str, Any], handle: RecordHandler, write_error_report: ErrorReportWriter
) -> dict[str, Any]:
    """Run ``handle`` on every object in ``event``; see the module docstring for outcomes."""
    refs = parse_event(event)
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(refs))
    if not refs:
        logger.info("No objects in event (s3:TestEvent?)")
    results: list[dict[str, Any]] = []
    failures = 0
    for ref in refs:
        outcome = _run_one(ref, handle, write_error_report)
        failures += outcome.status is Status.FAILED
        results.append(
            {
                "bucket": ref.bucket,
                "key": ref.key,
                "status": outcome.status.value,
                "outputs": outcome.outputs,
                "detail": outcome.detail,
            }
        )
    if failures:
        raise RecordsFailed(f"{failures} of {len(refs)} records failed; see the log for each")
    return {"records": results}


def _run_one(
    ref: S3ObjectRef, handle: RecordHandler, write_error_report: ErrorReportWriter
) -> RecordOutcome:
    logger.set_correlation_id(ref.correlation_id)
    logger.append_keys(bucket=ref.bucket, key=ref.key, version_id=ref.version_id)
    started = time.perf_counter()
    try:
        outcome = _attempt(ref, handle, write_error_report)
    finally:
        logger.remove_keys(["bucket", "key", "version_id"])
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name="RecordDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    return outcome


def _attempt(
    ref: S3ObjectRef, handle: RecordHandler, write_error_report: ErrorReportWriter
) -> RecordOutcome:
    try:
        outcome = handle(ref)
    except RecordSkipped as skipped:
        outcome = RecordOutcome(skipped.status, detail=skipped.detail)
    except InputRejected as rejection:
        try:
            report_key = write_error_report(ref, rejection)
        except Exception as exc:  # the report could not be written: let Lambda retry
            logger.exception("Could not write the error report", extra={"reason": rejection.reason})
            metrics.add_metric(name="TransientFailure", unit=MetricUnit.Count, value=1)
            return RecordOutcome(Status.FAILED, detail=repr(exc))
        logger.error(
            "Input rejected",
            extra={"reason": rejection.reason, "error": rejection.message, "report": report_key},
        )
        metrics.add_metric(name="InputRejected", unit=MetricUnit.Count, value=1)
        return RecordOutcome(Status.ERROR_REPORT, [report_key], rejection.reason)
    except Exception as exc:
        logger.exception("Record failed; the invocation will raise so Lambda retries it")
        metrics.add_metric(name="TransientFailure", unit=MetricUnit.Count, value=1)
        return RecordOutcome(Status.FAILED, detail=repr(exc))
    if outcome.status is Status.RESULTS:
        metrics.add_metric(name="ResultsWritten", unit=MetricUnit.Count, value=1)
    elif outcome.status in (Status.DUPLICATE, Status.STALE):
        logger.info("Skipped", extra={"why": outcome.status.value, "detail": outcome.detail})
        metrics.add_metric(name="DuplicateSkipped", unit=MetricUnit.Count, value=1)
    return outcome
