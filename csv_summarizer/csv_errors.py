"""The one exception the summarizer core raises for input it cannot summarize at all."""

from __future__ import annotations

from input_rejection import InputRejectedError

# Every reason code, with what it means. The error report carries the code; users and
# alarms match on it, so codes are a contract like the summary's field names.
REASONS: dict[str, str] = {
    "empty": "the object has no bytes, or only blank lines",
    "not_text": "the object is binary (a known file signature, NUL or control bytes)",
    "undecodable": "the bytes do not decode in the encoding their BOM declares",
    "too_many_columns": "the header or first record has more columns than allowed",
    "too_large": "the object, stored or decompressed, exceeds the size limit (MaxCsvBytes)",
    "corrupt_gzip": "the object starts like gzip but does not decompress",
    "unparseable": "the first record has no line end within 64 MiB, so it cannot be read",
    "too_slow": "summarizing would not finish within the function's timeout",
}


class CsvRejectedError(InputRejectedError):
    """Input that cannot be summarized at all; ``reason`` is one of ``REASONS``."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason code {reason!r}")
        super().__init__(reason, message)
