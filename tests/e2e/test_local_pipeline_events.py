"""Events as the runner admits and reports them: one per upload, the first result kept."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from local_pipeline.dispatch import Settlement
from local_pipeline.emulator import PROBE_KEY, admitted, as_s3_sends_it
from local_pipeline.report import Progress, input_reports
from local_pipeline.routing import Upload
from tests.events import s3_event, s3_object, s3_record

BUCKET = "local-upload-123456789012-us-east-1"


def _event(name: str, key: str, etag: str) -> dict[str, Any]:
    return s3_event(s3_record(BUCKET, s3_object(key, encode=False, etag=etag), event_name=name))


def test_motos_put_for_an_upload_in_parts_is_dropped_and_the_completion_kept():
    multipart_etag = "9fec77633238dba044674a8c4f78f333-2"
    assert as_s3_sends_it(_event("ObjectCreated:Put", "csv/a.csv", multipart_etag)) is None
    completed = _event("ObjectCreated:CompleteMultipartUpload", "csv/a.csv", multipart_etag)
    assert as_s3_sends_it(completed) == completed
    single = _event("ObjectCreated:Put", "csv/a.csv", "9fec77633238dba044674a8c4f78f333")
    assert as_s3_sends_it(single) == single


def test_only_the_extra_records_go_from_a_mixed_event():
    event = _event("ObjectCreated:Put", "csv/a.csv", "aa-3")
    event["Records"] += _event("ObjectCreated:Put", "csv/b.csv", "bb")["Records"]
    kept = as_s3_sends_it(event)
    assert [r["s3"]["object"]["key"] for r in kept["Records"]] == ["csv/b.csv"]


def test_probes_and_test_events_are_admitted_as_they_should_be():
    assert admitted({PROBE_KEY: "x"}) is None
    test_event = {"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": BUCKET}
    assert admitted(test_event) == test_event  # settled as Lambda would, then shown


def _settlement(key: str, status: str, outputs: list[str]) -> Settlement:
    return Settlement(
        function="CsvSummarizerFunction",
        request_id="r",
        event=_event("ObjectCreated:Put", key, "e"),
        succeeded=True,
        attempts=1,
        duration_ms=5.0,
        response={"records": [{"key": key, "status": status, "outputs": outputs}]},
    )


def _progress() -> tuple[Progress, list[Upload]]:
    uploads = [Upload(Path("a.csv"), "csv/a.csv", ("CsvSummarizerFunction",))]
    return Progress(uploads, BUCKET, stream=io.StringIO()), uploads


def test_a_later_duplicate_never_masks_the_result_and_is_counted():
    progress, uploads = _progress()
    progress.settle(_settlement("csv/a.csv", "results", ["summaries/a.csv.json"]))
    progress.settle(_settlement("csv/a.csv", "skipped_duplicate", []))
    (report,) = input_reports(uploads, BUCKET, progress, {})
    assert (report.outcome, report.outputs, report.duplicates) == (
        "results",
        ["summaries/a.csv.json"],
        1,
    )


def test_a_result_that_settles_after_its_duplicate_takes_its_place():
    progress, uploads = _progress()
    progress.settle(_settlement("csv/a.csv", "skipped_duplicate", []))
    progress.settle(_settlement("csv/a.csv", "results", ["summaries/a.csv.json"]))
    (report,) = input_reports(uploads, BUCKET, progress, {})
    assert (report.outcome, report.duplicates) == ("results", 1)


def test_an_input_that_never_settled_says_why():
    progress, uploads = _progress()
    (report,) = input_reports(uploads, BUCKET, progress, {}, "interrupted (Ctrl-C)")
    assert (report.outcome, report.error) == ("not_settled", "interrupted (Ctrl-C)")


def test_an_event_the_handlers_cannot_read_is_admitted_as_it_came():
    """Its version cannot be looked up; the handler gets it and says what is wrong."""
    odd = {"Records": [{"s3": {"object": {"key": "csv/a.csv", "eTag": "e"}}}]}
    assert admitted(odd, s3=object()) == odd
