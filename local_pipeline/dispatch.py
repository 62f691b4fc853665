"""Lambda's side of the pipeline: warm sandboxes, timeouts, and async invocation.

- ``FunctionSandbox`` keeps one spawned worker per function warm and enforces the
  template's timeout (the worker is killed and a fresh one starts on the next call).
- ``AsyncInvoker`` applies the template's ``EventInvokeConfig``: retries, event age, then
  a destination record in the on-failure queue, shaped like Lambda's.
- ``Dispatcher`` consumes each function's S3 notification queue and settles every event.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_pipeline.worker import Invocation, InvocationResult, SandboxConfig, serve
from stack_model.template import ROOT, FunctionSpec, Stack

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",  # pragma: allowlist secret (moto's fake key)
    "AWS_SESSION_TOKEN": "testing",
}
# Lambda's init phase has its own limit; imports of Pillow and pyarrow on a busy laptop
# can be slow, so it is generous here and never counted against the function's timeout.
INIT_TIMEOUT_S = 60.0
# Lambda waits about 1 and 2 minutes between async retries; locally that would only slow
# the loop down, so the back-off is compressed.
RETRY_DELAY_S = 0.25

# spawn, not fork: each sandbox starts from a clean interpreter with its own sys.path.
_SPAWN = multiprocessing.get_context("spawn")


def function_arn(stack: Stack, spec: FunctionSpec) -> str:
    return f"arn:aws:lambda:{stack.region}:{stack.account}:function:{spec.name}"


def lambda_environment(
    stack: Stack, spec: FunctionSpec, endpoint_url: str, overrides: dict[str, str]
) -> dict[str, str]:
    """The template's variables plus what Lambda itself sets, pointed at the emulator."""
    return {
        **spec.environment,
        **overrides,
        **FAKE_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": stack.region,
        "AWS_DEFAULT_REGION": stack.region,
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": f"local/[$LATEST]{uuid.uuid4().hex}",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        "TZ": ":UTC",
        "POWERTOOLS_TRACE_DISABLED": "true",  # there is no X-Ray daemon locally
    }


class SandboxClosed(RuntimeError):
    """The sandbox was closed (the run is stopping): no invocation starts a process again."""


class FunctionSandbox:
    """One warm execution environment for one function, reused across invocations."""

    def __init__(self, spec: FunctionSpec, config: SandboxConfig) -> None:
        self.spec = spec
        self.config = config
        self._process: Any = None
        self._conn: Any = None
        self._ready = False
        self._closed = False
        # The process is started, stopped and closed by the dispatcher thread that invokes
        # it and by the main thread that stops the run: one at a time.
        self._lifecycle = threading.RLock()

    def start(self) -> None:
        """Start the process now, so its imports overlap with other work."""
        parent_conn, child_conn = _SPAWN.Pipe()
        self._process = _SPAWN.Process(
            target=serve, args=(self.config, child_conn), name=self.spec.logical_id, daemon=True
        )
        self._process.start()
        child_conn.close()
        self._conn = parent_conn
        self._ready = False

    def _init_error(self, request_id: str) -> InvocationResult | None:
        """Wait for the handler to load; its init error if it did not."""
        if self._ready:
            return None
        failure: InvocationResult | None
        try:
            if not self._conn.poll(INIT_TIMEOUT_S):
                raise TimeoutError(f"init took longer than {INIT_TIMEOUT_S:.0f} s")
            failure = self._conn.recv()
        except (EOFError, TimeoutError) as exc:
            message = str(exc) or "Runtime exited during init"
            payload = {"errorMessage": message, "errorType": "Runtime.InitError"}
            failure = InvocationResult(request_id, False, payload, 0.0, init_error=True)
        self._ready = failure is None
        return failure

    def invoke(self, event: Any, request_id: str) -> InvocationResult:
        with self._lifecycle:
            if self._closed:
                raise SandboxClosed(f"the sandbox of {self.spec.logical_id} is closed")
            if self._process is None or (not self._process.is_alive() and self._ready):
                self.stop()
                self.start()
        failure = self._init_error(request_id)
        if failure is not None:
            self.stop(kill=True)  # the next invocation starts a new sandbox, as Lambda does
            return InvocationResult(request_id, False, failure.payload, 0.0, init_error=True)
        timeout_s = self.spec.timeout_s
        started = time.perf_counter()
        self._conn.send(Invocation(request_id, event, time.time() + timeout_s))
        try:
            if self._conn.poll(timeout_s):
                result: InvocationResult = self._conn.recv()
                return result
            message = f"Task timed out after {timeout_s:.2f} seconds"
            error_type = "Sandbox.Timedout"
        except EOFError:
            message = "Runtime exited without providing a reason"
            error_type = "Runtime.ExitError"
        self.stop(kill=True)  # a timed-out or crashed sandbox is discarded; the next starts anew
        elapsed_ms = (time.perf_counter() - started) * 1000
        payload = {"errorMessage": message, "errorType": error_type, "requestId": request_id}
        return InvocationResult(request_id, False, payload, elapsed_ms)

    def stop(self, kill: bool = False) -> None:
        with self._lifecycle:
            if self._process is None:
                return
            if self._process.is_alive() and not kill:
                with contextlib.suppress(OSError):  # it may be exiting already
                    self._conn.send(None)
                self._process.join(2)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._conn.close()
            self._process = None

    def close(self) -> None:
        """Kill the process now, whatever it runs, and start none again (Ctrl-C, SIGTERM):
        an invocation under way is abandoned, as the run that waited for it has ended."""
        with self._lifecycle:
            self._closed = True
            self.stop(kill=True)


@dataclass
class Settlement:
    """Where one S3 event ended: the handler's response, or the on-failure queue."""

    function: str
    request_id: str
    event: Any
    succeeded: bool
    attempts: int
    duration_ms: float  # the handler's own time, last attempt
    response: Any  # the return value, or the error payload
    condition: str | None = None  # RetriesExhausted / EventAgeExceeded when failed


class AsyncInvoker:
    """Lambda's asynchronous invocation of one function, as its EventInvokeConfig says."""

    def __init__(
        self, stack: Stack, sandbox: FunctionSandbox, sqs: Any, failure_queue_url: str | None
    ) -> None:
        self.spec = sandbox.spec
        self.arn = function_arn(stack, self.spec)
        self.sandbox = sandbox
        self.sqs = sqs
        self.failure_queue_url = failure_queue_url

    def invoke(self, event: Any, enqueued_at: float) -> Settlement:
        request_id = str(uuid.uuid4())  # one id for all retries of an async event
        result: InvocationResult | None = None
        attempts = 0
        condition = "RetriesExhausted"
        for attempt in range(1 + self.spec.max_retry_attempts):
            if time.time() - enqueued_at > self.spec.max_event_age_s:
                condition = "EventAgeExceeded"
                break
            if attempt:
                time.sleep(RETRY_DELAY_S * 2 ** (attempt - 1))
            result = self.sandbox.invoke(event, request_id)
            attempts += 1
            if result.ok:
                break
        succeeded = result is not None and result.ok
        response = result.payload if result else None
        if not succeeded and self.failure_queue_url:
            record = destination_record(self.arn, request_id, event, attempts, response, condition)
            self.sqs.send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(record))
        return Settlement(
            function=self.spec.logical_id,
            request_id=request_id,
            event=event,
            succeeded=succeeded,
            attempts=attempts,
            duration_ms=result.duration_ms if result else 0.0,
            response=response,
            condition=None if succeeded else condition,
        )


def destination_record(
    function_arn: str,
    request_id: str,
    event: Any,
    attempts: int,
    error: dict[str, Any] | None,
    condition: str,
) -> dict[str, Any]:
    """The record Lambda sends to an OnFailure destination of an async invocation."""
    now = datetime.now(UTC)
    return {
        "version": "1.0",
        "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn}:$LATEST",
            "condition": condition,
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }


class Dispatcher:
    """Delivers each function's S3 notifications to it, one event at a time, until stopped."""

    def __init__(
        self,
        invokers: dict[str, AsyncInvoker],
        event_queues: dict[str, str],
        sqs: Any,
        on_settled: Callable[[Settlement], None],
        admit: Callable[[Any], Any | None],
    ) -> None:
        self.admit = admit  # the event as Lambda would get it, or None to drop it
        self.invokers = invokers
        self.event_queues = event_queues
        self.sqs = sqs
        self.on_settled = on_settled
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Dispatcher:
        for invoker in self.invokers.values():
            invoker.sandbox.start()
        for logical_id, invoker in self.invokers.items():
            thread = threading.Thread(
                target=self._consume,
                args=(invoker, self.event_queues[logical_id]),
                name=f"dispatch-{logical_id}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self._stop.set()
        if exc_type is not None:  # Ctrl-C, SIGTERM or an error: nothing more is waited for
            for invoker in self.invokers.values():
                invoker.sandbox.close()
        for thread in self._threads:
            thread.join(timeout=3)  # one busy with a long invocation is abandoned
        for invoker in self.invokers.values():
            invoker.sandbox.stop()

    def _consume(self, invoker: AsyncInvoker, queue_url: str) -> None:
        while not self._stop.is_set():
            try:
                self._consume_one(invoker, queue_url)
            except Exception:  # keep consuming: one bad message must not stall the others
                if self._stop.is_set():  # a sandbox stopped under an abandoned invocation
                    return
                traceback.print_exc()
                self._stop.wait(1)

    def _consume_one(self, invoker: AsyncInvoker, queue_url: str) -> None:
        response = self.sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=1,
            WaitTimeSeconds=1,  # long poll, short enough to notice a stop
            MessageSystemAttributeNames=["SentTimestamp"],
        )
        for message in response.get("Messages", []):
            event = self.admit(json.loads(message["Body"]))
            settlement = None
            if event is not None:
                enqueued_at = int(message["Attributes"]["SentTimestamp"]) / 1000
                settlement = invoker.invoke(event, enqueued_at)
            self.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            if settlement is not None:
                self.on_settled(settlement)


def env_overrides(env_vars: dict[str, Any], logical_id: str) -> dict[str, str]:
    """One function's variables from ``--env-vars``: ``Parameters`` first, then its own."""
    merged = {**env_vars.get("Parameters", {}), **env_vars.get(logical_id, {})}
    return {name: str(value) for name, value in merged.items()}


def sandbox_config(
    stack: Stack,
    spec: FunctionSpec,
    endpoint_url: str,
    env_overrides: dict[str, str],
    log_file: Path | None = None,
    logs_to_stderr: bool = False,
) -> SandboxConfig:
    return SandboxConfig(
        function_name=spec.name,
        handler=spec.handler,
        import_roots=tuple(str(root) for root in spec.import_roots),
        project_root=str(ROOT),
        environment=lambda_environment(stack, spec, endpoint_url, env_overrides),
        memory_mb=spec.memory_mb,
        invoked_function_arn=function_arn(stack, spec),
        log_file=str(log_file) if log_file else None,
        logs_to_stderr=logs_to_stderr,
    )
