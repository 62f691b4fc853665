"""How a record ends: the ``Status`` of each record, and the exception that leads to each.

Every S3 event record and every S3 Batch Operations task ends in exactly one ``Status``.
The record loop (``outcomes``) catches what a handler raises and maps it, in this order::

    raised while handling a record             the record ends as        the invocation
    ─────────────────────────────────────────  ───────────────────────   ──────────────
    (nothing: the handler returns)             results                   returns
    RecordSkipped(DUPLICATE)                   skipped_duplicate         returns
    RecordSkipped(STALE)                       skipped_stale             returns
    s3io.ObjectChangedError                    skipped_stale             returns
      (the key holds another object now: not_current)
    s3io.ObjectMissingError                    skipped_stale             returns
      (the version or the key is gone: source_missing)
    InputRejectedError                         error_report              returns
    ├── ImageRejectedError  (the imaging core)
    └── CsvRejectedError    (the CSV core)
          while writing its error report:
          RecordSkipped                        skipped_duplicate/stale   returns
          ErrorReportKeyTooLongError           failed (permanent)        raises
          anything else                        failed                    raises
    OutOfTimeError                             deferred                  raises
      (the records before it used the time)
    botocore ClientError S3 calls invalid      failed (permanent)        raises
      (s3io.is_permanent)
    anything else (S3 still failing after      failed                    raises
      retries, s3io.WriteConflictError, a bug)

Before any of it, a key the function does not process ends ``ignored``, and a key over
S3's 1,024 bytes ``skipped_stale`` (no such object can exist). A record after others is
``deferred`` without starting when less than half of the invocation's time is left.

"raises" means the invocation raises ``RecordsFailedError`` once every record has run, so
that Lambda's async retries and then the on-failure queue take over. An S3 Batch
Operations invocation never raises: each task's ending becomes its result code
(``outcomes.batch_result``). ``RecordSkipped`` is no error (nothing went wrong: the work is
not needed), so its name has no ``Error`` suffix, like Python's ``StopIteration``.
"""

from __future__ import annotations

import enum

from input_rejection import InputRejectedError

__all__ = [
    "ErrorReportKeyTooLongError",
    "InputRejectedError",
    "OutOfTimeError",
    "RecordSkipped",
    "RecordsFailedError",
    "Status",
]


class Status(enum.StrEnum):
    """Where one record ended."""

    RESULTS = "results"
    ERROR_REPORT = "error_report"
    DUPLICATE = "skipped_duplicate"
    STALE = "skipped_stale"  # about an object the key does not hold now: nothing written
    IGNORED = "ignored"
    FAILED = "failed"
    DEFERRED = "deferred"  # not started, or out of time, after other records: retried


class RecordSkipped(Exception):
    """The work is not needed: a duplicate, or an event older than the outputs."""

    def __init__(self, status: Status, detail: str, rejection: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.rejection = rejection  # "reason: error report key" of an upload rejected before


class OutOfTimeError(Exception):
    """A record ran out of the invocation's time that the records before it had used."""


class ErrorReportKeyTooLongError(Exception):
    """The error report itself cannot be stored: its key is too long for S3."""


class RecordsFailedError(RuntimeError):
    """Raised after all records ran, when some failed for reasons a retry may fix."""
