"""The record loop: every record ends in exactly one place, and only one loop decides it.

``process_event`` runs a function's steps on each record of an S3 event (or each task of
an S3 Batch Operations invocation) and maps what they raise to how the record ends: results,
an error report, a skip, a deferral or a failure. The map of each exception to its ending is
in the docstring of ``endings``; in short:

- ``InputRejectedError`` (corrupt, unsupported, too large, ...): a JSON error report is
  written where the results would have been (``error_reports``), logged at ERROR, counted;
  the function does not raise, because a retry cannot help.
- A duplicate is skipped with a log line and a metric (the protocol that decides it is in
  ``idempotency``). So is an event about an object the key no longer holds, and it writes
  nothing (``skipped_stale``): overwritten or deleted since (``not_current``), or a version
  or key that does not exist (``s3io.ObjectMissingError``, a key over S3's 1,024 bytes:
  ``source_missing``). The results of the object the key holds now are never touched.
- Anything else (S3 still failing after retries, a bug, an error report that cannot be
  written) is logged and counted, the other records still run, and the invocation raises
  at the end so that Lambda's async retries and then the on-failure queue take over.
  Nothing is silently dropped.
- Records share the invocation's time. One after another starts only while at least half
  of it is left, and one that runs out of time after others is ``deferred``: a retry, never
  a permanent ``too_slow`` caused by the records before it.

An S3 Batch Operations invocation never raises, however malformed: it returns one result
per task (``batch_result``), and Batch Operations retries the ``TemporaryFailure`` ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.utilities.data_classes import (
    S3BatchOperationResponse,
    S3BatchOperationResponseRecord,
)
from aws_lambda_powertools.utilities.data_classes.s3_batch_operation_event import (
    RESULT_CODE_TYPE,
)

from pipeline_runtime.endings import (
    ErrorReportKeyTooLongError,
    InputRejectedError,
    OutOfTimeError,
    RecordsFailedError,
    RecordSkipped,
    Status,
)
from pipeline_runtime.events import (
    BatchInvocation,
    MalformedTask,
    S3ObjectRef,
    batch_invocation,
    parse_event,
)
from pipeline_runtime.observability import MetricUnit, logger, metrics
from pipeline_runtime.s3io import ObjectChangedError, ObjectMissingError, is_permanent

# S3 holds no key longer than this, in UTF-8 bytes (KeyTooLongError).
S3_MAX_KEY_BYTES = 1024


@dataclass
class RecordOutcome:
    status: Status
    outputs: list[str] = field(default_factory=list)
    detail: str | None = None
    permanent: bool = False  # a failure that no retry can mend (Batch: PermanentFailure)
    rejection: str | None = None  # a duplicate of a rejected upload: "reason: report key"


@dataclass(frozen=True)
class Clock:
    """The invocation's time as one record sees it."""

    time_left: Callable[[], float]  # seconds until the function's timeout
    shared: bool  # records before this one used some of it


def reject_if_too_large(size: int | None, limit: int, parameter: str | None = None) -> None:
    """Raise InputRejectedError('too_large') for an object over the function's size limit;
    ``parameter`` names the stack parameter that raises it."""
    if size is not None and size > limit:
        if parameter is None:
            raise InputRejectedError("too_large", f"object is {size} bytes; the limit is {limit}")
        raise InputRejectedError(
            "too_large",
            f"the object is {size} bytes, over the limit of {limit} bytes; the stack "
            f"parameter {parameter} raises it",
        )


def key_bytes(key: str) -> int:
    """A key's length as S3 limits it (``S3_MAX_KEY_BYTES``): its UTF-8 bytes."""
    return len(key.encode("utf-8"))


def reject_if_keys_too_long(keys: list[str]) -> None:
    """Raise InputRejectedError('key_too_long') before any work whose outputs S3 cannot store."""
    for key in keys:
        size = key_bytes(key)
        if size > S3_MAX_KEY_BYTES:
            raise InputRejectedError(
                "key_too_long",
                f"output key {key[:60]!r}... is {size} bytes, over S3's limit of "
                f"{S3_MAX_KEY_BYTES}: upload it under a shorter key",
            )


RecordHandler = Callable[[S3ObjectRef, Clock], RecordOutcome]
ReportRejection = Callable[[S3ObjectRef, InputRejectedError], str]  # the report's key
IgnoreRule = Callable[[S3ObjectRef], str | None]  # why this function leaves a key alone
FillFromHead = Callable[[S3ObjectRef], S3ObjectRef]  # completes a Batch task's ref (s3io)


@dataclass(frozen=True)
class RecordSteps:
    """What a function does with one record, in the order the loop calls them."""

    ignore: IgnoreRule  # first, before any S3 call: keys outside the function's prefix
    fill_from_head: FillFromHead  # then, for Batch tasks only (``S3ObjectRef.needs_head``)
    handle: RecordHandler
    write_error_report: ReportRejection


def process_event(
    event: dict[str, Any],
    handle: RecordHandler,
    write_error_report: ReportRejection,
    *,
    ignore: IgnoreRule,
    fill_from_head: FillFromHead,
    time_left: Callable[[], float],
) -> dict[str, Any]:
    """Run ``handle`` on every object in ``event``; see the module docstring for outcomes.

    ``time_left``: seconds until the function's timeout (the Lambda context's).
    """
    steps = RecordSteps(ignore, fill_from_head, handle, write_error_report)
    batch = batch_invocation(event)
    if batch is not None:
        return _batch_response(batch, _run_all(list(batch.tasks), steps, time_left))
    refs = parse_event(event)
    if not refs:
        logger.info("No objects in event (s3:TestEvent?)")
    outcomes = _run_all(list(refs), steps, time_left)
    results = [
        {
            "bucket": ref.bucket,
            "key": ref.key,
            "status": outcome.status.value,
            "outputs": outcome.outputs,
            "detail": outcome.detail,
        }
        for ref, outcome in zip(refs, outcomes, strict=True)
    ]
    failures = sum(outcome.status in (Status.FAILED, Status.DEFERRED) for outcome in outcomes)
    if failures:
        raise RecordsFailedError(f"{failures} of {len(refs)} records failed; see the log for each")
    return {"records": results}


def _run_all(
    items: list[S3ObjectRef | MalformedTask], steps: RecordSteps, time_left: Callable[[], float]
) -> list[RecordOutcome]:
    """Each item's outcome, in order. A record after others starts only while at least
    half of the invocation's time is left, so that it never times out the invocation with
    the outcomes of the records before it unreported."""
    metrics.add_metric(name="RecordsReceived", unit=MetricUnit.Count, value=len(items))
    whole = time_left()
    outcomes: list[RecordOutcome] = []
    for item in items:
        if isinstance(item, MalformedTask):
            logger.error("Malformed Batch Operations task", extra={"problem": item.problem})
            detail = f"malformed_task: {item.problem}"
            outcomes.append(RecordOutcome(Status.FAILED, detail=detail, permanent=True))
            continue
        shared = bool(outcomes)
        left = time_left()
        if shared and left < whole / 2:
            outcomes.append(
                RecordOutcome(
                    Status.DEFERRED,
                    detail=f"only {left:.0f} s of the invocation's {whole:.0f} s were left "
                    "after the records before it",
                )
            )
            continue
        outcomes.append(_run_one(item, steps, Clock(time_left, shared)))
    return outcomes


def batch_result(outcome: RecordOutcome) -> tuple[RESULT_CODE_TYPE, str]:
    """The Batch Operations result code and string of one task's outcome.

    Results or a duplicate succeed (the string names the result marker, or why it was
    skipped), except a duplicate of a rejected upload: that stays a permanent failure on
    every re-run, with the reason and the report key first. An error report, a task about
    an object the key does not hold now, an ignored or malformed task and any permanent
    failure are permanent failures (the reason first); anything else is temporary.
    """
    match outcome.status:
        case Status.RESULTS:
            return "Succeeded", outcome.outputs[-1]  # the marker, written last
        case Status.DUPLICATE if outcome.rejection:
            return (
                "PermanentFailure",
                f"{outcome.rejection}; {outcome.status.value}: {outcome.detail}",
            )
        case Status.DUPLICATE:
            return "Succeeded", f"{outcome.status.value}: {outcome.detail}"
        case Status.ERROR_REPORT:
            return "PermanentFailure", f"{outcome.detail}: {outcome.outputs[-1]}"
        case Status.STALE:
            return "PermanentFailure", f"{outcome.detail}; nothing was written"
        case Status.IGNORED:
            return "PermanentFailure", f"{outcome.status.value}: {outcome.detail}"
        case Status.DEFERRED:
            return "TemporaryFailure", f"deferred: {outcome.detail}"
    if outcome.permanent:
        return "PermanentFailure", str(outcome.detail)
    return "TemporaryFailure", f"failed: {outcome.detail}"


# Stands in for the first result when there is none, to pass Powertools' check; not sent.
_NO_TASK = S3BatchOperationResponseRecord("", "PermanentFailure", "")


def _batch_response(batch: BatchInvocation, outcomes: list[RecordOutcome]) -> dict[str, Any]:
    """The response S3 Batch Operations expects: one result per task, in task order."""
    records = [
        S3BatchOperationResponseRecord(task.task_id or "", *batch_result(outcome))
        for task, outcome in zip(batch.tasks, outcomes, strict=True)
    ]
    # Powertools' asdict() accepts exactly one result, which is what S3 sends today; the
    # response schema holds a list, so further tasks' results are appended record by record,
    # and an event without a task to answer still gets a valid response.
    document: dict[str, Any] = S3BatchOperationResponse(
        batch.schema_version, batch.invocation_id, "PermanentFailure", records[:1] or [_NO_TASK]
    ).asdict()
    document["results"] = [record.asdict() for record in records]
    return document


def _run_one(ref: S3ObjectRef, steps: RecordSteps, clock: Clock) -> RecordOutcome:
    logger.set_correlation_id(ref.correlation_id)
    logger.append_keys(bucket=ref.bucket, key=ref.key, version_id=ref.version_id)
    started = time.perf_counter()
    try:
        outcome = _attempt(ref, steps, clock)
    finally:
        logger.remove_keys(["bucket", "key", "version_id"])
    elapsed_ms = (time.perf_counter() - started) * 1000
    metrics.add_metric(name="RecordDuration", unit=MetricUnit.Milliseconds, value=elapsed_ms)
    if outcome.status is Status.RESULTS:
        metrics.add_metric(name="ResultsWritten", unit=MetricUnit.Count, value=1)
    elif outcome.status is Status.DUPLICATE:
        logger.info("Skipped a duplicate", extra={"detail": outcome.detail})
        metrics.add_metric(name="DuplicateSkipped", unit=MetricUnit.Count, value=1)
    elif outcome.status is Status.STALE:
        logger.warning("Skipped: not the key's current object", extra={"detail": outcome.detail})
        metrics.add_metric(name="StaleSkipped", unit=MetricUnit.Count, value=1)
    elif outcome.status is Status.DEFERRED:
        logger.warning("Deferred to a retry", extra={"detail": outcome.detail})
        metrics.add_metric(name="RecordsDeferred", unit=MetricUnit.Count, value=1)
    return outcome


def _attempt(ref: S3ObjectRef, steps: RecordSteps, clock: Clock) -> RecordOutcome:
    ignored = steps.ignore(ref)
    if ignored is not None:
        logger.warning("Ignoring a key this function does not process", extra={"why": ignored})
        return RecordOutcome(Status.IGNORED, detail=ignored)
    size = key_bytes(ref.key)
    if size > S3_MAX_KEY_BYTES:
        detail = (
            f"source_missing: the key is {size} bytes, over S3's limit of {S3_MAX_KEY_BYTES}; "
            "no such object can exist"
        )
        return RecordOutcome(Status.STALE, detail=detail)
    try:
        if ref.needs_head:
            # Before the work, so that the error report records the same object too.
            ref = steps.fill_from_head(ref)
        return steps.handle(ref, clock)
    except RecordSkipped as skipped:
        return RecordOutcome(skipped.status, detail=skipped.detail, rejection=skipped.rejection)
    except ObjectChangedError as changed:  # overwritten since the event: the newer one's will come
        return RecordOutcome(Status.STALE, detail=f"not_current: {changed}")
    except ObjectMissingError as missing:  # the version, or the key, is gone: nothing to record
        return RecordOutcome(Status.STALE, detail=f"source_missing: {missing}")
    except InputRejectedError as rejection:
        return _report(ref, rejection, steps)
    except OutOfTimeError as late:
        return RecordOutcome(Status.DEFERRED, detail=str(late))
    except Exception as exc:
        if is_permanent(exc):
            logger.exception("Record failed for good: S3 refused the request as invalid")
            metrics.add_metric(name="InputRejected", unit=MetricUnit.Count, value=1)
            return RecordOutcome(Status.FAILED, detail=f"invalid_request: {exc}", permanent=True)
        logger.exception("Record failed; the invocation will raise so Lambda retries it")
        metrics.add_metric(name="TransientFailure", unit=MetricUnit.Count, value=1)
        return RecordOutcome(Status.FAILED, detail=repr(exc))


def _report(ref: S3ObjectRef, rejection: InputRejectedError, steps: RecordSteps) -> RecordOutcome:
    """Write the error report of a rejected input; see the module docstring."""
    try:
        report_key = steps.write_error_report(ref, rejection)
    except RecordSkipped as skipped:  # a newer upload, or none, holds the key by now
        return RecordOutcome(skipped.status, detail=skipped.detail)
    except ErrorReportKeyTooLongError as impossible:
        # Nowhere to write it: for an S3 event the raise takes it to the on-failure queue.
        logger.error(
            "Input rejected, and its error report cannot be stored",
            extra={"reason": rejection.reason, "error": rejection.message, "why": str(impossible)},
        )
        metrics.add_metric(name="InputRejected", unit=MetricUnit.Count, value=1)
        detail = f"{rejection.reason}: no error report: {impossible}"
        return RecordOutcome(Status.FAILED, detail=detail, permanent=True)
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
