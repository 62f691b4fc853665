"""Delivering hand-made S3 events to the real handlers, in an order the test chooses.

moto's S3 notifications carry no ``versionId`` and no ``sequencer``, and its queue decides
the order. These tests need both under their control, so they upload with boto3, build
each S3 event from the emulator's real version id and ETag (with an increasing synthetic
sequencer, as S3 assigns per key), and hand the events to the same warm sandboxes and
async-invocation logic that ``local_pipeline`` uses (``FunctionSandbox``, ``AsyncInvoker``).
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local_pipeline.dispatch import AsyncInvoker, FunctionSandbox, Settlement, sandbox_config
from local_pipeline.emulator import EmulatedResources
from stack_model.template import Stack
from tests.events import s3_event, s3_object, s3_record

_last_sequencer = 0
_sequencer_lock = threading.Lock()


def next_sequencer() -> str:
    """Increasing, like S3's sequencer for the writes of one key (hex; compared as text)."""
    global _last_sequencer
    with _sequencer_lock:
        _last_sequencer = max(_last_sequencer + 1, time.time_ns())
        return f"{_last_sequencer:018X}"


def upload(s3: Any, bucket: str, key: str, body: bytes, aws_shape: bool = True) -> dict[str, Any]:
    """Put the object and return the S3 event that announces this very write.

    ``aws_shape``: with ``versionId`` and ``sequencer``, as AWS sends it; otherwise with
    the ETag only, as moto's notifications are.
    """
    put = s3.put_object(Bucket=bucket, Key=key, Body=body)
    obj = s3_object(key, size=len(body), etag=put["ETag"].strip('"'))
    if aws_shape:
        obj["versionId"] = put["VersionId"]
        obj["sequencer"] = next_sequencer()
    record = s3_record(
        bucket,
        obj,
        aws=True,
        event_time=datetime.now(UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
        request_id=uuid.uuid4().hex[:16].upper(),
        configuration_id="reliability-test",
        bucket_arn=True,
    )
    return s3_event(record)


def record_status(settlement: Settlement) -> str:
    """The status of the event's single record: results, skipped_duplicate, ... or failed."""
    if not settlement.succeeded:
        return "failed"
    (record,) = settlement.response["records"]
    return str(record["status"])


@contextmanager
def warm_invokers(
    stack: Stack,
    resources: EmulatedResources,
    sqs: Any,
    endpoint_url: str,
    logs_dir: Path,
    concurrency: int = 1,
    env: dict[str, str] | None = None,
) -> Iterator[dict[str, list[AsyncInvoker]]]:
    """``concurrency`` warm sandboxes per function, each behind Lambda's async invocation.

    ``env`` overrides the functions' environment, as ``--env-vars`` does.
    """
    invokers: dict[str, list[AsyncInvoker]] = {}
    for spec in stack.functions():
        for n in range(concurrency):
            log = logs_dir / f"{spec.logical_id}-{n}.log"
            config = sandbox_config(stack, spec, endpoint_url, env or {}, log)
            sandbox = FunctionSandbox(spec, config)
            sandbox.start()
            failure_queue = resources.failure_queues.get(spec.logical_id)
            invokers.setdefault(spec.logical_id, []).append(
                AsyncInvoker(stack, sandbox, sqs, failure_queue)
            )
    try:
        yield invokers
    finally:
        for pool in invokers.values():
            for invoker in pool:
                invoker.sandbox.stop()


def deliver(
    invokers: dict[str, list[AsyncInvoker]], plan: list[tuple[str, dict[str, Any]]]
) -> list[tuple[dict[str, Any], Settlement]]:
    """Invoke each function with its events in plan order; its sandboxes take them in turn."""
    pending: dict[str, queue.SimpleQueue[dict[str, Any]]] = {
        fn: queue.SimpleQueue() for fn in invokers
    }
    for function, event in plan:
        pending[function].put(event)
    settled: list[tuple[dict[str, Any], Settlement]] = []
    lock = threading.Lock()

    def consume(invoker: AsyncInvoker, events: queue.SimpleQueue[dict[str, Any]]) -> None:
        while True:
            try:
                event = events.get_nowait()
            except queue.Empty:
                return
            settlement = invoker.invoke(event, time.time())
            with lock:
                settled.append((event, settlement))

    threads = [
        threading.Thread(target=consume, args=(invoker, pending[function]))
        for function, pool in invokers.items()
        for invoker in pool
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return settled
