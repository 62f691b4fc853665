"""Every record ends in exactly one place: results, an error report, a skip, or a raise.

- ``InputRejected`` (corrupt, unsupported, too large, ...): a JSON error report is written
  where the results would have been, logged at ERROR, counted; the function does not raise,
  because a retry cannot help.
- A duplicate or out-of-date event is skipped with a log line and a metric (the protocol
  that decides it is in ``idempotency``). So is an object overwritten since its event
  (``s3io.ObjectChanged``): the newer upload's own event will come. An object deleted
  since its event (``s3io.ObjectMissing``) gets an error report, ``source_missing``.
- Anything else (S3 still failing after retries, a bug) is logged and counted, the other
  records still run, and the invocation raises at the end so that Lambda's async retries
  and then the on-failure queue take over. Nothing is silently dropped.

An S3 Batch Operations invocation never raises for a record: it returns one result per
task (``batch_result``), and Batch Operations retries the ``TemporaryFailure`` ones.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.data_classes import (
    S3BatchOperationResponse,
    S3BatchOperationResponseRecord,
)
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import (
    RESULT_CODE_TYPE,
)

from pipeline_runtime.events import BatchInvocation, S3ObjectRef, batch_invocation, parse_event
from pipeline_runtime.observability import MetricUnit, logger, metrics
from pipeline_runtime.s3io import ObjectChanged, ObjectMissing

ERROR_REPORT_SCHEMA_VERSION = "1.0"


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


def reject_if_too_large(size: int | None, limit: int) -> None:
    """Raise InputRejected('too_large') for an object over the function's size limit."""
    if size is not None and size > limit:
        raise InputRejected("too_large", f"object is {size} bytes; the limit is {limit}")


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
IgnoreRule = Callable[[S3ObjectRef], str | None]  # why this function leaves a key alone
Identify = Callable[[S3ObjectRef], S3ObjectRef]  # completes a Batch task's ref (s3io)


@dataclass(frozen=True)
class RecordSteps:
    """What a function does with one record, in the order the loop calls them."""

    ignore: IgnoreRule  # first, before any S3 call: keys outside the function's prefix
    identify: Identify  # then, for Batch tasks only (``S3ObjectRef.needs_identity``)
    handle: RecordHandler
    write_error_report: ErrorReportWriter


def process_event(
    event: dict[str, Any],
    handle: RecordHandler,
    write_error_report: ErrorReportWriter,
    *,
    ignore: IgnoreRule,
    identify: Identify,
) -> dict[str, Any]:
    """Run ``handle`` on every object in ``event``; see the module docstring for outcomes."""
    refs = parse_event(event)
    batch = batch_invocation(event)
    steps = RecordSteps(ignore, identify, handle, write_error_report)
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(refs))
    if not refs:
        logger.info("No objects in event (s3:TestEvent?)")
    if batch is not None:
        return batch_response(batch, [(ref, _run_one(ref, steps)) for ref in refs])
    results: list[dict[str, Any]] = []
    failures = 0
    for ref in refs:
        outcome = _run_one(ref, steps)
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


def batch_result(outcome: RecordOutcome) -> tuple[RESULT_CODE_TYPE, str]:
    """The Batch Operations result code and string of one task's outcome.

    Results or a skip succeed (the string names the result marker, or why it was skipped); an
    error report is a permanent failure (its reason and key); anything else is temporary.
    """
    if outcome.status is Status.RESULTS:
        return "Succeeded", outcome.outputs[-1]  # the marker, written last
    if outcome.status is Status.ERROR_REPORT:
        return "PermanentFailure", f"{outcome.detail}: {outcome.outputs[-1]}"
    if outcome.status is Status.FAILED:
        return "TemporaryFailure", f"failed: {outcome.detail}"
    return "Succeeded", f"{outcome.status.value}: {outcome.detail}"


def batch_response(
    batch: BatchInvocation, outcomes: list[tuple[S3ObjectRef, RecordOutcome]]
) -> dict[str, Any]:
    """The response S3 Batch Operations expects: one result per task, in task order."""
    records = [
        S3BatchOperationResponseRecord(str(ref.task_id), *batch_result(outcome))
        for ref, outcome in outcomes
    ]
    # Powertools' asdict() accepts exactly one result, which is what S3 sends today; the
    # response schema holds a list, so further tasks' results are appended record by record.
    # An event has at least one task (events.parse_event refuses one without).
    document: dict[str, Any] = S3BatchOperationResponse(
        batch.schema_version, batch.invocation_id, "PermanentFailure", records[:1]
    ).asdict()
    document["results"].extend(record.asdict() for record in records[1:])
    return document


def _run_one(ref: S3ObjectRef, steps: RecordSteps) -> RecordOutcome:
    logger.set_correlation_id(ref.correlation_id)
    logger.append_keys(bucket=ref.bucket, key=ref.key, version_id=ref.version_id)
    started = time.perf_counter()
    try:
        outcome = _attempt(ref, steps)
    finally:
        logger.remove_keys(["bucket", "key", "version_id"])
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name="RecordDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    return outcome


def _attempt(ref: S3ObjectRef, steps: RecordSteps) -> RecordOutcome:
    ignored = steps.ignore(ref)
    if ignored is not None:
        logger.warning("Ignoring a key this function does not process", extra={"why": ignored})
        return RecordOutcome(Status.IGNORED, detail=ignored)
    try:
        if ref.needs_identity:
            # Before the work, so that the error report records the same object too.
            ref = steps.identify(ref)
        outcome = steps.handle(ref)
    except RecordSkipped as skipped:
        outcome = RecordOutcome(skipped.status, detail=skipped.detail)
    except ObjectChanged as changed:  # overwritten since the event: the newer one's will come
        outcome = RecordOutcome(Status.STALE, detail=str(changed))
    except (InputRejected, ObjectMissing) as exc:
        rejection = (
            exc if isinstance(exc, InputRejected) else InputRejected("source_missing", str(exc))
        )
        try:
            report_key = steps.write_error_report(ref, rejection)
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
