"""ImageProcessorFunction: five variants of each image uploaded under images/.

Thin handler: parse the event, skip duplicates, fetch, call the pure imaging core
(variants.py), write the variants and then the manifest. How each record ends (what each
exception means) is in the docstring of ``pipeline_runtime.endings``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline_runtime.config import ImageProcessorConfig
from pipeline_runtime.endings import Status
from pipeline_runtime.error_reports import ErrorReportWriter
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.idempotency import (
    Markers,
    ensure_current,
    skip_if_done,
    source_metadata,
    write_marker,
)
from pipeline_runtime.observability import MetricUnit, logger, metrics, tracer
from pipeline_runtime.outcomes import (
    Clock,
    RecordOutcome,
    process_event,
    reject_if_keys_too_long,
    reject_if_too_large,
)
from pipeline_runtime.s3io import ObjectStore
from variants import (
    VARIANTS,
    ImageLimits,
    make_variants,
    output_prefix,
)

MANIFEST_SCHEMA_VERSION = "1.1"  # 1.1: "changes"
MANIFEST_NAME = "manifest.json"
ERROR_REPORT_NAME = "error.json"
BYTES_PARAMETER = "MaxImageBytes"  # the stack parameter named in a too_large report

CONFIG = ImageProcessorConfig.from_env()
LIMITS = ImageLimits(
    max_pixels=CONFIG.max_image_pixels,
    thumbnail_size=CONFIG.thumbnail_size,
    background=CONFIG.jpeg_background_rgb,
)
store = ObjectStore()


def _prefix(ref: S3ObjectRef) -> str:
    return output_prefix(ref.key, CONFIG.upload_prefix)


def _markers(prefix: str) -> Markers:
    """The objects that record a finished record: the manifest, else the error report."""
    return Markers(f"{prefix}/{MANIFEST_NAME}", f"{prefix}/{ERROR_REPORT_NAME}")


def ignore_image(ref: S3ObjectRef) -> str | None:
    """Why this key is no image of ours (None: it is), decided before any S3 call."""
    if ref.bucket != CONFIG.upload_bucket:
        return f"bucket {ref.bucket} is not this function's upload bucket {CONFIG.upload_bucket}"
    if not ref.key.startswith(CONFIG.upload_prefix):
        return f"key is not under {CONFIG.upload_prefix}"
    if ref.key.endswith("/"):
        # A "folder" made in the S3 console: a zero-byte marker, not an image.
        return "folder marker"
    return None


def _output_keys(prefix: str) -> list[str]:
    """Every key a record of this prefix may write, whatever the image turns out to be."""
    names = {spec.filename(has_alpha) for spec in VARIANTS for has_alpha in (False, True)}
    return [f"{prefix}/{name}" for name in sorted(names)] + [f"{prefix}/{MANIFEST_NAME}"]


def handle_image(ref: S3ObjectRef, clock: Clock) -> RecordOutcome:
    """One image: its time is the image's own, so the invocation's ``clock`` is not read."""
    prefix = _prefix(ref)
    markers = _markers(prefix)
    reject_if_keys_too_long(_output_keys(prefix))  # before any write, and before the work
    skip_if_done(ref, store, CONFIG.processed_bucket, markers)
    reject_if_too_large(ref.size, CONFIG.max_image_bytes, BYTES_PARAMETER)
    data = store.get_bytes(ref)
    reject_if_too_large(len(data), CONFIG.max_image_bytes, BYTES_PARAMETER)

    # An ImageRejectedError ends the record in an error report (pipeline_runtime.endings).
    with tracer.provider.in_subsegment("make_variants"):
        result = make_variants(data, LIMITS)

    # Decoding and encoding take a while: a newer upload may exist by now, and its event
    # may be writing the variants in another sandbox. Skip rather than replace them; the
    # window left between this check and the writes is in docs/RELIABILITY.md.
    ensure_current(ref, store)
    metadata = source_metadata(ref)
    written: list[dict[str, Any]] = []
    for variant in result.variants:
        key = f"{prefix}/{variant.filename}"
        version_id = store.put(
            CONFIG.processed_bucket, key, variant.body, variant.content_type, metadata
        )
        metrics.add_metric(
            name=f"{variant.name}Bytes", unit=MetricUnit.Bytes, value=len(variant.body)
        )
        metrics.add_metric(
            name=f"{variant.name}EncodeMs", unit=MetricUnit.Milliseconds, value=variant.encode_ms
        )
        written.append(
            {
                "name": variant.name,
                "key": key,
                "version_id": version_id,
                "format": variant.format,
                "content_type": variant.content_type,
                "width": variant.width,
                "height": variant.height,
                "mode": variant.mode,
                "bytes": len(variant.body),
                "encode_ms": round(variant.encode_ms, 1),
            }
        )

    # A newer upload may have finished while we worked: never let its manifest be replaced.
    manifest = _manifest(ref, result, written)
    write_marker(ref, store, CONFIG.processed_bucket, markers, manifest)
    return RecordOutcome(Status.RESULTS, [str(w["key"]) for w in written] + [markers.result])


def _manifest(ref: S3ObjectRef, result: Any, written: list[dict[str, Any]]) -> dict[str, Any]:
    # Written last: its presence means every variant it lists exists, at the listed version.
    return {
        "schema_version": MANIFEST_SCHEMA_VERSION,
        "source": ref.as_source(),
        "image": {
            "format": result.source_format,
            "width": result.source_width,
            "height": result.source_height,
            "mode": result.source_mode,
        },
        "variants": written,
        "changes": list(result.changes),
        "notes": list(result.notes),
        "processed_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


# Where an image's error report goes: beside its variants, in the processed bucket.
write_error_report = ErrorReportWriter(
    store, "image-processor", lambda ref: (CONFIG.processed_bucket, _markers(_prefix(ref)))
)


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_event(
        event,
        handle_image,
        write_error_report,
        ignore=ignore_image,
        fill_from_head=store.fill_from_head,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
