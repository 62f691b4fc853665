"""The S3 and SQS side: moto's server on loopback, provisioned as the template says.

Each function's S3 events become an S3 -> SQS notification on a queue of its own, with
the same event names and filters. That queue stands in for Lambda's internal queue of
asynchronous invocations; the dispatcher consumes it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pipeline_runtime.events import S3ObjectRef, normalise_etag, parse_event

from local_pipeline.dispatch import FAKE_CREDENTIALS
from local_pipeline.endpoint_check import EndpointUnusable, check_s3_endpoint
from local_pipeline.event_objects import StoredVersion, with_versions
from stack_model.template import BucketSpec, Stack

# The runner's own S3/SQS calls: adaptive retries (client-side rate limiting on throttles)
# with a bound that outlasts a flaky endpoint, and timeouts so a dead one cannot hang a run.
# No checksum computed for uploads (transfer.py): it would travel as an aws-chunked trailer
# that moto decodes into one more copy of the body; the MD5 ETag still checks the bytes.
RUNNER_CLIENT_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 12},
    connect_timeout=10,
    read_timeout=60,
    request_checksum_calculation="when_required",
)
# Sent into an event queue to learn whether someone else consumes it; never a real event.
PROBE_KEY = "local-pipeline-consumer-probe"


class EmulatorError(Exception):
    """The emulator cannot be started or used; the message is one line for the user."""


def ensure_port_free(port: int) -> None:
    """Fail fast when the port is taken: moto's server would wait forever for it."""
    if not port:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as error:
            raise EmulatorError(
                f"port {port} on 127.0.0.1 is in use ({error.strerror}); "
                "choose another with --port, or omit it for a free one"
            ) from None


class Emulator:
    """moto's server on 127.0.0.1 and a free port, or an endpoint that already runs."""

    def __init__(
        self, endpoint_url: str | None = None, region: str = "us-east-1", port: int = 0
    ) -> None:
        self._server: Any = None
        self._port = port
        self._given_endpoint = endpoint_url
        self.endpoint_url = endpoint_url or ""
        self.region = region

    def __enter__(self) -> Emulator:
        if not self._given_endpoint:
            from local_pipeline.moto_server import LoopbackMotoServer  # imports moto: late

            ensure_port_free(self._port)
            # werkzeug would log every request to stderr; the progress output says enough.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            self._server = LoopbackMotoServer(self._port)
            self._server.start()
            host, port = self._server.get_host_and_port()
            self.endpoint_url = f"http://{host}:{port}"
            # moto keeps its state per process, not per server: start from a clean slate.
            reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")
            urllib.request.urlopen(reset).close()
        else:
            try:
                check_s3_endpoint(self.endpoint_url, self.region, FAKE_CREDENTIALS)
            except EndpointUnusable as unusable:
                raise EmulatorError(str(unusable)) from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
            config=RUNNER_CLIENT_CONFIG,
        )


@dataclass(frozen=True)
class EmulatedResources:
    """The local stack's physical resources."""

    buckets: dict[str, BucketSpec]  # by logical id
    event_queues: dict[str, str]  # function logical id -> queue URL of its S3 notifications
    failure_queues: dict[str, str]  # function logical id -> URL of its on-failure queue
    upload_queue: str | None = None  # every upload to the functions' bucket (serve's lines)


def as_s3_sends_it(event: Any) -> Any | None:
    """The event without moto's extra records; None when nothing of it is left.

    For an upload in parts, moto sends ``ObjectCreated:Put`` and then
    ``ObjectCreated:CompleteMultipartUpload``; S3 sends only the second. A multipart object
    has an ETag ending in ``-<parts>``, which a real ``Put`` never has: that record goes.
    """
    if not isinstance(event, dict) or not isinstance(event.get("Records"), list):
        return event
    records = [
        record
        for record in event["Records"]
        if not (
            record.get("eventName") == "ObjectCreated:Put"
            and "-" in str(record.get("s3", {}).get("object", {}).get("eTag", ""))
        )
    ]
    if not records:
        return None
    return {**event, "Records": records}


def is_probe(event: Any) -> bool:
    return isinstance(event, dict) and event.get(PROBE_KEY) is not None


def admitted(event: Any, s3: Any | None = None) -> Any | None:
    """What a queued message delivers to a function: the S3 event, or None for nothing.
    With ``s3``, each object it names carries its version id, as S3 sends it."""
    if is_probe(event):
        return None
    event = as_s3_sends_it(event)
    return with_version_ids(event, s3) if event is not None and s3 is not None else event


def with_version_ids(event: Any, s3: Any) -> Any:
    """The event with the version id of each object it names, where moto gave none.

    S3's events name the version they are about (in a versioned bucket); moto's do not, and
    judged by ETag alone, the same bytes uploaded again after a delete looked like a
    duplicate of the first upload, and were never processed. The version taken is the
    newest of the key with the event's ETag and size: its own, unless the same bytes were
    uploaded again before this event was read, when both events name the newer upload (and
    the second is a duplicate of the first, as the bytes are). A version deleted meanwhile
    leaves the event as moto sent it.
    """
    try:
        refs = parse_event(event)
    except (ValueError, LookupError, TypeError, AttributeError):  # the handler will say why
        return event
    versions = {}
    for ref in refs:
        if ref.version_id or not ref.etag:
            continue
        try:
            version_id = _newest_version_with_etag(s3, ref)
        except (BotoCoreError, ClientError):
            continue  # as moto sent it: the handlers judge by ETag
        if version_id:
            versions[(ref.bucket, ref.key)] = StoredVersion(version_id, ref.etag, ref.size)
    return with_versions(event, versions) if versions else event


def _newest_version_with_etag(s3: Any, ref: S3ObjectRef) -> str | None:
    try:  # mostly the key still holds the event's object: one HEAD says its version
        head = s3.head_object(Bucket=ref.bucket, Key=ref.key)
        if _holds({**head, "Size": head.get("ContentLength")}, ref):
            return _version_id(head)
    except ClientError:
        pass  # deleted since: its version may still be listed
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=ref.bucket, Prefix=ref.key)
    for page in pages:
        # Newest first, and the key itself before the longer keys it prefixes.
        for version in page.get("Versions", []):
            if version["Key"] != ref.key:
                return None
            if _holds(version, ref):
                return _version_id(version)
    return None


def _version_id(found: dict[str, Any]) -> str | None:
    version_id = found.get("VersionId")
    return None if version_id in (None, "null") else str(version_id)


def _holds(version: dict[str, Any], ref: S3ObjectRef) -> bool:
    same_size = ref.size is None or version.get("Size") == ref.size
    return same_size and normalise_etag(version.get("ETag")) == ref.etag


def other_consumer(sqs: Any, queue_url: str, wait_s: float = 3.0) -> bool:
    """True when something else drains this queue (a `serve` on the same endpoint).

    A probe message is sent and then received: if another consumer takes it first, it is
    in flight elsewhere and never arrives here within the wait.
    """
    probe_id = uuid.uuid4().hex
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({PROBE_KEY: probe_id}))
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        response = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        )
        for message in response.get("Messages", []):
            body = json.loads(message["Body"])
            if is_probe(body):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                if body[PROBE_KEY] == probe_id:
                    return False
            else:  # not ours to take: make it visible again at once
                sqs.change_message_visibility(
                    QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    return True


def event_queue_name(stack: Stack, function_logical_id: str) -> str:
    return f"{stack.stack_name}-{function_logical_id}-s3-events"


def provision(
    stack: Stack,
    s3: Any,
    sqs: Any,
    notifications: bool = True,
    watched_bucket: str | None = None,
) -> EmulatedResources:
    """Create the buckets, the queues and (unless told not to) the S3 notifications; with
    ``watched_bucket`` (a logical id), also a queue that hears every upload to it."""
    buckets = {bucket.logical_id: bucket for bucket in stack.buckets()}
    for bucket in buckets.values():
        _create_bucket(s3, bucket, stack.region)

    functions = stack.functions()
    failure_queues = {
        fn.logical_id: _create_queue(sqs, stack.physical_name(fn.on_failure_queue))
        for fn in functions
        if fn.on_failure_queue
    }
    event_queues = {}
    for fn in functions:
        # A message stays invisible while the function runs all its attempts.
        busy_s = fn.timeout_s * (1 + fn.max_retry_attempts) + 60
        event_queues[fn.logical_id] = _create_queue(
            sqs, event_queue_name(stack, fn.logical_id), busy_s
        )

    upload_queue = None
    if notifications and watched_bucket:
        upload_queue = _create_queue(sqs, f"{stack.stack_name}-uploads")
    if notifications:
        for bucket in buckets.values():
            configs = [
                {
                    "Id": f"{fn.logical_id}-{event.name}",
                    "QueueArn": _queue_arn(sqs, event_queues[fn.logical_id]),
                    "Events": list(event.events),
                    **_key_filter(event.prefix, event.suffix),
                }
                for fn in functions
                for event in fn.events
                if event.bucket_logical_id == bucket.logical_id
            ]
            if upload_queue and bucket.logical_id == watched_bucket:
                # No filter: it overlaps the functions' on purpose (S3 would refuse it;
                # the emulator sends each upload to every configuration that matches).
                configs.append(
                    {
                        "Id": "local-pipeline-every-upload",
                        "QueueArn": _queue_arn(sqs, upload_queue),
                        "Events": ["s3:ObjectCreated:*"],
                    }
                )
            if configs:
                s3.put_bucket_notification_configuration(
                    Bucket=bucket.name,
                    NotificationConfiguration={"QueueConfigurations": configs},
                )
    return EmulatedResources(buckets, event_queues, failure_queues, upload_queue)


def _create_bucket(s3: Any, bucket: BucketSpec, region: str) -> None:
    kwargs: dict[str, Any] = {"Bucket": bucket.name}
    if region != "us-east-1":
        kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # a reused endpoint
        s3.create_bucket(**kwargs)
    if bucket.versioned:
        s3.put_bucket_versioning(Bucket=bucket.name, VersioningConfiguration={"Status": "Enabled"})


def _create_queue(sqs: Any, name: str, visibility_timeout_s: int = 30) -> str:
    attributes = {"VisibilityTimeout": str(min(visibility_timeout_s, 43200))}
    return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])


def _queue_arn(sqs: Any, url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _key_filter(prefix: str, suffix: str) -> dict[str, Any]:
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    return {"Filter": {"Key": {"FilterRules": rules}}} if rules else {}
