"""Is this record's work still needed, and may it run? One place for both functions.

Checked before the work (so duplicates cost a HEAD, not a download) and again just
before the last write (a newer upload may have finished while we worked): both raise
``RecordSkipped``, which ``outcomes.process_event`` turns into a logged, counted skip.
The last write itself (``put_marker``) is conditional on what that check saw, so an older
event running at the same time as a newer one cannot slip its marker in between.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.observability import logger
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordSkipped,
    Status,
    classify_against_recorded,
)
from pipeline_runtime.s3io import ObjectStore, WriteConflict

# Lost races in a row before giving up (and raising, so that Lambda retries the event).
MARKER_WRITE_ATTEMPTS = 3


def _recorded(
    store: ObjectStore, bucket: str, markers: Iterable[str]
) -> tuple[str | None, dict[str, str] | None]:
    """(ETag of the first marker, None if absent; source metadata on the first existing)."""
    for n, key in enumerate(markers):
        head = store.head(bucket, key)
        if head is not None:
            etag = str(head["ETag"]) if n == 0 and head.get("ETag") else None
            return etag, dict(head.get("Metadata") or {})
    return None, None


def recorded_source(
    store: ObjectStore, bucket: str, markers: Iterable[str]
) -> dict[str, str] | None:
    """Source metadata on the first existing marker (manifest/summary, then error report)."""
    return _recorded(store, bucket, markers)[1]


def ensure_needed(
    ref: S3ObjectRef, store: ObjectStore, bucket: str, markers: Iterable[str]
) -> None:
    """Raise RecordSkipped if finished outputs already cover ``ref``, or a newer upload won."""
    _ensure_needed(ref, store, recorded_source(store, bucket, markers))


def ensure_current(ref: S3ObjectRef, store: ObjectStore) -> None:
    """Raise RecordSkipped if the key holds a newer upload than ``ref``, sequenced or not.

    For outputs written before the marker (the image variants): once the newer upload
    exists, its own event will write them, possibly at this very moment in another
    execution environment, and an older event must not overwrite them.
    """
    if store.superseded(ref, sequenced_too=True):
        raise RecordSkipped(Status.STALE, "the key now holds a newer upload")


def put_marker(
    ref: S3ObjectRef,
    store: ObjectStore,
    bucket: str,
    markers: Sequence[str],
    document: Any,
    metadata: dict[str, str],
) -> None:
    """Write ``markers[0]`` (manifest/summary) last, unless a newer upload's outputs won.

    The write is conditional on the marker still being the one the check saw (If-Match
    its ETag, or If-None-Match when there was none). Another writer in between makes it
    check again: a newer upload's marker then wins (RecordSkipped), and a lost response
    to our own write (the retry finds our marker) counts as written.
    """
    for attempt in range(MARKER_WRITE_ATTEMPTS):
        etag, recorded = _recorded(store, bucket, markers)
        if attempt and classify_against_recorded(ref, recorded) is Status.DUPLICATE:
            return  # our write landed (its response was lost), or an identical duplicate's
        _ensure_needed(ref, store, recorded)
        try:
            store.put_json(
                bucket, markers[0], document, metadata, if_match=etag, if_none_match=not etag
            )
            return
        except WriteConflict:
            logger.info("Another write of the marker came first; checking again")
    raise WriteConflict(f"s3://{bucket}/{markers[0]} kept changing; Lambda will retry")


def _ensure_needed(ref: S3ObjectRef, store: ObjectStore, recorded: dict[str, str] | None) -> None:
    status = classify_against_recorded(ref, recorded)
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
