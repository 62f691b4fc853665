import pytest
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.outcomes import (
    InputRejected,
    RecordOutcome,
    RecordsFailed,
    Status,
    classify_against_recorded,
    compare_sequencers,
    error_report,
    process_event,
    source_metadata,
)


def _event(*keys: str) -> dict:
    return {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": k, "sequencer": f"00{i}"}}}
            for i, k in enumerate(keys)
        ]
    }


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("0055AED6DCD90281E5", "0055AED6DCD90281E5", 0),
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5", 1),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6", -1),
        # Different lengths: right-pad with zeros, then compare (AWS's documented rule).
        ("0055AED6DCD90281E5", "0055AED6DCD90281E500", 0),
        ("0055AED6DCD90281E6", "0055AED6DCD90281E5FF", 1),
        ("0055aed6dcd90281e6", "0055AED6DCD90281E5", 1),
    ],
)
def test_compare_sequencers(a, b, expected):
    assert compare_sequencers(a, b) == expected


REF = S3ObjectRef("b", "k", version_id="v2", etag="e2", sequencer="0002")


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [
        (None, None),
        ({}, None),
        ({"source-sequencer": "0002", "source-etag": "e2"}, Status.DUPLICATE),
        ({"source-sequencer": "0003"}, Status.STALE),
        ({"source-sequencer": "0001"}, None),
        ({"source-version-id": "v2"}, Status.DUPLICATE),
        ({"source-version-id": "v1"}, None),
    ],
)
def test_classify_against_recorded(recorded, expected):
    assert classify_against_recorded(REF, recorded) == expected


def test_classify_by_etag_without_sequencer_or_version():
    ref = S3ObjectRef("b", "k", etag="e1")
    assert classify_against_recorded(ref, {"source-etag": "e1"}) is Status.DUPLICATE
    assert classify_against_recorded(ref, {"source-etag": "e0"}) is None


def test_source_metadata_drops_missing_values():
    assert source_metadata(S3ObjectRef("b", "k", etag="e", sequencer="s")) == {
        "source-etag": "e",
        "source-sequencer": "s",
    }


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
