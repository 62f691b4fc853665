"""Inject S3 faults into a handler's client, the way throttling shows up in production."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError


def fail_first_calls(client: Any, operation: str, failures: int, monkeypatch: Any) -> list[str]:
    """Make ``client.<operation>`` raise ``SlowDown`` (503) ``failures`` times, then work."""
    real = getattr(client, operation)
    calls: list[str] = []

    def flaky(**kwargs: Any) -> Any:
        calls.append(kwargs.get("Key", ""))
        if len(calls) <= failures:
            raise ClientError(
                {
                    "Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."},
                    "ResponseMetadata": {"HTTPStatusCode": 503},
                },
                operation,
            )
        return real(**kwargs)

    monkeypatch.setattr(client, operation, flaky)
    return calls
