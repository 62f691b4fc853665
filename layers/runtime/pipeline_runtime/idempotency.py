"""The idempotency and ordering protocol, in one place for both functions.

S3 delivers events at least once and in no particular order, and needs no database here:
every output records its source in object metadata (``source-etag``,
``source-version-id``, ``source-sequencer``), and each record's outputs end with a
*marker*, written last: the result (image manifest or CSV summary) or the error report.

For one event, against the markers of the key it names::

    verdict(event, newest marker) ── DUPLICATE: a marker records this very upload ── skip
          │                       └─ STALE: a marker records a newer upload ───────── skip
          NEEDED
          │  superseded? (the key now holds a newer object) ─────────────── STALE, skip
          ▼
        work → outputs → the result marker, written only over the marker we checked
          │               (If-Match / If-None-Match); lost the race: verdict again
          ▼
        retire the other marker if it records an older upload

- **Verdict.** Two sequenced uploads are ordered by their sequencers (S3: compare after
  right-padding the shorter with zeros). Otherwise, as for backfills and EventBridge
  replays, the version id and then the ETag tell a duplicate; they cannot tell order.
- **Superseded.** An event without a sequencer may run only while the key still holds the
  object it names (one HEAD): a newer upload has its own event, and its results must win.
  So may any event judged against a marker without a sequencer (a backfill's, a Batch
  Operations task's): sequencers cannot order it against that marker.
  Outputs written before the marker (the image variants) make every event check again
  just before writing them (``skip_if_superseded``).
- **Where it is checked.** Before the work (a duplicate costs a HEAD, not a download),
  before the variants are written, and inside the conditional marker write. A skip raises
  ``RecordSkipped``, which ``outcomes.process_event`` logs and counts.
- **The one open window.** Between that last check and the variant writes, a newer
  upload's variants can be overwritten by an older event's; its manifest never can, and
  the manifest names the exact variant versions (docs/RELIABILITY.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from pipeline_runtime.events import S3ObjectRef, normalise_etag
from pipeline_runtime.observability import logger
from pipeline_runtime.outcomes import RecordSkipped, Status
from pipeline_runtime.s3io import ObjectStore, WriteConflict

# Object metadata (x-amz-meta-*) that every output carries about its source.
META_ETAG = "source-etag"
META_VERSION_ID = "source-version-id"
META_SEQUENCER = "source-sequencer"

# Lost races in a row before giving up (and raising, so that Lambda retries the event).
MARKER_WRITE_ATTEMPTS = 3


class Verdict(enum.Enum):
    """What the existing outputs say about an event's work."""

    NEEDED = "needed"
    DUPLICATE = Status.DUPLICATE.value
    STALE = Status.STALE.value


@dataclass(frozen=True)
class Markers:
    """The two objects that can record a finished record, in one bucket."""

    result: str  # manifest or summary: written last, after the outputs it lists
    error_report: str

    def both(self) -> tuple[str, str]:
        return self.result, self.error_report


def source_metadata(ref: S3ObjectRef) -> dict[str, str]:
    """The metadata every output carries, so that a later event can be judged against it."""
    meta = {META_ETAG: ref.etag, META_VERSION_ID: ref.version_id, META_SEQUENCER: ref.sequencer}
    return {name: value for name, value in meta.items() if value}


def compare_sequencers(a: str, b: str) -> int:
    """-1, 0 or 1 as write ``a`` came before, with or after write ``b`` of the same key."""
    width = max(len(a), len(b))
    padded_a, padded_b = a.upper().ljust(width, "0"), b.upper().ljust(width, "0")
    return (padded_a > padded_b) - (padded_a < padded_b)


def verdict(ref: S3ObjectRef, recorded: dict[str, str] | None) -> Verdict:
    """Judge ``ref`` against the source metadata of the newest marker (None: no marker)."""
    if not recorded:
        return Verdict.NEEDED
    seen_sequencer = recorded.get(META_SEQUENCER)
    if ref.sequencer and seen_sequencer:
        order = compare_sequencers(ref.sequencer, seen_sequencer)
        if order < 0:
            return Verdict.STALE
        return Verdict.DUPLICATE if order == 0 else Verdict.NEEDED
    # Without sequencers (EventBridge replays, backfills, Batch Operations tasks) the
    # version, then the ETag, decide.
    seen_version = recorded.get(META_VERSION_ID)
    if ref.version_id and seen_version:
        return Verdict.DUPLICATE if ref.version_id == seen_version else Verdict.NEEDED
    if ref.etag and recorded.get(META_ETAG) == ref.etag:
        return Verdict.DUPLICATE
    return Verdict.NEEDED


def _newer_marker(a: tuple[str, dict[str, Any]], b: tuple[str, dict[str, Any]]) -> int:
    """Order two (key, HEAD) markers by the upload they record: sequencer, else write time."""
    head_a, head_b = a[1], b[1]
    seq_a = (head_a.get("Metadata") or {}).get(META_SEQUENCER)
    seq_b = (head_b.get("Metadata") or {}).get(META_SEQUENCER)
    if seq_a and seq_b:
        return compare_sequencers(seq_a, seq_b)
    time_a, time_b = head_a.get("LastModified"), head_b.get("LastModified")
    if time_a and time_b:
        return (time_a > time_b) - (time_a < time_b)
    return 0


@dataclass(frozen=True)
class RecordedState:
    """What the markers of a key hold now."""

    result_etag: str | None  # of the result marker, for the conditional write; None: absent
    newest_source: dict[str, str] | None  # source metadata of the newest marker
    newest_marker: str | None = None  # its key, named in a duplicate's skip detail
    newest_is_error_report: bool = False


def recorded_state(store: ObjectStore, bucket: str, markers: Markers) -> RecordedState:
    """HEAD both markers. Both can exist (a valid upload, then an invalid one): the newest
    decides, so that a duplicate of either event is recognised."""
    heads = {key: store.head(bucket, key) for key in markers.both()}
    result_head = heads[markers.result]
    etag = str(result_head["ETag"]) if result_head and result_head.get("ETag") else None
    present = [(key, head) for key, head in heads.items() if head is not None]
    if not present:
        return RecordedState(etag, None)
    key, newest = max(present, key=cmp_to_key(_newer_marker))
    return RecordedState(etag, dict(newest.get("Metadata") or {}), key, key == markers.error_report)


def is_superseded(ref: S3ObjectRef, store: ObjectStore, *, sequenced_too: bool = False) -> bool:
    """True if the key no longer holds the object the event names.

    Sequenced events are ordered by ``verdict``, so only unsequenced ones pay this HEAD,
    unless ``sequenced_too`` (before writing outputs that a concurrent newer event may
    already have written).
    """
    if ref.sequencer and not sequenced_too:
        return False
    head = store.head(ref.bucket, ref.key)
    if head is None:
        return False  # deleted: the fetch reports it as source_missing
    current_version = head.get("VersionId")
    if ref.version_id and current_version:
        return bool(current_version != ref.version_id)
    return bool(ref.etag) and normalise_etag(head.get("ETag")) != ref.etag


def _skip_unless_needed(ref: S3ObjectRef, store: ObjectStore, state: RecordedState) -> None:
    judged = verdict(ref, state.newest_source)
    if judged is Verdict.DUPLICATE:
        # Name the marker, so that a re-run's report tells a done upload from a rejected one.
        done = "was already rejected" if state.newest_is_error_report else "is already done"
        raise RecordSkipped(Status.DUPLICATE, f"this upload {done}: {state.newest_marker}")
    if judged is Verdict.STALE:
        raise RecordSkipped(Status.STALE, "the outputs record a newer upload of this key")
    # Sequencers order an event only against a marker that has one too; against a marker
    # without (a backfill, a Batch Operations task) the event must name the current object.
    unordered = bool(state.newest_source) and not (state.newest_source or {}).get(META_SEQUENCER)
    if is_superseded(ref, store, sequenced_too=unordered):
        raise RecordSkipped(Status.STALE, "the key now holds a newer upload")


def skip_if_done(ref: S3ObjectRef, store: ObjectStore, bucket: str, markers: Markers) -> None:
    """Before the work: raise RecordSkipped for a duplicate or stale event."""
    _skip_unless_needed(ref, store, recorded_state(store, bucket, markers))


def skip_if_superseded(ref: S3ObjectRef, store: ObjectStore) -> None:
    """Before writing outputs that precede the marker: skip if a newer upload exists."""
    if is_superseded(ref, store, sequenced_too=True):
        raise RecordSkipped(Status.STALE, "the key now holds a newer upload")


def write_result_marker(
    ref: S3ObjectRef,
    store: ObjectStore,
    bucket: str,
    markers: Markers,
    document: Any,
) -> None:
    """Write the result marker last, only over the marker state that was judged.

    The write is conditional (If-Match the result marker's ETag, or If-None-Match when
    there was none). Another writer in between makes it judge again: a newer upload's
    marker then wins (RecordSkipped), and a lost response to our own write (the retry
    finds our marker) counts as written.
    """
    for attempt in range(MARKER_WRITE_ATTEMPTS):
        state = recorded_state(store, bucket, markers)
        if attempt and verdict(ref, state.newest_source) is Verdict.DUPLICATE:
            return  # our write landed (its response was lost), or an identical duplicate's
        _skip_unless_needed(ref, store, state)
        try:
            store.put_json(
                bucket,
                markers.result,
                document,
                source_metadata(ref),
                if_match=state.result_etag,
                if_none_match=not state.result_etag,
            )
            return
        except WriteConflict:
            logger.info("Another write of the marker came first; checking again")
    raise WriteConflict(f"s3://{bucket}/{markers.result} kept changing; Lambda will retry")


def retire_older(ref: S3ObjectRef, store: ObjectStore, bucket: str, key: str) -> None:
    """Delete the other marker if it records an older upload than ``ref``.

    The outputs then describe the newest upload only; the bucket is versioned, so the
    retired marker stays recoverable. The HEAD is taken after our own write on purpose: one
    from before could miss a newer upload's marker written meanwhile, and delete it.
    """
    head = store.head(bucket, key)
    if head is not None and verdict(ref, head.get("Metadata") or {}) is Verdict.NEEDED:
        store.delete(bucket, key)
        logger.info("Retired an older upload's marker", extra={"retired": key})
