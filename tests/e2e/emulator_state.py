"""Reading the emulator's state from a test."""

from __future__ import annotations

from typing import Any

import boto3


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")


def drain(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    """Every message now in the queue, removed from it."""
    messages: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages"):
        messages.extend(batch)
        for message in batch:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages
