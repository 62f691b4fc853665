"""The public API the handler relies on: keys, limits, error reports, the schema file."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from csv_errors import REASONS
from csv_helpers import run, validator
from summarize import (
    SCHEMA_VERSION,
    CsvLimits,
    CsvRejectedError,
    error_report_key,
    summarize,
    summary_key,
)


@pytest.mark.parametrize(
    ("key", "summary", "error"),
    [
        (
            "csv/2026/sales.csv",
            "summaries/2026/sales.csv.json",
            "summaries/2026/sales.csv.error.json",
        ),
        ("csv/x.csv.gz", "summaries/x.csv.gz.json", "summaries/x.csv.gz.error.json"),
        ("csv/a b/ünï.csv", "summaries/a b/ünï.csv.json", "summaries/a b/ünï.csv.error.json"),
    ],
)
def test_keys_keep_the_whole_source_key(key, summary, error):
    assert summary_key(key) == summary
    assert error_report_key(key) == error


def test_csv_and_csv_gz_never_collide():
    assert summary_key("csv/s.csv") != summary_key("csv/s.csv.gz")


def test_keys_follow_the_configured_prefixes():
    assert summary_key("in/a.csv", "in/", "out/") == "out/a.csv.json"
    assert error_report_key("in/a.csv", "in/", "out/") == "out/a.csv.error.json"


def test_key_without_a_name_is_refused():
    with pytest.raises(ValueError):
        summary_key("csv/")


def test_limits_are_frozen_and_reported():
    limits = CsvLimits(max_field_bytes=2048, distinct_cap=500, max_examples=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_examples = 4  # type: ignore[misc]
    s = run("a\n1\n", limits)
    assert s["schema_version"] == SCHEMA_VERSION
    assert s["limits"]["max_field_bytes"] == 2048
    assert s["limits"]["distinct_cap"] == 500
    assert s["limits"]["max_examples"] == 3


def test_the_handlers_error_report_is_valid_against_the_schema():
    from pipeline_runtime.endings import InputRejectedError
    from pipeline_runtime.error_reports import error_report as runtime_error_report
    from pipeline_runtime.events import S3ObjectRef

    ref = S3ObjectRef("b", "csv/x.csv", etag="e", sequencer="0A", size=3)
    report = runtime_error_report(ref, InputRejectedError("not_text", "binary"), "csv-summarizer")
    validator().validate(report)
    assert report["reason"] == "not_text" and report["status"] == "rejected"


def test_every_reason_code_is_in_the_schema():
    schema = validator().schema
    enum = set(schema["$defs"]["error_report"]["properties"]["reason"]["enum"])
    # The handler adds the reasons it decides itself (size from the event, output keys).
    assert enum == set(REASONS) | {"too_large", "key_too_long"}


def test_unknown_reason_is_a_programming_error():
    with pytest.raises(ValueError):
        CsvRejectedError("nope", "x")


def test_summary_with_source_validates():
    s = run("a\n1\n")
    s["source"] = {
        "bucket": "b",
        "key": "csv/a.csv",
        "etag": "x",
        "version_id": "v",
        "sequencer": "1",
    }
    validator().validate(s)


def test_the_core_imports_nothing_from_aws_or_the_runtime():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    core, layer = root / "csv_summarizer", root / "layers" / "runtime"  # as on Lambda
    code = (
        f"import sys; sys.path[:0] = [{str(core)!r}, {str(layer)!r}]; import summarize; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('boto3', 'botocore', 'pipeline_runtime', 'aws_lambda_powertools', 'numpy')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


class _FailingBody(io.RawIOBase):
    """A body whose connection drops after some bytes (a transient fault)."""

    def __init__(self, data: bytes, fail_after: int) -> None:
        self._data = data
        self._pos = 0
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self._pos >= self._fail_after:
            raise ConnectionResetError("connection reset by peer")
        n = len(self._data) if n is None or n < 0 else n
        out = self._data[self._pos : self._pos + min(n, 65536)]
        self._pos += len(out)
        return out


def test_a_failing_source_raises_instead_of_summarizing_part():
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(200_000))
    with pytest.raises(ConnectionResetError):
        summarize(_FailingBody(data, 300_000), CsvLimits())


def test_every_reason_code_is_raised_somewhere():
    """A reason nothing raises is a promise the error reports never keep."""
    sources = "".join(
        p.read_text() for p in (Path(__file__).resolve().parents[2] / "csv_summarizer").glob("*.py")
    )
    raised = set(re.findall(r'CsvRejectedError\(\s*"([a-z_]+)"', sources))
    assert raised == set(REASONS)


def test_a_summary_out_of_time_stops_before_the_next_batch():
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(200_000))
    limits = CsvLimits(block_size=1 << 16, max_field_bytes=1 << 10)  # ~6,250 rows a batch
    asked: list[float] = []

    def time_left() -> float:  # asked before each batch: time is up before the third
        asked.append(600.0 if len(asked) < 2 else 0.0)
        return asked[-1]

    with pytest.raises(CsvRejectedError) as e:
        summarize(io.BytesIO(data), limits, time_left)
    assert e.value.reason == "too_slow"
    assert e.value.message == (
        "stopped after 13115 rows: the rest would not be summarized within the function's timeout"
    )
    assert len(asked) == 3


def test_time_to_spare_changes_nothing():
    data = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(200_000))
    limits = CsvLimits(block_size=1 << 16, max_field_bytes=1 << 10)
    timed = summarize(io.BytesIO(data), limits, lambda: 600.0)
    assert timed == summarize(io.BytesIO(data), limits)
    assert timed["rows"] == 200_000
