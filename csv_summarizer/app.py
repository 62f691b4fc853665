"""CsvSummarizerFunction: a JSON summary of each CSV uploaded under csv/.

Thin handler: parse the event, guard against recursion, skip duplicates, stream the object
through the pure summarizer (summarize.py) and write the summary under summaries/ in the
same bucket. The outcome contract is in the README ("What the stack does").
"""

from __future__ import annotations

from typing import Any

from pipeline_runtime.config import CsvSummarizerConfig
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.freshness import ensure_needed, ensure_within, put_marker, retire_older
from pipeline_runtime.observability import MetricUnit, logger, metrics, tracer
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordOutcome,
    Status,
    error_report,
    process_event,
    source_metadata,
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


def _summary_key(ref: S3ObjectRef) -> str:
    return summary_key(ref.key, CONFIG.upload_prefix, CONFIG.summary_prefix)


def _error_report_key(ref: S3ObjectRef) -> str:
    return error_report_key(ref.key, CONFIG.upload_prefix, CONFIG.summary_prefix)


def handle_csv(ref: S3ObjectRef) -> RecordOutcome:
    # Code-level recursion guard: our own outputs live in this bucket too.
    if ref.key.startswith(CONFIG.summary_prefix) or not ref.key.startswith(CONFIG.upload_prefix):
        logger.warning("Ignoring a key outside the CSV prefix", extra={"key": ref.key})
        return RecordOutcome(Status.IGNORED, detail=f"key is not under {CONFIG.upload_prefix}")
    markers = (_summary_key(ref), _error_report_key(ref))
    ensure_needed(ref, store, ref.bucket, markers)
    ensure_within(ref.size, CONFIG.max_csv_bytes)

    try:
        with tracer.provider.in_subsegment("summarize"):
            summary = store.read_stream(ref, lambda body: summarize(body, LIMITS))
    except CsvRejected as exc:
        raise InputRejected(exc.reason, exc.message) from exc

    # A newer upload may have finished while we read: never let its summary be replaced.
    summary["source"] = ref.identity()
    key = _summary_key(ref)
    put_marker(ref, store, ref.bucket, markers, summary, source_metadata(ref))
    retire_older(ref, store, ref.bucket, markers[1])
    metrics.add_metric(name="RowsSummarized", unit=MetricUnit.Count, value=summary.get("rows", 0))
    return RecordOutcome(Status.RESULTS, [key])


def write_error_report(ref: S3ObjectRef, rejection: InputRejected) -> str:
    key = _error_report_key(ref)
    store.put_json(
        ref.bucket, key, error_report(ref, rejection, "csv-summarizer"), source_metadata(ref)
    )
    # An older upload's summary would otherwise still describe this key.
    retire_older(ref, store, ref.bucket, _summary_key(ref))
    return key


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_event(event, handle_csv, write_error_report)
