"""`python -m local_pipeline invoke FUNCTION -e EVENT` works with every file in events/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_pipeline.cli import main
from local_pipeline.event_objects import named_objects
from stack_model.s3_filters import triggered_functions, upload_bucket
from stack_model.template import load_stack
from tests.emulator import client, running_moto

EVENTS = sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))


def _function_for(event: dict) -> str:
    """The function that the template routes the event's first object to."""
    stack = load_stack()
    objects = named_objects(event)
    if not objects:  # s3:TestEvent names no object: any function must shrug it off
        return "ImageProcessorFunction"
    bucket = upload_bucket(stack).logical_id
    (function,) = triggered_functions(stack.functions(), bucket, objects[0][1])
    return function


def _result_marker(key: str) -> str:
    """The output a successful task names: the image's manifest, or the CSV's summary."""
    if key.startswith("images/"):
        return f"{key.removeprefix('images/')}/manifest.json"
    return f"summaries/{key.removeprefix('csv/')}.json"


def _batch_operations_response(event: dict) -> dict:
    """What S3 Batch Operations must get back: its ids, and each task succeeded."""
    return {
        "invocationSchemaVersion": event["invocationSchemaVersion"],
        "treatMissingKeysAs": "PermanentFailure",
        "invocationId": event["invocationId"],
        "results": [
            {
                "taskId": task["taskId"],
                "resultCode": "Succeeded",
                "resultString": _result_marker(key),
            }
            for task, (_, key) in zip(event["tasks"], named_objects(event), strict=True)
        ],
    }


@pytest.mark.parametrize("event_file", EVENTS, ids=[e.stem for e in EVENTS])
def test_invoke_event_file(event_file: Path, capfd: pytest.CaptureFixture[str]) -> None:
    event = json.loads(event_file.read_text())
    status = main(["invoke", _function_for(event), "-e", str(event_file)])
    captured = capfd.readouterr()
    assert status == 0, captured.err
    response = json.loads(captured.out)  # stdout holds the return value only
    if "invocationSchemaVersion" in event:
        assert response == _batch_operations_response(event)
    else:
        records = response["records"]
        assert [(r["bucket"], r["key"]) for r in records] == named_objects(event)
        assert all(r["status"] == "results" and r["outputs"] for r in records), records
    assert "START RequestId:" in captured.err  # the handler's logs go to stderr
    for _, key in named_objects(event):
        assert (
            f"seeded s3://local-upload-123456789012-us-east-1/{key} from samples/" in captured.err
        )


def test_invoke_unknown_function_lists_the_real_ones(capfd: pytest.CaptureFixture[str]) -> None:
    assert main(["invoke", "NoSuchFunction", "-e", str(EVENTS[0])]) == 2
    assert "ImageProcessorFunction" in capfd.readouterr().out


@pytest.mark.parametrize(
    "event",
    [
        {"invocationSchemaVersion": "2.0", "tasks": []},
        {"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"}, "tasks": {}},
        {"invocationSchemaVersion": "1.0", "invocationId": "i", "tasks": [{"taskId": "t"}]},
        {"Records": [{"s3": {}}]},
    ],
    ids=["no-tasks-no-id", "tasks-not-a-list", "task-without-key", "record-without-bucket"],
)
def test_invoke_hands_any_json_object_to_the_handler(
    event: dict, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """As sam local invoke does: the handler answers a malformed event, not the runner."""
    (tmp_path / "event.json").write_text(json.dumps(event))
    status = main(["invoke", "ImageProcessorFunction", "-e", str(tmp_path / "event.json")])
    captured = capfd.readouterr()
    assert "error: event file" not in captured.err
    assert "START RequestId:" in captured.err and "REPORT RequestId:" in captured.err
    answer = json.loads(captured.out)  # the handler's return value, or its error
    if status == 0:  # a Batch response that answers for the invocation
        assert answer["invocationSchemaVersion"] == event["invocationSchemaVersion"]
    else:
        assert status == 1
        assert answer["errorType"] and answer["errorMessage"], answer


IMAGE_EVENT = Path(__file__).resolve().parents[2] / "events" / "image_put.json"


def _emulator_with_buckets(url: str) -> Any:
    """The user's own emulator: the stack's buckets, versioned, and no object in them."""
    s3 = client("s3", url)
    for bucket in load_stack().buckets():
        s3.create_bucket(Bucket=bucket.name)
        s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})
    return s3


def _objects(s3: Any) -> list[str]:
    return [
        f"{bucket['Name']}/{obj['Key']}"
        for bucket in s3.list_buckets()["Buckets"]
        for obj in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
    ]


def test_invoke_at_a_given_endpoint_seeds_nothing_a_missing_object_is_source_missing(
    capfd: pytest.CaptureFixture[str],
) -> None:
    with running_moto() as url:
        s3 = _emulator_with_buckets(url)
        argv = ["invoke", "ImageProcessorFunction", "-e", str(IMAGE_EVENT), "--endpoint-url", url]
        assert main(argv) == 0
        captured = capfd.readouterr()
        (record,) = json.loads(captured.out)["records"]
        assert record["status"] == "skipped_stale"
        assert record["detail"].startswith("source_missing: ")
        assert "seeded" not in captured.err
        assert _objects(s3) == []  # nothing written into the user's buckets


def test_invoke_at_a_given_endpoint_seeds_when_asked(capfd: pytest.CaptureFixture[str]) -> None:
    with running_moto() as url:
        s3 = _emulator_with_buckets(url)
        argv = ["invoke", "ImageProcessorFunction", "-e", str(IMAGE_EVENT), "--endpoint-url", url]
        assert main([*argv, "--seed-missing"]) == 0
        captured = capfd.readouterr()
        (record,) = json.loads(captured.out)["records"]
        assert record["status"] == "results"
        upload = upload_bucket(load_stack()).name
        assert f"seeded s3://{upload}/images/photo-rotated.jpg from samples/" in captured.err
        seeded = s3.get_object(Bucket=upload, Key="images/photo-rotated.jpg")["Body"].read()
        samples = Path(__file__).resolve().parents[2] / "samples"
        assert seeded == next(samples.rglob("photo-rotated.jpg")).read_bytes()
