"""CsvSummarizerFunction: a JSON summary of each CSV uploaded under csv/.

Thin handler: parse the event, guard against recursion, skip duplicates, stream the object
through the pure summarizer (summarize.py) and write the summary under summaries/ in the
same bucket. The outcome contract is in the README ("What the stack does").
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from pipeline_runtime.config import CsvSummarizerConfig
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.idempotency import (
    Markers,
    retire_older,
    skip_if_done,
    source_metadata,
    write_result_marker,
)
from pipeline_runtime.observability import MetricUnit, logger, metrics, tracer
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordOutcome,
    Status,
    error_report,
    process_event,
    reject_if_too_large,
)
from pipeline_runtime.s3io import ObjectStore
from summarize import CsvLimits, CsvRejected, error_report_key, summarize, summary_key

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
    # Code-level recursion guard: our own outputs live in this bucket too.
    if ref.key.startswith(CONFIG.summary_prefix) or not ref.key.startswith(CONFIG.upload_prefix):
        return f"key is not under {CONFIG.upload_prefix}"
    return None


def handle_csv(ref: S3ObjectRef, time_left: Callable[[], float]) -> RecordOutcome:
    markers = _markers(ref)
    skip_if_done(ref, store, ref.bucket, markers)
    reject_if_too_large(ref.size, CONFIG.max_csv_bytes)

    try:
        with tracer.provider.in_subsegment("summarize"):
            summary = store.read_stream(ref, lambda body: summarize(body, LIMITS, time_left))
    except CsvRejected as exc:
        raise InputRejected(exc.reason, exc.message) from exc

    # A newer upload may have finished while we read: never let its summary be replaced.
    summary["source"] = ref.identity()
    write_result_marker(ref, store, ref.bucket, markers, summary)
    retire_older(ref, store, ref.bucket, markers.error_report)
    metrics.add_metric(name="RowsSummarized", unit=MetricUnit.Count, value=summary.get("rows", 0))
    return RecordOutcome(Status.RESULTS, [markers.result])


def write_error_report(ref: S3ObjectRef, rejection: InputRejected) -> str:
    markers = _markers(ref)
    report = error_report(ref, rejection, "csv-summarizer")
    store.put_json(ref.bucket, markers.error_report, report, source_metadata(ref))
    # An older upload's summary would otherwise still describe this key.
    retire_older(ref, store, ref.bucket, markers.result)
    return markers.error_report


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000 - REPORT_MARGIN_S

    return process_event(
        event,
        partial(handle_csv, time_left=time_left),
        write_error_report,
        ignore=ignore_csv,
        identify=store.identify,
    )
