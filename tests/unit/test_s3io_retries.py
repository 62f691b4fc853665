import io
import logging

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.response import StreamingBody
from botocore.stub import Stubber
from pipeline_runtime.events import S3ObjectRef
from pipeline_runtime.s3io import (
    ObjectChangedError,
    ObjectMissingError,
    ObjectStore,
    RetryPolicy,
    is_permanent,
    is_retryable,
    make_s3_client,
)

FAST = RetryPolicy(attempts=3, initial_wait=0.001, max_wait=0.002)
REF = S3ObjectRef("bucket", "images/a.jpg", etag="abc")


def _stubbed():
    client = boto3.client("s3", region_name="us-east-1")
    return client, Stubber(client)


def _body(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def _get_ok(stub: Stubber, data: bytes = b"hello") -> None:
    stub.add_response(
        "get_object",
        {"Body": _body(data), "ContentLength": len(data)},
        {"Bucket": "bucket", "Key": "images/a.jpg", "IfMatch": "abc"},
    )


def test_botocore_retries_are_off_so_tenacity_is_the_only_layer():
    client = make_s3_client()
    assert client.meta.config.retries["total_max_attempts"] == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("SlowDown", 503),
        ("InternalError", 500),
        ("ServiceUnavailable", 503),
        ("RequestTimeout", 400),
    ],
)
def test_throttling_and_5xx_are_retried_until_success(code, status):
    client, stub = _stubbed()
    stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
    stub.add_client_error("get_object", service_error_code=code, http_status_code=status)
    _get_ok(stub)
    with stub:
        assert ObjectStore(client, FAST).get_bytes(REF) == b"hello"
    stub.assert_no_pending_responses()


def test_gives_up_after_the_bound_and_raises_the_last_error():
    client, stub = _stubbed()
    for _ in range(FAST.attempts):
        stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    with stub, pytest.raises(ClientError, match="SlowDown"):
        ObjectStore(client, FAST).put("bucket", "k", b"x", "text/plain")
    stub.assert_no_pending_responses()  # exactly `attempts` calls were made


def test_each_retry_is_logged(caplog):
    client, stub = _stubbed()
    stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    stub.add_client_error("put_object", service_error_code="SlowDown", http_status_code=503)
    stub.add_response("put_object", {"VersionId": "v1"})
    caplog.set_level(logging.WARNING)
    with stub:
        assert ObjectStore(client, FAST).put("bucket", "k", b"x", "text/plain") == "v1"
    retries = [r for r in caplog.records if r.getMessage() == "S3 call failed, retrying"]
    assert [r.attempt for r in retries] == [1, 2]
    assert "SlowDown" in retries[0].error


def test_access_denied_is_not_retried():
    client, stub = _stubbed()
    stub.add_client_error("get_object", service_error_code="AccessDenied", http_status_code=403)
    with stub, pytest.raises(ClientError, match="AccessDenied"):
        ObjectStore(client, FAST).get_bytes(REF)
    stub.assert_no_pending_responses()


def test_missing_object_is_reported_as_missing():
    client, stub = _stubbed()
    stub.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    with stub, pytest.raises(ObjectMissingError):
        ObjectStore(client, FAST).get_bytes(REF)


def test_an_overwritten_object_is_reported_as_changed_not_mixed_up():
    client, stub = _stubbed()
    stub.add_client_error(
        "get_object", service_error_code="PreconditionFailed", http_status_code=412
    )
    with stub, pytest.raises(ObjectChangedError):
        ObjectStore(client, FAST).get_bytes(REF)


def test_versioned_reads_name_the_exact_version():
    client, stub = _stubbed()
    stub.add_response(
        "get_object",
        {"Body": _body(b"v")},
        {"Bucket": "bucket", "Key": "images/a.jpg", "VersionId": "ver-1"},
    )
    with stub:
        ref = S3ObjectRef("bucket", "images/a.jpg", version_id="ver-1", etag="abc")
        assert ObjectStore(client, FAST).get_bytes(ref) == b"v"


def test_head_of_a_missing_object_is_none():
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code="404", http_status_code=404)
    with stub:
        assert ObjectStore(client, FAST).head("bucket", "nope") is None


def test_stream_consumption_is_retried_as_a_unit():
    client, stub = _stubbed()
    _get_ok(stub, b"first")
    _get_ok(stub, b"second")
    calls = []

    def consume(body):
        calls.append(body.read())
        if len(calls) == 1:
            raise ReadTimeoutError(endpoint_url="http://s3")
        return calls[-1]

    with stub:
        assert ObjectStore(client, FAST).read_stream(REF, consume) == b"second"
    assert calls == [b"first", b"second"]


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [
        (EndpointConnectionError(endpoint_url="http://s3"), True),
        (ConnectionResetError(), True),
        (TimeoutError(), True),
        (ValueError("bug"), False),
        (
            ClientError(
                {"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 502}}, "op"
            ),
            True,
        ),
        (
            ClientError(
                {"Error": {"Code": "X"}, "ResponseMetadata": {"HTTPStatusCode": 429}}, "op"
            ),
            True,
        ),
        (
            ClientError(
                {"Error": {"Code": "NoSuchBucket"}, "ResponseMetadata": {"HTTPStatusCode": 404}},
                "op",
            ),
            False,
        ),
    ],
)
def test_retryable_classification(exc, retryable):
    assert is_retryable(exc) is retryable


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("KeyTooLongError", 400),
        ("InvalidArgument", 400),
        ("NoSuchBucket", 404),
        ("InvalidBucketName", 400),
    ],
)
def test_requests_s3_refuses_as_invalid_are_permanent_and_tried_once(code, status):
    client, stub = _stubbed()
    stub.add_client_error("put_object", service_error_code=code, http_status_code=status)
    with stub, pytest.raises(ClientError) as raised:
        ObjectStore(client, FAST).put("bucket", "k", b"x", "text/plain")
    stub.assert_no_pending_responses()  # one attempt: a retry would get the same answer
    assert is_permanent(raised.value) and not is_retryable(raised.value)


def test_a_request_botocore_refuses_to_send_is_permanent():
    with pytest.raises(ParamValidationError) as raised:
        make_s3_client().head_object(Bucket="bucket", Key="")
    assert is_permanent(raised.value)
    assert not is_permanent(EndpointConnectionError(endpoint_url="http://x"))


def test_a_head_of_an_invalid_version_id_is_a_missing_version():
    """S3 answers a HEAD naming a malformed version id with a bare 400 (no error body)."""
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code="400", http_status_code=400)
    with stub:
        assert ObjectStore(client, FAST).head("bucket", "k", version_id="not-a-version") is None
    client, stub = _stubbed()
    stub.add_client_error("head_object", service_error_code="400", http_status_code=400)
    with stub, pytest.raises(ClientError):  # without a version id, a 400 is no answer
        ObjectStore(client, FAST).head("bucket", "k")
