import pytest
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordOutcome,
    RecordsFailed,
    Status,
    error_report,
    process_event,
    reject_if_too_large,
)


def _event(*keys: str) -> dict:
    return {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": k, "sequencer": f"00{i}"}}}
            for i, k in enumerate(keys)
        ]
    }


REF = S3ObjectRef("b", "k", version_id="v2", etag="e2", sequencer="0002")


def test_error_report_shape():
    report = error_report(REF, InputRejected("corrupt", "broken"), "image-processor")
    assert report["reason"] == "corrupt"
    assert report["message"] == "broken"
    assert report["status"] == "rejected"
    assert report["source"]["key"] == "k"
    assert report["source"]["sequencer"] == "0002"
    assert report["function"] == "image-processor"


def test_every_record_ends_somewhere_and_failures_raise_at_the_end():
    seen: list[str] = []
    reports: list[str] = []

    def handle(ref):
        seen.append(ref.key)
        if ref.key == "bad":
            raise InputRejected("corrupt", "not an image")
        if ref.key == "flaky":
            raise ConnectionError("S3 went away")
        return RecordOutcome(Status.RESULTS, [f"out/{ref.key}"])

    def write_report(ref, rejection):
        reports.append(f"{ref.key}:{rejection.reason}")
        return f"err/{ref.key}"

    with pytest.raises(RecordsFailed, match="1 of 4 records failed"):
        process_event(_event("ok", "bad", "flaky", "ok2"), handle, write_report)
    # The failure in the middle did not stop the records after it.
    assert seen == ["ok", "bad", "flaky", "ok2"]
    assert reports == ["bad:corrupt"]


def test_outcomes_are_returned_when_nothing_is_retryable():
    def handle(ref):
        if ref.key == "bad":
            raise InputRejected("unsupported_format", "text")
        return RecordOutcome(Status.DUPLICATE, detail="seen")

    result = process_event(_event("bad", "dup"), handle, lambda ref, rej: "err.json")
    assert [(r["key"], r["status"], r["outputs"]) for r in result["records"]] == [
        ("bad", "error_report", ["err.json"]),
        ("dup", "skipped_duplicate", []),
    ]


def test_a_report_that_cannot_be_written_is_a_failure_not_a_drop():
    def handle(ref):
        raise InputRejected("corrupt", "x")

    def write_report(ref, rejection):
        raise TimeoutError("S3 timeout")

    with pytest.raises(RecordsFailed):
        process_event(_event("bad"), handle, write_report)


def test_test_event_does_nothing():
    result = process_event({"Event": "s3:TestEvent"}, pytest.fail, pytest.fail)
    assert result == {"records": []}


def test_an_object_over_the_limit_is_rejected_as_too_large():
    reject_if_too_large(10, 10)
    reject_if_too_large(None, 10)  # size unknown: the fetch decides
    with pytest.raises(InputRejected) as info:
        reject_if_too_large(11, 10)
    assert (info.value.reason, info.value.message) == (
        "too_large",
        "object is 11 bytes; the limit is 10",
    )
