"""The error report of a rejected input: its document, and the one writer of both functions.

A rejected input (``InputRejectedError``, whichever core raised it) gets a JSON error report
where its results would have been. It is the record's *error marker*: written, like the
*result marker*, by the idempotency protocol's conditional write, and it retires an older
upload's result marker, which would otherwise still describe the key.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pipeline_runtime.endings import ErrorReportKeyTooLongError, InputRejectedError
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.idempotency import Markers, write_marker
from pipeline_runtime.outcomes import S3_MAX_KEY_BYTES, key_bytes
from pipeline_runtime.s3io import ObjectStore

ERROR_REPORT_SCHEMA_VERSION = "1.0"


def ensure_report_fits(key: str) -> None:
    """Raise ErrorReportKeyTooLongError if S3 cannot store an error report under ``key``."""
    size = key_bytes(key)
    if size > S3_MAX_KEY_BYTES:
        raise ErrorReportKeyTooLongError(
            f"its key would be {size} bytes, over S3's {S3_MAX_KEY_BYTES}"
        )


def error_report(ref: S3ObjectRef, rejection: InputRejectedError, service: str) -> dict[str, Any]:
    return {
        "schema_version": ERROR_REPORT_SCHEMA_VERSION,
        "status": "rejected",
        "reason": rejection.reason,
        "message": rejection.message,
        "source": ref.as_source(),
        "function": service,
        "rejected_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class ErrorReportWriter:
    """Writes a rejected record's error report; returns its key.

    ``service`` names the function in the report; ``place`` gives a record's output bucket
    and its markers (result and error report).
    """

    store: ObjectStore
    service: str
    place: Callable[[S3ObjectRef], tuple[str, Markers]]

    def __call__(self, ref: S3ObjectRef, rejection: InputRejectedError) -> str:
        bucket, markers = self.place(ref)
        ensure_report_fits(markers.error_report)
        report = error_report(ref, rejection, self.service)
        # Retires an older upload's result marker, which would otherwise still describe the key.
        return write_marker(ref, self.store, bucket, markers, report, error_report=True)
