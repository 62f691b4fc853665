"""CsvSummarizerFunction: a JSON summary of each CSV uploaded under csv/.

Thin handler: parse the event, guard against recursion, skip duplicates, stream the object
through the pure summarizer (summarize.py) and write the summary under summaries/ in the
same bucket. How each record ends is in the docstring of ``pipeline_runtime.endings``.
"""

from __future__ import annotations

from typing import Any

from pipeline_runtime.config import CsvSummarizerConfig
from pipeline_runtime.endings import OutOfTimeError, Status
from pipeline_runtime.error_reports import ErrorReportWriter
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.idempotency import Markers, skip_if_done, write_marker
from pipeline_runtime.observability import MetricUnit, logger, metrics, tracer
from pipeline_runtime.outcomes import (
    Clock,
    RecordOutcome,
    process_event,
    reject_if_keys_too_long,
    reject_if_too_large,
)
from pipeline_runtime.s3io import ObjectStore
from summarize import CsvLimits, CsvRejectedError, error_report_key, summarize, summary_key

CONFIG = CsvSummarizerConfig.from_env()
# MaxCsvBytes bounds the bytes summarized, not only the bytes stored: a small .csv.gz that
# inflates past it gets an error report on the first attempt, never a timeout and retries.
LIMITS = CsvLimits(
    max_field_bytes=CONFIG.max_field_bytes,
    max_bytes=CONFIG.max_csv_bytes,
    over_max_bytes="reject",
)
store = ObjectStore()
# A CSV that cannot be summarized within the timeout (very wide files are slow) stops this
# long before it, so that its error report is written on the first attempt: otherwise it
# would time out three times and end in the on-failure queue.
REPORT_MARGIN_S = 15.0


def _markers(ref: S3ObjectRef) -> Markers:
    """The objects that record a finished record: the summary, else the error report."""
    return Markers(
        summary_key(ref.key, CONFIG.upload_prefix, CONFIG.summary_prefix),
        error_report_key(ref.key, CONFIG.upload_prefix, CONFIG.summary_prefix),
    )


def ignore_csv(ref: S3ObjectRef) -> str | None:
    """Why this key is no CSV of ours (None: it is), decided before any S3 call."""
    if ref.bucket != CONFIG.upload_bucket:
        return f"bucket {ref.bucket} is not this function's upload bucket {CONFIG.upload_bucket}"
    # Code-level recursion guard: our own outputs live in this bucket too.
    if ref.key.startswith(CONFIG.summary_prefix) or not ref.key.startswith(CONFIG.upload_prefix):
        return f"key is not under {CONFIG.upload_prefix}"
    return None


def handle_csv(ref: S3ObjectRef, clock: Clock) -> RecordOutcome:
    markers = _markers(ref)
    reject_if_keys_too_long([markers.result])  # before any write, and before the work
    skip_if_done(ref, store, ref.bucket, markers)
    reject_if_too_large(ref.size, CONFIG.max_csv_bytes)

    def time_left() -> float:
        return clock.time_left() - REPORT_MARGIN_S

    try:
        with tracer.provider.in_subsegment("summarize"):
            summary = store.read_stream(ref, lambda body: summarize(body, LIMITS, time_left))
    except CsvRejectedError as exc:
        if exc.reason == "too_slow" and clock.shared:
            # Other records used part of the time: a retry may have all of it.
            raise OutOfTimeError(f"out of time after the records before it: {exc.message}") from exc
        raise  # an error report (pipeline_runtime.endings)

    # A newer upload may have finished while we read: never let its summary be replaced.
    summary["source"] = ref.as_source()
    write_marker(ref, store, ref.bucket, markers, summary)
    metrics.add_metric(name="RowsSummarized", unit=MetricUnit.Count, value=summary.get("rows", 0))
    return RecordOutcome(Status.RESULTS, [markers.result])


# Where a CSV's error report goes: beside where its summary would be, in the upload bucket.
write_error_report = ErrorReportWriter(
    store, "csv-summarizer", lambda ref: (ref.bucket, _markers(ref))
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_event(
        event,
        handle_csv,
        write_error_report,
        ignore=ignore_csv,
        fill_from_head=store.fill_from_head,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
