"""`serve`'s line for an upload that fires no function, as `run` reports it.

The functions' queues hear only what their S3 filters match, so an upload to the bucket
root or to ``csv/SALES.CSV`` would pass in silence. One more notification, with no
filter, feeds a queue of every upload; each key that no function's filter matches gets a
``not_triggered`` line with the reason. The functions' own outputs (they carry their
source's metadata) and the local backfill's reports are not uploads of the user's.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline.emulator import admitted
from local_pipeline.event_objects import named_objects
from stack_model.batch_operations import MANIFEST_PREFIX, REPORT_PREFIX
from stack_model.s3_filters import triggered_functions
from stack_model.template import BucketSpec, Stack

RUNNER_PREFIXES = (f"{MANIFEST_PREFIX}/", f"{REPORT_PREFIX}/")
# The source metadata every output of the functions carries (pipeline_runtime.idempotency;
# the runner reads the runtime's event parser only, so the two names are repeated here).
OUTPUT_METADATA = ("source-etag", "source-version-id")


def not_triggered_reason(stack: Stack) -> str:
    listened = ", ".join(f"{e.prefix}*{e.suffix}" for fn in stack.functions() for e in fn.events)
    return (
        f"no S3 event of template.yaml matches this key (the functions listen to {listened}; "
        "filters are case-sensitive)"
    )


class UploadWatch:
    """Consumes the queue of every upload to ``bucket`` until stopped, in a thread."""

    def __init__(
        self,
        stack: Stack,
        bucket: BucketSpec,
        queue_url: str,
        s3: Any,
        sqs: Any,
        say: Callable[[str], None],
    ) -> None:
        self.stack = stack
        self.bucket = bucket
        self.queue_url = queue_url
        self.s3 = s3
        self.sqs = sqs
        self.say = say
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._consume, name="upload-watch", daemon=True)

    def __enter__(self) -> UploadWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=3)

    def _consume(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.sqs.receive_message(
                    QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
                )
                for message in response.get("Messages", []):
                    self._judge(json.loads(message["Body"]))
                    self.sqs.delete_message(
                        QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                    )
            except (BotoCoreError, ClientError, ValueError) as error:
                if self._stop.is_set():
                    return
                self.say(f"upload watch: {error}")
                self._stop.wait(1)

    def _judge(self, body: Any) -> None:
        event = admitted(body)
        if event is None:
            return
        try:
            objects = named_objects(event)
        except ValueError:
            return  # s3:TestEvent and the like: no upload
        for _, key in objects:
            if triggered_functions(self.stack.functions(), self.bucket.logical_id, key):
                continue  # the function's own line follows when it settles
            if key.startswith(RUNNER_PREFIXES) or self._is_output(key):
                continue
            self.say(f">> {key}: not_triggered; {not_triggered_reason(self.stack)}")

    def _is_output(self, key: str) -> bool:
        try:
            head = self.s3.head_object(Bucket=self.bucket.name, Key=key)
        except ClientError:
            return False  # gone already: it was an upload, and it fired nothing
        metadata = head.get("Metadata") or {}
        return any(name in metadata for name in OUTPUT_METADATA)
