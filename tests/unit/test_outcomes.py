from dataclasses import replace

import pytest
from pipeline_runtime.endings import InputRejectedError, RecordsFailedError, RecordSkipped, Status
from pipeline_runtime.error_reports import error_report
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.outcomes import RecordOutcome, process_event, reject_if_too_large
from pipeline_runtime.s3io import ObjectMissingError

from tests.events import s3_event, s3_object, s3_record


def _event(*keys: str) -> dict:
    return s3_event(
        *(
            s3_record("b", s3_object(k, encode=False, sequencer=f"00{i}"))
            for i, k in enumerate(keys)
        )
    )


def _run(event: dict, handle, write_report) -> dict:
    """process_event with no key ignored and no Batch identity lookup expected."""
    return process_event(
        event,
        handle,
        write_report,
        ignore=lambda ref: None,
        fill_from_head=pytest.fail,
        time_left=lambda: 60.0,
    )


REF = S3ObjectRef("b", "k", version_id="v2", etag="e2", sequencer="0002")


def test_error_report_shape():
    report = error_report(REF, InputRejectedError("corrupt", "broken"), "image-processor")
    assert report["reason"] == "corrupt"
    assert report["message"] == "broken"
    assert report["status"] == "rejected"
    assert report["source"]["key"] == "k"
    assert report["source"]["sequencer"] == "0002"
    assert report["function"] == "image-processor"


def test_every_record_ends_somewhere_and_failures_raise_at_the_end():
    seen: list[str] = []
    reports: list[str] = []

    def handle(ref, clock):
        seen.append(ref.key)
        if ref.key == "bad":
            raise InputRejectedError("corrupt", "not an image")
        if ref.key == "flaky":
            raise ConnectionError("S3 went away")
        return RecordOutcome(Status.RESULTS, [f"out/{ref.key}"])

    def write_report(ref, rejection):
        reports.append(f"{ref.key}:{rejection.reason}")
        return f"err/{ref.key}"

    with pytest.raises(RecordsFailedError, match="1 of 4 records failed"):
        _run(_event("ok", "bad", "flaky", "ok2"), handle, write_report)
    # The failure in the middle did not stop the records after it.
    assert seen == ["ok", "bad", "flaky", "ok2"]
    assert reports == ["bad:corrupt"]


def test_outcomes_are_returned_when_nothing_is_retryable():
    def handle(ref, clock):
        if ref.key == "bad":
            raise InputRejectedError("unsupported_format", "text")
        return RecordOutcome(Status.DUPLICATE, detail="seen")

    result = _run(_event("bad", "dup"), handle, lambda ref, rej: "err.json")
    assert [(r["key"], r["status"], r["outputs"]) for r in result["records"]] == [
        ("bad", "error_report", ["err.json"]),
        ("dup", "skipped_duplicate", []),
    ]


def test_a_report_that_cannot_be_written_is_a_failure_not_a_drop():
    def handle(ref, clock):
        raise InputRejectedError("corrupt", "x")

    def write_report(ref, rejection):
        raise TimeoutError("S3 timeout")

    with pytest.raises(RecordsFailedError):
        _run(_event("bad"), handle, write_report)


def test_test_event_does_nothing():
    result = _run({"Event": "s3:TestEvent"}, pytest.fail, pytest.fail)
    assert result == {"records": []}


def test_an_object_over_the_limit_is_rejected_as_too_large():
    reject_if_too_large(10, 10)
    reject_if_too_large(None, 10)  # size unknown: the fetch decides
    with pytest.raises(InputRejectedError) as info:
        reject_if_too_large(11, 10)
    assert (info.value.reason, info.value.message) == (
        "too_large",
        "object is 11 bytes; the limit is 10",
    )
    with pytest.raises(InputRejectedError) as named:
        reject_if_too_large(11, 10, "MaxImageBytes")
    assert named.value.message == (
        "the object is 11 bytes, over the limit of 10 bytes; the stack parameter "
        "MaxImageBytes raises it"
    )


def _batch(*keys: str) -> dict:
    tasks = [
        {"taskId": f"t{i}", "s3Key": k, "s3VersionId": None, "s3Bucket": "b"}
        for i, k in enumerate(keys)
    ]
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": "inv-1",
        "job": {"id": "j"},
        "tasks": tasks,
    }


def test_a_batch_invocation_returns_one_result_per_task_and_never_raises():
    identified: list[str] = []

    def fill_from_head(ref):
        identified.append(ref.key)
        if ref.key == "gone":
            raise ObjectMissingError("s3://b/gone does not exist")
        return replace(ref, etag="e", size=1, version_id="v")

    def handle(ref, clock):
        assert (ref.etag, ref.size, ref.version_id) == ("e", 1, "v")
        if ref.key == "flaky":
            raise ConnectionError("S3 went away")
        if ref.key == "dup":
            raise RecordSkipped(Status.DUPLICATE, "seen")
        return RecordOutcome(Status.RESULTS, ["out/a.jpg", f"out/{ref.key}/manifest.json"])

    result = process_event(
        _batch("ok", "gone", "flaky", "dup", "other"),
        handle,
        lambda ref, rejection: f"err/{ref.key}.json",
        ignore=lambda ref: "not ours" if ref.key == "other" else None,
        fill_from_head=fill_from_head,
        time_left=lambda: 60.0,
    )
    assert result == {
        "invocationSchemaVersion": "2.0",
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": "inv-1",
        "results": [
            {"taskId": "t0", "resultCode": "Succeeded", "resultString": "out/ok/manifest.json"},
            {
                "taskId": "t1",
                "resultCode": "PermanentFailure",
                "resultString": "source_missing: s3://b/gone does not exist; nothing was written",
            },
            {
                "taskId": "t2",
                "resultCode": "TemporaryFailure",
                "resultString": "failed: ConnectionError('S3 went away')",
            },
            {"taskId": "t3", "resultCode": "Succeeded", "resultString": "skipped_duplicate: seen"},
            {"taskId": "t4", "resultCode": "PermanentFailure", "resultString": "ignored: not ours"},
        ],
    }
    assert identified == ["ok", "gone", "flaky", "dup"]  # never for a key it ignores


def test_records_of_other_shapes_are_never_identified():
    def handle(ref, clock):
        return RecordOutcome(Status.RESULTS, ["out"])

    assert _run(_event("a"), handle, pytest.fail)["records"][0]["status"] == "results"


def test_records_after_the_first_start_only_with_half_the_invocation_left():
    left = [100.0]
    ran: list[tuple[str, bool]] = []

    def handle(ref, clock):
        ran.append((ref.key, clock.shared))
        left[0] -= 30  # each record takes 30 s
        return RecordOutcome(Status.RESULTS, [f"out/{ref.key}"])

    result = process_event(
        _batch("a", "b", "c"),
        handle,
        pytest.fail,
        ignore=lambda ref: None,
        fill_from_head=lambda ref: replace(ref, etag="e", size=1),
        time_left=lambda: left[0],
    )
    assert ran == [("a", False), ("b", True)]  # c would start with 40 s of 100 left
    assert [(r["resultCode"], r["resultString"]) for r in result["results"]] == [
        ("Succeeded", "out/a"),
        ("Succeeded", "out/b"),
        (
            "TemporaryFailure",
            "deferred: only 40 s of the invocation's 100 s were left after the records before it",
        ),
    ]
    with pytest.raises(RecordsFailedError, match="1 of 3 records failed"):
        left[0] = 100.0
        ran.clear()
        process_event(
            _event("a", "b", "c"),
            handle,
            pytest.fail,
            ignore=lambda ref: None,
            fill_from_head=pytest.fail,
            time_left=lambda: left[0],
        )
