"""The S3 Batch Operations job shape: events, answers per task, redrives, the report."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from local_pipeline.backfill import run_tasks
from stack_model.batch_operations import (
    MAX_TASK_ATTEMPTS,
    PERMANENT_FAILURE,
    REPORT_SCHEMA,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    Task,
    TaskResult,
    completion_report,
    parse_created_before,
    task_event,
    task_results,
)
from stack_model.s3_filters import FilterReach, filters_reached
from stack_model.template import load_stack

TASKS = [
    Task("t1", "bucket", "images/b c/ünï ké+y.png", "v1"),
    Task("t2", "bucket", "csv/a.csv", None),
]


def test_an_event_is_invocation_schema_2_0_with_url_encoded_keys() -> None:
    event = task_event("job-1", TASKS, {"keyPrefix": ""})
    assert set(event) == {"invocationSchemaVersion", "invocationId", "job", "tasks"}
    assert event["invocationSchemaVersion"] == "2.0"
    assert event["job"] == {"id": "job-1", "userArguments": {"keyPrefix": ""}}
    assert event["tasks"] == [
        {
            "taskId": "t1",
            "s3Key": "images/b+c/%C3%BCn%C3%AF+k%C3%A9%2By.png",
            "s3VersionId": "v1",
            "s3Bucket": "bucket",
        },
        {"taskId": "t2", "s3Key": "csv/a.csv", "s3VersionId": None, "s3Bucket": "bucket"},
    ]


def _answer(*results: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "invocationSchemaVersion": "2.0",
        "invocationId": "i",
        "results": list(results),
        **extra,
    }


def test_each_task_takes_its_own_result_and_a_missing_one_treat_missing_keys_as() -> None:
    event = task_event("job", TASKS)
    answer = _answer(
        {"taskId": "t1", "resultCode": "Succeeded", "resultString": "results: 6 outputs"},
        treatMissingKeysAs="TemporaryFailure",
    )
    assert task_results(event, True, answer) == {
        "t1": TaskResult(SUCCEEDED, "results: 6 outputs"),
        "t2": TaskResult(TEMPORARY_FAILURE, "the function's answer has no result for this task"),
    }


def test_a_function_error_fails_every_task_of_the_event_as_s3_reports_it() -> None:
    error = {"errorMessage": "Task timed out after 3.00 seconds", "errorType": "Sandbox.Timedout"}
    results = task_results(task_event("job", TASKS), False, error)
    expected = TaskResult(
        PERMANENT_FAILURE,
        'Lambda returned function error: {"errorMessage": "Task timed out after 3.00 seconds", '
        '"errorType": "Sandbox.Timedout"}',
    )
    assert results == {"t1": expected, "t2": expected}


@pytest.mark.parametrize("payload", [None, "ok", {"results": "none"}, {"Records": []}])
def test_an_answer_that_is_not_a_batch_response_is_a_permanent_failure(payload: Any) -> None:
    results = task_results(task_event("job", TASKS[:1]), True, payload)
    assert results == {
        "t1": TaskResult(PERMANENT_FAILURE, "Invalid JSON returned in Lambda payload")
    }


def test_an_unknown_result_code_is_a_permanent_failure() -> None:
    answer = _answer({"taskId": "t1", "resultCode": "Done"})
    results = task_results(task_event("job", TASKS[:1]), True, answer)
    assert results == {"t1": TaskResult(PERMANENT_FAILURE, "invalid resultCode 'Done'")}


def test_temporary_failures_are_redriven_alone_and_a_bounded_number_of_times() -> None:
    tasks = [Task(f"t{i}", "b", f"images/{i}.png", None) for i in range(3)]
    sent: list[list[str]] = []

    def invoke(function: str, event: dict[str, Any]) -> tuple[bool, Any]:
        ids = [task["taskId"] for task in event["tasks"]]
        sent.append(ids)
        codes = {"t0": "Succeeded", "t1": "TemporaryFailure", "t2": "TemporaryFailure"}
        if len(sent) > 2:  # t2 recovers on its first redrive
            codes["t2"] = "Succeeded"
        results = [{"taskId": i, "resultCode": codes[i], "resultString": i} for i in ids]
        return True, _answer(*results)

    settled: list[tuple[str, str, int]] = []
    run_tasks(
        "ImageProcessorFunction",
        tasks,
        invoke,
        "job",
        {},
        2,
        lambda fn, task, result, attempts: settled.append((task.task_id, result.code, attempts)),
    )
    assert sent == [["t0", "t1"], ["t2"], ["t1", "t2"], ["t1"]]
    assert MAX_TASK_ATTEMPTS == 3
    assert settled == [("t0", SUCCEEDED, 1), ("t2", SUCCEEDED, 2), ("t1", TEMPORARY_FAILURE, 3)]


def test_the_tasks_of_an_event_that_timed_out_are_sent_again_one_by_one() -> None:
    """Three of four tasks wrote results before the fourth timed out the invocation: the
    report says so, instead of failing all four with the timeout."""
    tasks = [Task(f"t{i}", "b", f"csv/{i}.csv", None) for i in range(4)]
    written: set[str] = set()
    sent: list[list[str]] = []
    timeout = {"errorMessage": "Task timed out after 300.00 seconds"}

    def invoke(function: str, event: dict[str, Any]) -> tuple[bool, Any]:
        ids = [task["taskId"] for task in event["tasks"]]
        sent.append(ids)
        results = []
        for task_id in ids:
            if task_id == "t3":
                return False, timeout
            done = "skipped_duplicate: done" if task_id in written else f"summaries/{task_id}"
            written.add(task_id)
            results.append({"taskId": task_id, "resultCode": "Succeeded", "resultString": done})
        return True, _answer(*results)

    settled: dict[str, TaskResult] = {}
    run_tasks("CsvSummarizerFunction", tasks, invoke, "job", {}, 4, _settle_into(settled))
    assert sent == [["t0", "t1", "t2", "t3"], ["t0"], ["t1"], ["t2"], ["t3"]]
    assert settled == {
        "t0": TaskResult(SUCCEEDED, "skipped_duplicate: done"),
        "t1": TaskResult(SUCCEEDED, "skipped_duplicate: done"),
        "t2": TaskResult(SUCCEEDED, "skipped_duplicate: done"),
        "t3": TaskResult(
            PERMANENT_FAILURE,
            'Lambda returned function error: {"errorMessage": "Task timed out after 300.00 '
            'seconds"}',
        ),
    }


def _settle_into(settled: dict[str, TaskResult]) -> Any:
    return lambda function, task, result, attempts: settled.__setitem__(task.task_id, result)


def test_the_completion_report_has_s3s_layout_rows_and_manifest() -> None:
    created = datetime(2026, 12, 1, 13, 0, 5, 123000, tzinfo=UTC)
    rows = [
        (TASKS[0], TaskResult(SUCCEEDED, "results: 6 outputs")),
        (TASKS[1], TaskResult(PERMANENT_FAILURE, 'error_report: "bad", really')),
    ]
    files = completion_report("0a-job", "bucket", rows, created)
    name = {
        status: hashlib.sha1(f"0a-job/{status}".encode(), usedforsecurity=False).hexdigest()
        for status in ("succeeded", "failed")
    }
    prefix = "batch-operations/reports/job-0a-job"
    succeeded_key = f"{prefix}/results/{name['succeeded']}.csv"
    failed_key = f"{prefix}/results/{name['failed']}.csv"
    assert set(files) == {f"{prefix}/manifest.json", succeeded_key, failed_key}
    assert files[succeeded_key] == (
        b"bucket,images/b+c/%C3%BCn%C3%AF+k%C3%A9%2By.png,v1,succeeded,200,,results: 6 outputs\n"
    )
    assert files[failed_key] == (
        b'bucket,csv/a.csv,,failed,200,PermanentFailure,"error_report: ""bad"", really"\n'
    )
    assert list(csv.reader(io.StringIO(files[failed_key].decode()))) == [
        [
            "bucket",
            "csv/a.csv",
            "",
            "failed",
            "200",
            "PermanentFailure",
            'error_report: "bad", really',
        ]
    ]
    assert json.loads(files[f"{prefix}/manifest.json"]) == {
        "Format": "Report_CSV_20180820",
        "ReportCreationDate": "2026-12-01T13:00:05.123Z",
        "Results": [
            {
                "TaskExecutionStatus": status,
                "Bucket": "bucket",
                "MD5Checksum": hashlib.md5(files[key], usedforsecurity=False).hexdigest(),
                "Key": key,
            }
            for status, key in (("succeeded", succeeded_key), ("failed", failed_key))
        ],
        "ReportSchema": REPORT_SCHEMA,
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-31", datetime(2026, 1, 31, tzinfo=UTC)),
        ("2026-01-31T12:30:00Z", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
        ("2026-01-31T14:30:00+02:00", datetime(2026, 1, 31, 12, 30, tzinfo=UTC)),
    ],
)
def test_created_before_reads_iso_dates_as_utc(text: str, expected: datetime) -> None:
    assert parse_created_before(text) == expected


def test_created_before_refuses_anything_else_in_one_line() -> None:
    with pytest.raises(ValueError) as raised:
        parse_created_before("last tuesday")
    assert str(raised.value) == (
        "--created-before 'last tuesday': not an ISO 8601 date or time "
        "(e.g. 2026-01-31 or 2026-01-31T12:00:00Z)"
    )


@pytest.mark.parametrize(
    ("prefix", "reached"),
    [
        ("images/", [("ImageProcessorFunction", "images/", "")]),
        ("images/2024/", [("ImageProcessorFunction", "images/2024/", "")]),
        ("im", [("ImageProcessorFunction", "images/", "")]),
        (
            "csv/",
            [
                ("CsvSummarizerFunction", "csv/", ".csv"),
                ("CsvSummarizerFunction", "csv/", ".csv.gz"),
            ],
        ),
        (
            "",
            [
                ("ImageProcessorFunction", "images/", ""),
                ("CsvSummarizerFunction", "csv/", ".csv"),
                ("CsvSummarizerFunction", "csv/", ".csv.gz"),
            ],
        ),
    ],
)
def test_a_prefix_reaches_the_template_filters_some_key_under_it_can_match(
    prefix: str, reached: list[tuple[str, str, str]]
) -> None:
    stack = load_stack()
    assert filters_reached(stack.functions(), "UploadBucket", prefix) == [
        FilterReach(*reach) for reach in reached
    ]


@pytest.mark.parametrize("prefix", ["summaries/", "imagesX"])
def test_a_prefix_no_filter_can_match_is_refused_with_the_filters_there_are(prefix: str) -> None:
    stack = load_stack()
    expected = (
        f"--prefix '{prefix}': no S3 event filter of template.yaml matches a key under it "
        "(the functions listen to images/*, csv/*.csv, csv/*.csv.gz)"
    )
    with pytest.raises(ValueError) as refused:
        filters_reached(stack.functions(), "UploadBucket", prefix)
    assert str(refused.value) == expected
