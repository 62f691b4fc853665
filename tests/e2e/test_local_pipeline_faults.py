"""Failures end where Lambda would put them: retries, then the on-failure queue.

Two injected faults:
- through the CLI, ``--env-vars`` points ImageProcessorFunction's PROCESSED_BUCKET at a
  bucket that does not exist (a broken deploy): every attempt raises;
- a stand-in function (written here, loaded by the same sandbox code) that sleeps past its
  timeout, and one that fails at import.
"""

from __future__ import annotations

import json
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import pytest

from local_pipeline.cli import main
from local_pipeline.dispatch import AsyncInvoker, FunctionSandbox, sandbox_config
from stack_model.template import FunctionSpec, load_stack
from tests.e2e.inputs import mixed_csv, rotated_jpeg
from tests.emulator import client, drain


def _assert_destination_record(
    record: dict[str, Any], function_name: str, attempts: int, error_type: str
) -> None:
    """The shape of Lambda's OnFailure record for an asynchronous invocation."""
    assert record["version"] == "1.0"
    assert record["timestamp"].endswith("Z")
    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted"
    assert context["approximateInvokeCount"] == attempts
    assert context["functionArn"] == (
        f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}:$LATEST"
    )
    assert context["requestId"]
    assert record["responseContext"] == {
        "statusCode": 200,
        "executedVersion": "$LATEST",
        "functionError": "Unhandled",
    }
    assert record["responsePayload"]["errorType"] == error_type
    assert record["responsePayload"]["errorMessage"]


def test_failing_handler_ends_in_the_failure_queue(
    tmp_path: Path, moto_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "photo.jpg").write_bytes(rotated_jpeg())
    (inputs / "table.csv").write_bytes(mixed_csv(5))
    env_vars = tmp_path / "fault.json"
    env_vars.write_text(json.dumps({"ImageProcessorFunction": {"PROCESSED_BUCKET": "gone"}}))
    report_path = tmp_path / "out" / "report.json"

    status = main(
        [
            "run",
            str(inputs),
            "--out",
            str(tmp_path / "out"),
            "--report",
            str(report_path),
            "--endpoint-url",
            moto_endpoint,
            "--env-vars",
            str(env_vars),
        ]
    )

    assert status == 1
    assert "1 event(s) ended in the on-failure queue" in capsys.readouterr().out
    stack = load_stack()
    image_fn = stack.function("ImageProcessorFunction")
    attempts = 1 + image_fn.max_retry_attempts
    report = json.loads(report_path.read_text())
    assert report["failed"] == 1
    by_key = {entry["key"]: entry for entry in report["inputs"]}
    failed = by_key["images/photo.jpg"]
    assert failed["outcome"] == "failed"
    assert failed["attempts"] == attempts
    assert failed["outputs"] == []
    assert failed["error"]["errorType"] == "RecordsFailedError"
    assert by_key["csv/table.csv"]["outcome"] == "results"  # the other function is unaffected

    sqs = client("sqs", moto_endpoint)
    assert image_fn.on_failure_queue
    queue = sqs.get_queue_url(QueueName=stack.physical_name(image_fn.on_failure_queue))
    (message,) = drain(sqs, queue["QueueUrl"])
    record = json.loads(message["Body"])
    _assert_destination_record(record, image_fn.name, attempts, "RecordsFailedError")
    (s3_record,) = record["requestPayload"]["Records"]  # the S3 event, as S3 sent it
    assert unquote_plus(s3_record["s3"]["object"]["key"]) == "images/photo.jpg"
    csv_queue = sqs.get_queue_url(QueueName=stack.physical_name("CsvSummarizerFailureQueue"))
    assert drain(sqs, csv_queue["QueueUrl"]) == []


STAND_IN_HANDLER = """
import importlib.util, os, sys, time

INVOCATIONS = 0

def lambda_handler(event, context):
    global INVOCATIONS
    INVOCATIONS += 1
    time.sleep(event.get("sleep_s", 0))
    names = ("GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
             "AWS_ENDPOINT_URL", "POWERTOOLS_TRACE_DISABLED", "PROCESSED_BUCKET")
    return {
        "pid": os.getpid(),
        "invocations": INVOCATIONS,
        "sys_path_0": sys.path[0],
        "sees_other_function_code": importlib.util.find_spec("variants") is not None,
        "env": {name: os.environ.get(name) for name in names},
        "remaining_ms": context.get_remaining_time_in_millis(),
        "request_id": context.aws_request_id,
        "memory": context.memory_limit_in_mb,
    }
"""


def _stand_in(code_dir: Path, source: str) -> FunctionSpec:
    code_dir.mkdir()
    (code_dir / "app.py").write_text(textwrap.dedent(source))
    return FunctionSpec(
        logical_id="StandInFunction",
        name="local-stand-in",
        handler="app.lambda_handler",
        code_dir=code_dir,
        layer_dirs=(),
        environment={"GREETING": "hello"},
        memory_mb=256,
        timeout_s=1,
        max_retry_attempts=1,
        max_event_age_s=3600,
        on_failure_queue="StandInFailureQueue",
    )


def test_sandbox_is_warm_isolated_and_killed_on_timeout(tmp_path: Path, moto_endpoint: str) -> None:
    stack = load_stack()
    spec = _stand_in(tmp_path / "stand_in", STAND_IN_HANDLER)
    sandbox = FunctionSandbox(spec, sandbox_config(stack, spec, moto_endpoint, {}))
    sqs = client("sqs", moto_endpoint)
    queue_url = sqs.create_queue(QueueName="stand-in-failures")["QueueUrl"]
    invoker = AsyncInvoker(stack, sandbox, sqs, queue_url)
    try:
        first = sandbox.invoke({}, "req-1")
        assert first.ok, first.payload
        out = first.payload
        assert out["sys_path_0"] == str(spec.code_dir)
        assert out["sees_other_function_code"] is False
        assert out["env"] == {
            "GREETING": "hello",
            "AWS_LAMBDA_FUNCTION_NAME": "local-stand-in",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_ENDPOINT_URL": moto_endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PROCESSED_BUCKET": None,  # the parent's variables do not leak in
        }
        assert 0 < out["remaining_ms"] <= 1000
        assert (out["request_id"], out["memory"]) == ("req-1", 256)

        second = sandbox.invoke({}, "req-2")
        assert (second.payload["pid"], second.payload["invocations"]) == (out["pid"], 2)  # warm

        started = time.monotonic()
        settlement = invoker.invoke({"sleep_s": 5}, enqueued_at=time.time())
        assert time.monotonic() - started < 4  # killed at the 1 s timeout, twice
        assert not settlement.succeeded
        assert settlement.attempts == 2
        assert settlement.response["errorType"] == "Sandbox.Timedout"
        (message,) = drain(sqs, queue_url)
        record = json.loads(message["Body"])
        _assert_destination_record(record, "local-stand-in", 2, "Sandbox.Timedout")
        assert record["requestPayload"] == {"sleep_s": 5}

        after = sandbox.invoke({}, "req-3")  # a fresh sandbox replaced the killed one
        assert after.ok
        assert after.payload["pid"] != out["pid"]
        assert after.payload["invocations"] == 1
    finally:
        sandbox.stop()


def test_init_failure_is_reported_on_the_invocation(tmp_path: Path, moto_endpoint: str) -> None:
    stack = load_stack()
    spec = _stand_in(tmp_path / "broken", "raise RuntimeError('PROCESSED_BUCKET is not set')\n")
    sandbox = FunctionSandbox(spec, sandbox_config(stack, spec, moto_endpoint, {}))
    try:
        result = sandbox.invoke({}, "req-1")
    finally:
        sandbox.stop()
    assert not result.ok
    assert result.init_error
    assert result.payload["errorType"] == "RuntimeError"
    assert "PROCESSED_BUCKET" in result.payload["errorMessage"]
