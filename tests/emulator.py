"""The S3/SQS emulator (moto's server on loopback) as the tests start and read it."""

from __future__ import annotations

import contextlib
import logging
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
from moto.server import ThreadedMotoServer


@contextlib.contextmanager
def running_moto() -> Iterator[str]:
    """A moto server on 127.0.0.1 and a free port, reset, stopped afterwards."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer("127.0.0.1", 0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        # moto's state is process-wide: start clean whatever ran before in this process.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
        yield endpoint
    finally:
        server.stop()


def client(service: str, endpoint: str, **kwargs: Any) -> Any:
    """A boto3 client for the emulator, with moto's fake credentials."""
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # pragma: allowlist secret (moto)
        **kwargs,
    )


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the queue, removed from it."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages
