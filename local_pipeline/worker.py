"""The inside of one function's sandbox: a spawned process that loads the handler once and
serves invocations over a pipe, the way a warm Lambda execution environment does.

This module runs in the child process, so it imports nothing heavy and no project code:
the handler is imported by name (``app``) from the function's own ``sys.path``, exactly
as Lambda imports it from /var/task and /opt/python.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

# Kept from the parent's environment; everything else comes from the template.
_INHERITED_VARIABLES = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


@dataclass(frozen=True)
class SandboxConfig:
    """What a sandbox needs to know, in plain picklable values."""

    function_name: str
    handler: str  # "module.function", as in the template
    import_roots: tuple[str, ...]  # CodeUri, then the layers' folders
    project_root: str  # other project folders are removed from sys.path
    environment: dict[str, str]
    memory_mb: int
    invoked_function_arn: str
    log_file: str | None = None  # None: inherit the parent's stdout
    logs_to_stderr: bool = False


@dataclass(frozen=True)
class Invocation:
    request_id: str
    event: Any
    deadline: float  # time.time() when the function times out


@dataclass(frozen=True)
class InvocationResult:
    request_id: str
    ok: bool
    payload: Any  # the handler's return value, or Lambda's error payload
    duration_ms: float
    init_error: bool = False


@dataclass
class LambdaContext:
    """The attributes of Lambda's Python context object that handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float
    function_version: str = "$LATEST"
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.time()) * 1000))


def error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """What Lambda's Python runtime reports for an unhandled exception."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        # From the handler down: the sandbox's own frame is not the function's business.
        "stackTrace": traceback.format_tb(exc.__traceback__.tb_next if exc.__traceback__ else None),
    }


def _enter_sandbox(config: SandboxConfig) -> None:
    # Ctrl-C reaches the whole process group: the parent decides when sandboxes stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if config.log_file:
        log = os.open(config.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
    elif config.logs_to_stderr:
        os.dup2(2, 1)  # `invoke` keeps stdout for the return value, as sam local invoke does
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    inherited = {k: os.environ[k] for k in _INHERITED_VARIABLES if k in os.environ}
    os.environ.clear()
    os.environ.update({**inherited, **config.environment})
    # Only this function's code and layers: no other project folder (a venv inside the
    # project is the interpreter's own, so it stays).
    sys.path[:] = [*config.import_roots, *(p for p in sys.path if _not_project_code(p, config))]


def _not_project_code(path: str, config: SandboxConfig) -> bool:
    if not path:
        return False
    absolute = Path(path).resolve()
    return not absolute.is_relative_to(config.project_root) or absolute.is_relative_to(
        Path(sys.prefix).resolve()
    )


def _load_handler(handler: str) -> Callable[[Any, Any], Any]:
    module_name, function_name = handler.rsplit(".", 1)
    function: Callable[[Any, Any], Any] = getattr(
        importlib.import_module(module_name), function_name
    )
    return function


def _init_error(exc: BaseException) -> dict[str, Any]:
    payload = error_payload(exc, "")
    if isinstance(exc, ImportError):
        payload["errorType"] = "Runtime.ImportModuleError"
    return payload


def serve(config: SandboxConfig, conn: Connection) -> None:
    """Process entry point: init once, then answer invocations until told to stop."""
    _enter_sandbox(config)
    try:
        handler = _load_handler(config.handler)
    except Exception as exc:  # Lambda reports an init failure on the invocation, then resets
        print(json.dumps({"level": "ERROR", "message": "Init failed", **_init_error(exc)}))
        conn.send(InvocationResult("", False, _init_error(exc), 0.0, init_error=True))
        return
    conn.send(None)  # ready
    while True:
        try:
            invocation = conn.recv()
        except EOFError:
            return
        if invocation is None:
            return
        conn.send(_invoke(handler, invocation, config))


def _invoke(
    handler: Callable[[Any, Any], Any], invocation: Invocation, config: SandboxConfig
) -> InvocationResult:
    request_id = invocation.request_id
    env = config.environment
    context = LambdaContext(
        function_name=config.function_name,
        memory_limit_in_mb=config.memory_mb,
        invoked_function_arn=config.invoked_function_arn,
        aws_request_id=request_id,
        log_group_name=env.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        log_stream_name=env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        deadline=invocation.deadline,
    )
    print(f"START RequestId: {request_id} Version: $LATEST")
    _reset_peak_memory()
    started = time.perf_counter()
    try:
        # Lambda serialises the return value; a value that cannot be is an error too.
        payload = json.loads(json.dumps(handler(invocation.event, context)))
        ok = True
    except Exception as exc:
        payload = error_payload(exc, request_id)
        print(json.dumps({"level": "ERROR", **payload}))
        ok = False
    duration_ms = (time.perf_counter() - started) * 1000
    print(
        f"REPORT RequestId: {request_id} Duration: {duration_ms:.2f} ms "
        f"Memory Size: {config.memory_mb} MB Max Memory Used: {peak_memory_mb()} MB"
    )
    return InvocationResult(request_id, ok, payload, duration_ms)


# Max Memory Used: the worker's peak during this invocation, counting what was already
# resident when it began (the runtime, the imports, what earlier invocations kept), so that
# each REPORT line tells what its input cost. (Lambda's figure for a warm sandbox may keep
# an earlier invocation's peak; AWS does not say.) Not ru_maxrss: Linux carries the
# spawning parent's peak across exec, so a worker spawned by a 600 MB runner reported
# 600 MB for a 74-byte PNG.
def _reset_peak_memory() -> None:
    """Start this invocation's peak at the memory resident now. Where Linux's
    /proc/self/clear_refs is not there, the figure is the process's peak so far."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")  # resets VmHWM to the current resident set (Linux 4.0+)
    except OSError:
        pass


def peak_memory_mb() -> int:
    """The process's peak resident set: VmHWM, which starts anew at exec and at a reset;
    elsewhere ru_maxrss (kilobytes on Linux, bytes on macOS)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return max_rss // (1024 * 1024) if sys.platform == "darwin" else max_rss // 1024
