"""Data access: S3 reads and writes with bounded, logged retries, and nothing else.

No policy lives here: what a missing or changed object means for a record is decided by
``outcomes`` and ``idempotency``. botocore's own retries are switched off
(``total_max_attempts=1``) so that tenacity is the single retry layer: one place that
decides what is retryable, with exponential backoff plus jitter, and a log line per
attempt. Stacking both would multiply the attempts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    ParamValidationError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from urllib3.exceptions import ProtocolError

from pipeline_runtime.events import S3ObjectRef, normalise_etag
from pipeline_runtime.observability import logger

T = TypeVar("T")

RETRYABLE_ERROR_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "503",
        "500",
    }
)
RETRYABLE_EXCEPTIONS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    ResponseStreamingError,
    IncompleteReadError,
    ProtocolError,
    ConnectionError,
    TimeoutError,
)


# S3 refuses the request itself: a retry sends the same request and gets the same answer.
PERMANENT_ERROR_CODES = frozenset(
    {"KeyTooLongError", "InvalidArgument", "NoSuchBucket", "InvalidBucketName", "InvalidRequest"}
)
# What S3 answers for an object, or a version, that does not exist. A HEAD carries no error
# body, so it has only the status; an invalid version id is a 400 there ("InvalidArgument").
MISSING_CODES = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})


class ObjectMissingError(Exception):
    """The object (or the version) that was asked for does not exist."""


class ObjectChangedError(Exception):
    """A read guarded by an ETag found another object: the key was overwritten."""


class WriteConflictError(Exception):
    """A conditional write lost: the object changed, or appeared, since it was read."""


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx, timeouts and dropped connections are worth another try."""
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return code in RETRYABLE_ERROR_CODES or status >= 500 or status == 429
    return isinstance(exc, RETRYABLE_EXCEPTIONS)


def is_permanent(exc: BaseException) -> bool:
    """S3 refused the request as invalid (a bad key, version id or bucket): never retry."""
    if isinstance(exc, ClientError):
        return error_code(exc) in PERMANENT_ERROR_CODES
    return isinstance(exc, ParamValidationError)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _missing(ref: S3ObjectRef) -> ObjectMissingError:
    version = f" (version {ref.version_id})" if ref.version_id else ""
    return ObjectMissingError(f"s3://{ref.bucket}/{ref.key}{version} does not exist")


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    initial_wait: float = 0.2
    max_wait: float = 5.0


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "S3 call failed, retrying",
        extra={
            "attempt": state.attempt_number,
            "error": repr(exc),
            "wait_s": round(state.next_action.sleep, 3) if state.next_action else None,
        },
    )


def with_retries[R](call: Callable[[], R], policy: RetryPolicy) -> R:
    """Run ``call``, retrying retryable failures per ``policy``; re-raise the last failure."""
    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential_jitter(multiplier=policy.initial_wait, max=policy.max_wait),
        before_sleep=_log_retry,
        reraise=True,
    )
    return retrying(call)


def make_s3_client() -> Any:
    """An S3 client whose own retries are off; ``AWS_ENDPOINT_URL`` is honoured by boto3."""
    return boto3.client(
        "s3",
        config=Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
            max_pool_connections=16,
        ),
    )


class ObjectStore:
    """The S3 operations both functions need, each retried per the policy."""

    def __init__(self, client: Any | None = None, policy: RetryPolicy | None = None) -> None:
        self._client = client
        self.policy = policy or RetryPolicy()

    @property
    def client(self) -> Any:
        # Created on first use so that importing a handler costs no boto3 session.
        if self._client is None:
            self._client = make_s3_client()
        return self._client

    def _retry(self, call: Callable[[], T]) -> T:
        return with_retries(call, self.policy)

    def head(self, bucket: str, key: str, version_id: str | None = None) -> dict[str, Any] | None:
        """The HEAD response of the object (or of that version), or None if it does not exist."""
        kwargs = {"Bucket": bucket, "Key": key}
        if version_id:
            kwargs["VersionId"] = version_id

        def call() -> dict[str, Any] | None:
            try:
                return self.client.head_object(**kwargs)
            except ClientError as exc:
                code = error_code(exc)
                if code in MISSING_CODES or (version_id and code in ("400", "InvalidArgument")):
                    return None
                raise

        return self._retry(call)

    def fill_from_head(self, ref: S3ObjectRef) -> S3ObjectRef:
        """``ref`` completed by a HEAD: the version id, ETag and size of the object it names.

        For events that name a key without its upload (S3 Batch Operations tasks): the
        current object, or the task's version. The fetch and the idempotency checks then
        work on that exact object.
        """
        head = self.head(ref.bucket, ref.key, ref.version_id)
        if head is None:
            raise _missing(ref)
        return replace(
            ref,
            version_id=head.get("VersionId") or ref.version_id,
            etag=normalise_etag(head["ETag"]),
            size=int(head["ContentLength"]),
        )

    def _get_kwargs(self, ref: S3ObjectRef) -> dict[str, Any]:
        # Fetch exactly the object the event names: by version when the bucket is
        # versioned, else guarded by the ETag so an overwrite is noticed, not mixed up.
        kwargs: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id and ref.version_id != "null":
            kwargs["VersionId"] = ref.version_id
        elif ref.etag:
            kwargs["IfMatch"] = ref.etag
        return kwargs

    def _get(self, ref: S3ObjectRef) -> dict[str, Any]:
        try:
            return self.client.get_object(**self._get_kwargs(ref))
        except ClientError as exc:
            code = error_code(exc)
            if code in MISSING_CODES or (ref.version_id and code == "InvalidArgument"):
                raise _missing(ref) from exc
            if code in ("PreconditionFailed", "412"):
                raise ObjectChangedError(
                    f"s3://{ref.bucket}/{ref.key} was overwritten after this event"
                ) from exc
            raise

    def get_bytes(self, ref: S3ObjectRef) -> bytes:
        """The whole object, read and retried as one unit."""

        def call() -> bytes:
            body = self._get(ref)["Body"]
            try:
                return body.read()
            finally:
                body.close()

        return self._retry(call)

    def read_stream(self, ref: S3ObjectRef, consume: Callable[[Any], T]) -> T:
        """Open the object and hand its streaming body to ``consume``.

        A connection dropped mid-stream cannot be resumed by the consumer, so the retry
        covers the open *and* the whole consumption.
        """

        def call() -> T:
            body = self._get(ref)["Body"]
            try:
                return consume(body)
            finally:
                body.close()

        return self._retry(call)

    def put(
        self,
        bucket: str,
        key: str,
        body: bytes,
        content_type: str,
        metadata: dict[str, str] | None = None,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str | None:
        """Write one object; returns its version id (None if the bucket is unversioned).

        ``if_match`` (an ETag) or ``if_none_match`` make it an S3 conditional write: it
        happens only over that very object, or only where there is none yet; otherwise
        ``WriteConflictError`` is raised.
        """
        kwargs: dict[str, Any] = {
            "Bucket": bucket,
            "Key": key,
            "Body": body,
            "ContentType": content_type,
            "Metadata": metadata or {},
        }
        if if_match:
            kwargs["IfMatch"] = if_match
        elif if_none_match:
            kwargs["IfNoneMatch"] = "*"
        try:
            response = self._retry(lambda: self.client.put_object(**kwargs))
        except ClientError as exc:
            if error_code(exc) in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise WriteConflictError(f"s3://{bucket}/{key} changed while we wrote it") from exc
            raise
        return response.get("VersionId")

    def delete(self, bucket: str, key: str) -> None:
        """Delete the current version (in a versioned bucket: add a delete marker)."""
        self._retry(lambda: self.client.delete_object(Bucket=bucket, Key=key))

    def put_json(
        self,
        bucket: str,
        key: str,
        document: Any,
        metadata: dict[str, str] | None = None,
        **conditions: Any,
    ) -> str | None:
        body = json.dumps(document, indent=2, ensure_ascii=False, default=str).encode()
        return self.put(bucket, key, body, "application/json", metadata, **conditions)
