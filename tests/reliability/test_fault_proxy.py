"""The fault proxy itself: each fault reaches botocore as S3 would send it, and the
product's retry policy classifies every one of them as worth another try."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.config import Config
from pipeline_runtime.s3io import is_retryable

from tests.emulator import client
from tests.reliability.fault_proxy import FAULT_KINDS, FaultProxy, is_object_request

BUCKET = "fault-proxy-test"


def _client(endpoint: str) -> Any:
    # Retries off, as in the handlers' client: each injected fault must reach the caller.
    return client("s3", endpoint, config=Config(retries={"total_max_attempts": 1}))


def test_only_object_requests_are_eligible() -> None:
    assert is_object_request("GET", "/bucket/images/a%20b.png?versionId=1")
    assert is_object_request("PUT", "/bucket/a/b/manifest.json")
    assert is_object_request("HEAD", "/bucket/k")
    assert not is_object_request("PUT", "/bucket")
    assert not is_object_request("GET", "/bucket/?versioning")
    assert not is_object_request("POST", "/bucket/k?delete")
    assert not is_object_request("POST", "/")  # SQS and the rest


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_each_fault_is_seen_by_botocore_and_retryable(moto_endpoint: str, kind: str) -> None:
    direct = _client(moto_endpoint)
    direct.create_bucket(Bucket=BUCKET)
    versioning = {"Status": "Enabled"}
    direct.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration=versioning)
    direct.put_object(Bucket=BUCKET, Key="k", Body=b"x" * 4096)
    with FaultProxy(moto_endpoint, rate=1.0, seed=1, kinds=(kind,)) as proxy:
        via_proxy = _client(proxy.url)
        assert via_proxy.list_objects_v2(Bucket=BUCKET)["KeyCount"] == 1  # bucket-level
        calls = {
            "put": lambda: via_proxy.put_object(Bucket=BUCKET, Key="k", Body=b"y" * 4096),
            "get": lambda: via_proxy.get_object(Bucket=BUCKET, Key="k")["Body"].read(),
            "head": lambda: via_proxy.head_object(Bucket=BUCKET, Key="k"),
        }
        errors = {}
        for name, call in calls.items():
            try:
                call()
            except Exception as exc:
                errors[name] = exc
        assert proxy.summary()["injected"] == {kind: 3}
        assert proxy.summary()["other_requests"] == 1
    if kind == "latency":
        assert errors == {}
        return
    assert set(errors) == set(calls)
    assert all(is_retryable(exc) for exc in errors.values()), errors
    versions = direct.list_object_versions(Bucket=BUCKET).get("Versions", [])
    # reset_after forwards the PUT before dropping the connection: the write landed.
    assert len(versions) == (2 if kind == "reset_after" else 1)
