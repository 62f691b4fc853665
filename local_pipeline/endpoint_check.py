"""One short look at an endpoint the user gave, before a command relies on it.

The runner's own clients retry for a long while (``emulator.RUNNER_CLIENT_CONFIG``), which
suits a flaky but real S3 and makes a wrong URL look like a hang: 34 s of silence for a
stopped ``serve``, or a raw ``ClientError (501)`` from a web server that is not S3. One
request with short timeouts and no retry tells those apart first, in one line.
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

PROBE_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 1},
    connect_timeout=2,
    read_timeout=5,
)


class EndpointUnusable(Exception):
    """The endpoint cannot serve as S3; the message is one line for the user."""


def check_s3_endpoint(endpoint_url: str, region: str, credentials: dict[str, str]) -> None:
    """Raise EndpointUnusable unless ``endpoint_url`` answers ListBuckets as S3 does."""
    try:
        s3 = _probe_client(endpoint_url, region, credentials)
    except ValueError:  # botocore refuses the URL itself
        raise EndpointUnusable(
            f"--endpoint-url {endpoint_url}: not a URL (e.g. http://127.0.0.1:5000)"
        ) from None
    where = f"--endpoint-url {endpoint_url}"
    hint = "start one (`serve` prints its URL), or leave --endpoint-url out"
    try:
        answer = s3.list_buckets()
    except EndpointConnectionError:
        raise EndpointUnusable(f"{where}: nothing listens there; {hint}") from None
    except ConnectTimeoutError:
        raise EndpointUnusable(f"{where}: no connection within 2 s; {hint}") from None
    except ReadTimeoutError:
        raise EndpointUnusable(f"{where}: connected, but no answer within 5 s; {hint}") from None
    except ClientError as error:
        if not _is_s3_error(error):
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "?")
            raise EndpointUnusable(
                f"{where}: it is no S3 endpoint (its answer to ListBuckets is not S3's, "
                f"HTTP {status}); give the URL that `serve` prints"
            ) from None
        return  # an S3 error (AccessDenied, SlowDown, ...): S3 is there
    except BotoCoreError as error:  # an answer S3 would never give (not XML, ...)
        raise EndpointUnusable(f"{where}: its answer is not S3's ({error})") from None
    if not isinstance(answer.get("Buckets"), list):
        raise EndpointUnusable(f"{where}: its answer to ListBuckets is not S3's")


def _probe_client(endpoint_url: str, region: str, credentials: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        config=PROBE_CONFIG,
    )


def _is_s3_error(error: ClientError) -> bool:
    """An error S3 sent as XML has a code in words; botocore names any other by its status."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    return bool(code) and not code.isdigit()
