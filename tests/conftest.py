"""Shared fixtures: fake AWS credentials, moto, the stack read from template.yaml, and
handlers loaded the way Lambda loads them (by the template's Handler and CodeUri)."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

from stack_model.template import FunctionSpec, Stack, load_stack
from tests.events import s3_put_event

EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"

# Powertools reads these when pipeline_runtime.observability is first imported, which in a
# test session happens once for both functions (on Lambda each has its own process).
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "S3EventPipeline/tests")
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "pipeline-tests")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")


@pytest.fixture(autouse=True)
def _isolated_aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test may reach a real AWS account, whatever the developer's shell holds."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_DEV", "false")


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """A moto server on loopback that the test owns, to inspect its state afterwards."""
    from tests.emulator import running_moto

    with running_moto() as endpoint:
        yield endpoint


@pytest.fixture
def stack() -> Stack:
    return load_stack(stack_name="test")


@dataclass
class LambdaContext:
    """The one fake Lambda context: the attributes Powertools reads, and the remaining time
    the handlers read (the whole timeout, unless a test sets ``remaining_s``)."""

    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = "11111111-2222-3333-4444-555555555555"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test"
    timeout_s: int = 60
    remaining_s: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        if self.remaining_s is None:
            return self.timeout_s * 1000
        return int(self.remaining_s * 1000)


@dataclass
class LoadedFunction:
    spec: FunctionSpec
    module: ModuleType

    def invoke(self, event: dict[str, Any]) -> Any:
        context = LambdaContext(self.spec.name, self.spec.memory_mb, timeout_s=self.spec.timeout_s)
        return self.module.lambda_handler(event, context)


@pytest.fixture
def aws(stack: Stack) -> Iterator[Any]:
    """moto in-process, with the template's buckets created as configured."""
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        for bucket in stack.buckets():
            s3.create_bucket(Bucket=bucket.name)
            if bucket.versioned:
                s3.put_bucket_versioning(
                    Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"}
                )
        yield s3


@pytest.fixture
def load_function(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], LoadedFunction]:
    """Load a function's handler module as Lambda would, with the template's environment.

    Its S3 retries keep their bounded attempts but wait only milliseconds.
    """

    def load(logical_id: str) -> LoadedFunction:
        spec = stack.function(logical_id)
        for name, value in spec.environment.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", spec.name)
        for root in reversed(spec.import_roots):
            monkeypatch.syspath_prepend(str(root))
        module_file, handler_name = spec.handler.rsplit(".", 1)
        module_name = f"_handler_{logical_id}"
        path = spec.code_dir / f"{module_file}.py"
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        assert module_spec and module_spec.loader
        module = importlib.util.module_from_spec(module_spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        module_spec.loader.exec_module(module)
        assert callable(getattr(module, handler_name))
        # Same attempts as production, without the seconds of backoff between them.
        # (Imported here: pipeline_runtime must load after the Powertools variables above.)
        from pipeline_runtime.s3io import RetryPolicy

        module.store.policy = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.002)
        return LoadedFunction(spec, module)

    return load


def upload(s3: Any, bucket: str, key: str, body: bytes, sequencer: str) -> dict[str, Any]:
    """Put an object and return the event S3 would emit for it."""
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    head = s3.head_object(Bucket=bucket, Key=key)
    return s3_put_event(bucket, key, head, sequencer)
