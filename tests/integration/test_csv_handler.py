"""CsvSummarizerFunction's handler against moto: summaries under summaries/."""

import gzip
import json
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest
from pipeline_runtime.endings import RecordsFailedError

from tests.conftest import LambdaContext, upload
from tests.integration.faults import fail_first_calls

BUCKET = "test-upload-123456789012-us-east-1"
SALES = (
    b"region,units,price,sold_on\n"
    b"north,3,9.5,2026-01-02\n"
    b"south,5,NA,2026-01-03\n"
    b"east,7,11.25,2026-02-01\n"
)


SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "csv_summarizer" / "summary.schema.json").read_text()
)


def _valid(document):
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    return document


@pytest.fixture
def csv_fn(aws, load_function):
    return load_function("CsvSummarizerFunction")


def _json(s3, key):
    obj = s3.get_object(Bucket=BUCKET, Key=key)
    assert obj["ContentType"] == "application/json"
    return json.loads(obj["Body"].read()), obj


def _keys(s3, prefix):
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
    return sorted(o["Key"] for o in listing.get("Contents", []))


def test_summary_is_written_under_summaries(aws, csv_fn):
    event = upload(aws, BUCKET, "csv/2026/sales.csv", SALES, "0001")
    (record,) = csv_fn.invoke(event)["records"]
    assert record == {
        "bucket": BUCKET,
        "key": "csv/2026/sales.csv",
        "status": "results",
        "outputs": ["summaries/2026/sales.csv.json"],
        "detail": None,
    }
    summary, obj = _json(aws, "summaries/2026/sales.csv.json")
    _valid(summary)
    assert summary["rows"] == 3
    assert [c["name"] for c in summary["columns"]] == ["region", "units", "price", "sold_on"]
    units = summary["columns"][1]
    assert (units["type"], units["min"], units["max"], units["count"]) == ("integer", 3, 7, 3)
    price = summary["columns"][2]
    assert price["type"] == "number" and price["nulls"] == 1
    assert summary["source"]["key"] == "csv/2026/sales.csv"
    assert summary["source"]["sequencer"] == "0001"
    assert obj["Metadata"]["source-sequencer"] == "0001"
    assert obj["Metadata"]["source-etag"] == summary["source"]["etag"]


def test_gzipped_csv_is_summarized_beside_never_over_the_plain_one(aws, csv_fn):
    csv_fn.invoke(upload(aws, BUCKET, "csv/sales.csv", SALES, "0001"))
    csv_fn.invoke(upload(aws, BUCKET, "csv/sales.csv.gz", gzip.compress(SALES), "0002"))
    assert _keys(aws, "summaries/") == ["summaries/sales.csv.gz.json", "summaries/sales.csv.json"]
    assert _json(aws, "summaries/sales.csv.gz.json")[0]["rows"] == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not_text"),
    ],
)
def test_bad_input_gets_an_error_report(aws, csv_fn, body, reason):
    event = upload(aws, BUCKET, "csv/bad.csv", body, "0001")
    (record,) = csv_fn.invoke(event)["records"]
    assert record["status"] == "error_report"
    assert record["outputs"] == ["summaries/bad.csv.error.json"]
    report, _ = _json(aws, "summaries/bad.csv.error.json")
    _valid(report)
    assert report["reason"] == reason
    assert report["source"]["key"] == "csv/bad.csv"
    assert _keys(aws, "summaries/") == ["summaries/bad.csv.error.json"]


def test_too_large_is_rejected_before_download(aws, csv_fn, monkeypatch):
    event = upload(aws, BUCKET, "csv/big.csv", SALES, "0001")
    event["Records"][0]["s3"]["object"]["size"] = 10**12
    gets = fail_first_calls(csv_fn.module.store.client, "get_object", 0, monkeypatch)
    (record,) = csv_fn.invoke(event)["records"]
    assert (record["status"], record["detail"]) == ("error_report", "too_large")
    assert gets == []


def test_a_gzip_that_inflates_past_the_limit_gets_an_error_report_at_once(aws, csv_fn, monkeypatch):
    """0.1 MB stored, 40 MB inflated, a 10 MB limit: too_large on the first attempt."""
    bomb = gzip.compress(b"n\n" + b"1\n" * 20_000_000, compresslevel=9)
    assert len(bomb) < 200_000
    module = csv_fn.module
    monkeypatch.setattr(module, "LIMITS", replace(module.LIMITS, max_bytes=10_000_000))
    event = upload(aws, BUCKET, "csv/bomb.csv.gz", bomb, "0001")
    (record,) = csv_fn.invoke(event)["records"]
    assert (record["status"], record["detail"]) == ("error_report", "too_large")
    report, _ = _json(aws, "summaries/bomb.csv.gz.error.json")
    assert report["message"] == "the CSV holds more than 10000000 bytes once decompressed"
    assert _keys(aws, "summaries/") == ["summaries/bomb.csv.gz.error.json"]


def test_the_handler_reads_no_more_than_max_csv_bytes(csv_fn):
    limits, config = csv_fn.module.LIMITS, csv_fn.module.CONFIG
    assert (limits.max_bytes, limits.over_max_bytes) == (config.max_csv_bytes, "reject")


def test_duplicate_event_is_skipped(aws, csv_fn, monkeypatch):
    event = upload(aws, BUCKET, "csv/dup.csv", SALES, "0001")
    csv_fn.invoke(event)
    gets = fail_first_calls(csv_fn.module.store.client, "get_object", 0, monkeypatch)
    (record,) = csv_fn.invoke(event)["records"]
    assert record["status"] == "skipped_duplicate"
    assert gets == []


def test_an_older_event_never_overwrites_a_newer_summary(aws, csv_fn):
    old = upload(aws, BUCKET, "csv/o.csv", SALES, "0001")
    new = upload(aws, BUCKET, "csv/o.csv", SALES + b"west,1,2.0,2026-03-01\n", "0002")
    csv_fn.invoke(new)
    (record,) = csv_fn.invoke(old)["records"]
    assert record["status"] == "skipped_stale"
    assert _json(aws, "summaries/o.csv.json")[0]["rows"] == 4


def test_recursion_guard_never_processes_its_own_outputs(aws, csv_fn, monkeypatch):
    event = upload(aws, BUCKET, "summaries/sales.csv", SALES, "0001")
    gets = fail_first_calls(csv_fn.module.store.client, "get_object", 0, monkeypatch)
    (record,) = csv_fn.invoke(event)["records"]
    assert record["status"] == "ignored"
    assert gets == []
    assert _keys(aws, "summaries/") == ["summaries/sales.csv"]


def test_transient_fault_is_retried(aws, csv_fn, monkeypatch):
    event = upload(aws, BUCKET, "csv/flaky.csv", SALES, "0001")
    gets = fail_first_calls(csv_fn.module.store.client, "get_object", 2, monkeypatch)
    (record,) = csv_fn.invoke(event)["records"]
    assert record["status"] == "results"
    assert len(gets) == 3


def test_persistent_fault_raises_for_lambda_to_retry(aws, csv_fn, monkeypatch):
    event = upload(aws, BUCKET, "csv/down.csv", SALES, "0001")
    fail_first_calls(csv_fn.module.store.client, "put_object", 10**6, monkeypatch)
    with pytest.raises(RecordsFailedError):
        csv_fn.invoke(event)
    assert _keys(aws, "summaries/") == []


def test_key_with_spaces_and_unicode(aws, csv_fn):
    event = upload(aws, BUCKET, "csv/quarterly report 2026 \N{EN DASH} ünïcode.csv", SALES, "0001")
    (record,) = csv_fn.invoke(event)["records"]
    assert record["outputs"] == ["summaries/quarterly report 2026 \N{EN DASH} ünïcode.csv.json"]


def test_an_invalid_upload_after_a_valid_one_retires_the_older_summary(aws, csv_fn):
    csv_fn.invoke(upload(aws, BUCKET, "csv/swap.csv", SALES, "0001"))
    csv_fn.invoke(upload(aws, BUCKET, "csv/swap.csv", b"", "0002"))
    assert _keys(aws, "summaries/") == ["summaries/swap.csv.error.json"]
    csv_fn.invoke(upload(aws, BUCKET, "csv/swap.csv", SALES, "0003"))
    assert _keys(aws, "summaries/") == ["summaries/swap.csv.json"]


def test_a_csv_that_would_outlast_the_timeout_gets_an_error_report_in_time(aws, csv_fn):
    """The summary stops REPORT_MARGIN_S before the timeout, so the report is written now."""
    event = upload(aws, BUCKET, "csv/slow.csv", SALES, "0001")
    assert csv_fn.module.REPORT_MARGIN_S == 15.0
    inside_the_margin = LambdaContext(csv_fn.spec.name, timeout_s=14)
    (record,) = csv_fn.module.lambda_handler(event, inside_the_margin)["records"]
    assert (record["status"], record["detail"]) == ("error_report", "too_slow")
    report, _ = _json(aws, "summaries/slow.csv.error.json")
    _valid(report)
    assert report["message"] == (
        "stopped after 0 rows: the rest would not be summarized within the function's timeout"
    )
    assert _keys(aws, "summaries/") == ["summaries/slow.csv.error.json"]


def test_a_csv_summarized_with_time_to_spare_is_not_stopped(aws, csv_fn):
    event = upload(aws, BUCKET, "csv/quick.csv", SALES, "0001")
    outside_the_margin = LambdaContext(csv_fn.spec.name, timeout_s=16)
    (record,) = csv_fn.module.lambda_handler(event, outside_the_margin)["records"]
    assert record["status"] == "results"
    summary, _ = _json(aws, "summaries/quick.csv.json")
    assert summary["rows"] == 3
