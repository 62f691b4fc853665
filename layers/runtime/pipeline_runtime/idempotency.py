"""The idempotency and ordering protocol, in one place for both functions.

S3 delivers events at least once and in no particular order, and needs no database here:
every output records its source in object metadata (``source-etag``,
``source-version-id``, ``source-sequencer``), and each record's outputs end with a
*marker*, written last: the result (image manifest or CSV summary) or the error report.

**The rule.** Nothing removes or replaces the record of the object a key holds *now*.
A marker is written, and the other marker retired, only by a record of the key's current
object. An event or Batch task about any other object (overwritten, deleted since, a
version that is gone or never existed, a key S3 cannot hold) is answered and writes
nothing: ``skipped_stale`` with a reason (``not_current`` or ``source_missing``), which a
Batch task reports as a ``PermanentFailure``.

For one event, against the markers of the key it names::

    verdict(event, newest marker) ── DUPLICATE: a marker records this very upload ── skip,
          │                          after finishing a retirement a failed delete left
          │                       └─ STALE: a marker records a newer upload ───────── skip
          NEEDED
          │  current? (unsequenced events, or judged against an unsequenced marker)
          │           no: the key now holds another object, or none ─────── STALE, skip
          ▼
        work → outputs → current? → the marker (result or error report), written only
          │               over the marker state we checked (If-Match / If-None-Match);
          │               lost the race: verdict again
          ▼
        retire the other marker if it records another (older) upload; a delete that
        fails raises, and the retry's DUPLICATE verdict finishes it

- **Verdict.** Two sequenced uploads are ordered by their sequencers (S3: compare after
  right-padding the shorter with zeros). Otherwise, as for backfills and EventBridge
  replays, the version id and then the ETag tell a duplicate; they cannot tell order.
- **Current.** One HEAD of the key: it must hold the very object the event names (its
  version id, else its ETag). Before the work only where sequencers cannot order the
  event; before every write always, so that nothing is written for an object deleted or
  replaced while it was worked on (``ensure_current``).
- **Where it is checked.** Before the work (a duplicate costs a HEAD, not a download),
  before the variants are written, and inside the conditional marker write. A skip raises
  ``RecordSkipped``, which ``outcomes.process_event`` logs and counts.
- **The open windows.** Between the last check and the writes, a newer upload's variants
  can be overwritten by an older event's; its manifest never can, and the manifest names
  the exact variant versions. A key deleted between the HEAD and the marker write keeps
  the marker of its last object (docs/RELIABILITY.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from functools import cmp_to_key
from typing import Any

from pipeline_runtime.endings import RecordSkipped, Status
from pipeline_runtime.events import S3ObjectRef, normalise_etag
from pipeline_runtime.observability import logger
from pipeline_runtime.outcomes import S3_MAX_KEY_BYTES, key_bytes
from pipeline_runtime.s3io import ObjectStore, WriteConflictError

# Object metadata (x-amz-meta-*) that every output carries about its source.
META_ETAG = "source-etag"
META_VERSION_ID = "source-version-id"
META_SEQUENCER = "source-sequencer"
# On an error report only: the rejection's reason, so that a duplicate can repeat it unread.
META_REJECTION = "rejection-reason"

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
    """What the markers of a key hold now: the HEAD of each (None: absent)."""

    markers: Markers
    heads: dict[str, dict[str, Any] | None]
    newest_marker: str | None  # the marker that records the newest upload

    def etag(self, key: str) -> str | None:
        head = self.heads[key]
        return str(head["ETag"]) if head and head.get("ETag") else None

    def source(self, key: str | None) -> dict[str, str] | None:
        """The source metadata a marker records."""
        head = self.heads.get(key) if key else None
        return dict(head.get("Metadata") or {}) if head else None

    @property
    def newest_source(self) -> dict[str, str] | None:
        return self.source(self.newest_marker)

    @property
    def older_marker(self) -> str | None:
        """The other marker, when both exist."""
        if self.newest_marker is None:
            return None
        other = next(key for key in self.markers.both() if key != self.newest_marker)
        return other if self.heads[other] is not None else None


def recorded_state(store: ObjectStore, bucket: str, markers: Markers) -> RecordedState:
    """HEAD both markers. Both can exist (a valid upload, then an invalid one): the newest
    decides, so that a duplicate of either event is recognised."""
    # A key too long for S3 holds nothing, and S3 answers its HEAD with a 400.
    heads = {
        key: None if key_bytes(key) > S3_MAX_KEY_BYTES else store.head(bucket, key)
        for key in markers.both()
    }
    present = [(key, head) for key, head in heads.items() if head is not None]
    if not present:
        return RecordedState(markers, heads, None)
    newest, _ = max(present, key=cmp_to_key(_newer_marker))
    return RecordedState(markers, heads, newest)


def not_current(ref: S3ObjectRef, store: ObjectStore) -> str | None:
    """Why the key does not hold the object ``ref`` names now (None: it does). One HEAD."""
    where = f"s3://{ref.bucket}/{ref.key}"
    head = store.head(ref.bucket, ref.key)
    if head is None:
        return f"not_current: {where} has been deleted since"
    current_version = head.get("VersionId")
    if ref.version_id and current_version and current_version != ref.version_id:
        return f"not_current: {where} now holds version {current_version}, not {ref.version_id}"
    if ref.etag and normalise_etag(head.get("ETag")) != ref.etag:
        return f"not_current: {where} now holds another upload"
    return None


def ensure_current(ref: S3ObjectRef, store: ObjectStore) -> None:
    """Raise RecordSkipped (stale) unless the key still holds the object ``ref`` names."""
    problem = not_current(ref, store)
    if problem is not None:
        raise RecordSkipped(Status.STALE, problem)


def _skip_unless_needed(
    ref: S3ObjectRef, store: ObjectStore, bucket: str, state: RecordedState, *, writing: bool
) -> None:
    judged = verdict(ref, state.newest_source)
    if judged is Verdict.DUPLICATE:
        # Name the marker, so that a re-run's report tells a done upload from a rejected one.
        rejected = state.newest_marker == state.markers.error_report
        done = "was already rejected" if rejected else "is already done"
        detail = f"this upload {done}: {state.newest_marker}"
        retired = _finish_retirement(ref, store, bucket, state)
        if retired:
            detail += f"; retired the older marker {retired}"
        rejection = None
        if rejected:  # still a failure of this upload: a Batch re-run must not hide it
            reason = (state.source(state.newest_marker) or {}).get(META_REJECTION, "rejected")
            rejection = f"{reason}: {state.newest_marker}"
        raise RecordSkipped(Status.DUPLICATE, detail, rejection)
    if judged is Verdict.STALE:
        raise RecordSkipped(Status.STALE, "not_current: the outputs record a newer upload")
    # Sequencers order an event only against a marker that has one too; against a marker
    # without (a backfill, a Batch Operations task), or without a sequencer of its own, the
    # event must name the current object. Before any write, every event must.
    newest = state.newest_source
    unordered = not ref.sequencer or bool(newest and not newest.get(META_SEQUENCER))
    if writing or unordered:
        ensure_current(ref, store)


def _finish_retirement(
    ref: S3ObjectRef, store: ObjectStore, bucket: str, state: RecordedState
) -> str | None:
    """A duplicate of the upload the newest marker records finishes what that record may
    have left undone: retiring the other marker (its delete may have failed). Only while
    the key still holds that upload: otherwise a newer upload's event does it."""
    older = state.older_marker
    if older is None or verdict(ref, state.source(older)) is not Verdict.NEEDED:
        return None
    if not_current(ref, store) is not None:
        return None
    store.delete(bucket, older)
    logger.info(
        "Retired an older upload's marker left by a failed delete", extra={"retired": older}
    )
    return older


def skip_if_done(ref: S3ObjectRef, store: ObjectStore, bucket: str, markers: Markers) -> None:
    """Before the work: raise RecordSkipped for a duplicate or stale event."""
    _skip_unless_needed(ref, store, bucket, recorded_state(store, bucket, markers), writing=False)


def write_marker(
    ref: S3ObjectRef,
    store: ObjectStore,
    bucket: str,
    markers: Markers,
    document: Any,
    *,
    error_report: bool = False,
) -> str:
    """Write the record's marker (the result, or the error report), then retire the other.

    Only for the key's current object, and only over the marker state that was judged:
    the write is conditional (If-Match the marker's ETag, or If-None-Match when there was
    none). Another writer in between makes it judge again: a newer upload's marker then
    wins (RecordSkipped), and a lost response to our own write (the retry finds our
    marker) counts as written. Returns the marker's key.
    """
    key, other = (markers.error_report, markers.result) if error_report else markers.both()
    for attempt in range(MARKER_WRITE_ATTEMPTS):
        state = recorded_state(store, bucket, markers)
        if attempt and verdict(ref, state.newest_source) is Verdict.DUPLICATE:
            break  # our write landed (its response was lost), or an identical duplicate's
        _skip_unless_needed(ref, store, bucket, state, writing=True)
        etag = state.etag(key)
        metadata = source_metadata(ref)
        if error_report and isinstance(document, dict) and document.get("reason"):
            metadata[META_REJECTION] = str(document["reason"])
        try:
            store.put_json(bucket, key, document, metadata, if_match=etag, if_none_match=not etag)
            break
        except WriteConflictError:
            logger.info("Another write of the marker came first; checking again")
    else:
        raise WriteConflictError(f"s3://{bucket}/{key} kept changing; Lambda will retry")
    _retire_older(ref, store, bucket, other)
    return key


def _retire_older(ref: S3ObjectRef, store: ObjectStore, bucket: str, key: str) -> None:
    """Delete the other marker if it records another (older) upload than ``ref``.

    The outputs then describe the newest upload only; the bucket is versioned, so the
    retired marker stays recoverable. The HEAD is taken after our own write on purpose: one
    from before could miss a newer upload's marker written meanwhile, and delete it. A
    delete that fails raises: the record fails, and its retry finishes the retirement.
    """
    head = store.head(bucket, key)
    if head is not None and verdict(ref, head.get("Metadata") or {}) is Verdict.NEEDED:
        store.delete(bucket, key)
        logger.info("Retired an older upload's marker", extra={"retired": key})
