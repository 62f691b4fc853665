"""Is this record's work still needed, and may it run? One place for both functions.

Checked before the work (so duplicates cost a HEAD, not a download) and again just
before the last write (a newer upload may have finished while we worked): both raise
``RecordSkipped``, which ``outcomes.process_event`` turns into a logged, counted skip.
The last write itself (``put_marker``) is conditional on what that check saw, so an older
event running at the same time as a newer one cannot slip its marker in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cmp_to_key
from typing import Any

from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.observability import logger
from pipeline_runtime.outcomes import (
    META_SEQUENCER,
    InputRejected,
    RecordSkipped,
    Status,
    classify_against_recorded,
    compare_sequencers,
)
from pipeline_runtime.s3io import ObjectStore, WriteConflict

# Lost races in a row before giving up (and raising, so that Lambda retries the event).
MARKER_WRITE_ATTEMPTS = 3


def _newer_marker(a: dict[str, Any], b: dict[str, Any]) -> int:
    """Order two marker HEADs by the upload they record: sequencer, else write time."""
    seq_a = (a.get("Metadata") or {}).get(META_SEQUENCER)
    seq_b = (b.get("Metadata") or {}).get(META_SEQUENCER)
    if seq_a and seq_b:
        return compare_sequencers(seq_a, seq_b)
    time_a, time_b = a.get("LastModified"), b.get("LastModified")
    if time_a and time_b:
        return (time_a > time_b) - (time_a < time_b)
    return 0


def _recorded(
    store: ObjectStore, bucket: str, markers: Sequence[str]
) -> tuple[str | None, dict[str, str] | None]:
    """(ETag of markers[0], None if absent; source metadata of the newest marker).

    Results and error reports can both exist for one key (a valid upload, then an invalid
    one): the newest decides, so a duplicate of either event is recognised.
    """
    heads = [store.head(bucket, key) for key in markers]
    first = heads[0]
    etag = str(first["ETag"]) if first and first.get("ETag") else None
    present = [head for head in heads if head is not None]
    if not present:
        return etag, None
    newest = max(present, key=cmp_to_key(_newer_marker))
    return etag, dict(newest.get("Metadata") or {})


def retire_older(ref: S3ObjectRef, store: ObjectStore, bucket: str, key: str) -> None:
    """Delete the other marker (results vs error report) if it records an older upload.

    The outputs then describe the newest upload only; the bucket is versioned, so the
    retired marker stays recoverable as a noncurrent version. The HEAD is taken after our
    own write on purpose: a HEAD from before it could miss a newer upload's marker written
    meanwhile, and this would delete it.
    """
    head = store.head(bucket, key)
    if head is not None and classify_against_recorded(ref, head.get("Metadata") or {}) is None:
        store.delete(bucket, key)
        logger.info("Retired an older upload's marker", extra={"retired": key})


def recorded_source(
    store: ObjectStore, bucket: str, markers: Sequence[str]
) -> dict[str, str] | None:
    """Source metadata of the newest marker (manifest/summary, or error report)."""
    return _recorded(store, bucket, markers)[1]


def ensure_needed(
    ref: S3ObjectRef, store: ObjectStore, bucket: str, markers: Sequence[str]
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
