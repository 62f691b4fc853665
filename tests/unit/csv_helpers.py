"""Shared helpers for the CSV summarizer tests: run the core and validate against the schema."""

from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from summarize import CsvLimits, summarize

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "csv_summarizer" / "summary.schema.json"


@cache
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def run(data: bytes | str, limits: CsvLimits | None = None) -> dict[str, Any]:
    """Summarize bytes through a non-seekable stream; validate; round-trip through JSON."""
    raw = data.encode() if isinstance(data, str) else data
    summary = summarize(NonSeekable(raw), limits or CsvLimits())
    text = json.dumps(summary, allow_nan=False)
    out = json.loads(text)
    validator().validate(out)
    return out


def col(summary: dict[str, Any], name: str) -> dict[str, Any]:
    matches = [c for c in summary["columns"] if c["name"] == name]
    assert len(matches) == 1, f"no single column {name!r}"
    return matches[0]


class NonSeekable(io.RawIOBase):
    """Like botocore's StreamingBody: read(n) only, short reads, no seek/tell."""

    def __init__(self, data: bytes, chunk: int = 7919) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = len(self._data)
        n = min(n, self._chunk)
        out = bytes(self._data[self._pos : self._pos + n])
        self._pos += len(out)
        return out
