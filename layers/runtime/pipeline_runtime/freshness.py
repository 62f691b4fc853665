"""Is this record's work still needed, and may it run? One place for both functions.

Checked before the work (so duplicates cost a HEAD, not a download) and again just
before the last write (a newer upload may have finished while we worked): both raise
``RecordSkipped``, which ``outcomes.process_event`` turns into a logged, counted skip.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordSkipped,
    Status,
    classify_against_recorded,
)
from pipeline_runtime.s3io import ObjectStore


def recorded_source(
    store: ObjectStore, bucket: str, markers: Iterable[str]
) -> dict[str, str] | None:
    """Source metadata on the first existing marker (manifest/summary, then error report)."""
    for key in markers:
        head = store.head(bucket, key)
        if head is not None:
            return dict(head.get("Metadata") or {})
    return None


def ensure_needed(
    ref: S3ObjectRef, store: ObjectStore, bucket: str, markers: Iterable[str]
) -> None:
    """Raise RecordSkipped if finished outputs already cover ``ref``, or a newer upload won."""
    status = classify_against_recorded(ref, recorded_source(store, bucket, markers))
    if status is Status.DUPLICATE:
        raise RecordSkipped(status, "the outputs already record this upload")
    if status is Status.STALE:
        raise RecordSkipped(status, "the outputs record a newer upload of this key")
    if store.superseded(ref):
        raise RecordSkipped(Status.STALE, "the key now holds a newer upload")


def ensure_within(size: int | None, limit: int) -> None:
    """Raise InputRejected('too_large') for an object over the function's size limit."""
    if size is not None and size > limit:
        raise InputRejected("too_large", f"object is {size} bytes; the limit is {limit}")
