"""Faults between the functions and S3: every input settles, nothing is half written.

The functions reach the emulator through ``FaultProxy`` (503 SlowDown, 500 InternalError,
connection resets before and after the request lands, latency) on 20% of their object
requests. The proxy is wired in with ``--env-vars``: ``AWS_ENDPOINT_URL_S3`` takes
precedence over the ``AWS_ENDPOINT_URL`` that the runner gives the sandboxes, so only the
functions' S3 calls cross it; the runner's uploads, queues and downloads go direct.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from summarize import error_report_key, summary_key
from variants import output_prefix

from stack_model.template import load_stack
from tests.emulator import client, drain
from tests.reliability.fault_proxy import FAULT_KINDS, FaultProxy
from tests.reliability.harness import (
    CSV_FUNCTION,
    IMAGE_FUNCTION,
    Input,
    count_log_messages,
    publish,
    run_pipeline,
    scaled,
    small_csv,
    small_image,
    write_input,
    write_inputs,
)

FAULT_RATE = 0.2
SETTLED = ("results", "error_report", "failed")


def _outage_of_doomed_results(method: str, path: str) -> str | None:
    doomed = path.endswith(("/doomed.png/manifest.json", "/doomed.csv.json"))
    return "internal_500" if method == "PUT" and doomed else None


def _failure_queue_keys(sqs: Any, stack: Any, function: str) -> list[str]:
    spec = stack.function(function)
    url = sqs.get_queue_url(QueueName=stack.physical_name(spec.on_failure_queue))["QueueUrl"]
    keys = []
    for message in drain(sqs, url):
        record = json.loads(message["Body"])
        assert record["requestContext"]["condition"] == "RetriesExhausted"
        assert record["requestContext"]["approximateInvokeCount"] == 1 + spec.max_retry_attempts
        for s3_record in record["requestPayload"]["Records"]:
            keys.append(unquote_plus(s3_record["s3"]["object"]["key"]))
    return keys


def _check_image_outputs(s3: Any, bucket: str, inputs: list[Input], failed: set[str]) -> int:
    """Manifests only over complete sets; every settled image has its manifest or report."""
    objects = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
    ]
    manifests = {
        key.removesuffix("/manifest.json") for key in objects if key.endswith("/manifest.json")
    }
    reports = {key.removesuffix("/error.json") for key in objects if key.endswith("/error.json")}
    by_prefix = {output_prefix(i.key): i for i in inputs if i.function == IMAGE_FUNCTION}
    assert manifests | reports <= set(by_prefix)
    assert not manifests & reports
    for prefix in manifests:
        manifest = json.loads(
            s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read()
        )
        source = by_prefix[prefix]
        assert source.valid, f"{source.key}: a manifest for an invalid image"
        assert manifest["source"]["etag"] == source.etag
        assert len(manifest["variants"]) == 5
        for variant in manifest["variants"]:
            # The listed version exists and is what the key serves now.
            head = s3.head_object(
                Bucket=bucket, Key=variant["key"], VersionId=variant["version_id"]
            )
            assert head["ContentLength"] == variant["bytes"]
            assert head["Metadata"]["source-etag"] == source.etag
            current = s3.head_object(Bucket=bucket, Key=variant["key"])
            assert current["VersionId"] == variant["version_id"], variant["key"]
    for prefix in reports:
        assert not by_prefix[prefix].valid, f"{prefix}: an error report for a valid image"
    for prefix, source in by_prefix.items():
        if source.key not in failed:
            assert prefix in (manifests if source.valid else reports), source.key
    # A set of variants without a manifest is only allowed where the event failed.
    orphans = {key.rsplit("/", 1)[0] for key in objects} - manifests - reports
    assert all(by_prefix[prefix].key in failed for prefix in orphans), orphans
    return len(orphans)


def _check_csv_outputs(s3: Any, bucket: str, inputs: list[Input], failed: set[str]) -> None:
    for source in (i for i in inputs if i.function == CSV_FUNCTION):
        summary, report = summary_key(source.key), error_report_key(source.key)
        exists = {
            key
            for key in (summary, report)
            if s3.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount")
            and any(
                o["Key"] == key for o in s3.list_objects_v2(Bucket=bucket, Prefix=key)["Contents"]
            )
        }
        if source.key in failed:
            continue
        expected = summary if source.valid else report
        assert exists == {expected}, source.key
        document = json.loads(s3.get_object(Bucket=bucket, Key=expected)["Body"].read())
        assert document["source"]["etag"] == source.etag


def test_every_input_settles_under_s3_faults(tmp_path: Path, moto_endpoint: str) -> None:
    # 200 inputs in all at full scale: 160 images and 40 CSVs, of which 8 are invalid files
    # and 2 can never be written.
    images, csvs = scaled(10, 159), scaled(4, 39)
    bad_images, bad_csvs = scaled(2, 6), scaled(1, 2)
    inputs = write_inputs(
        tmp_path / "inputs",
        images=images - bad_images,
        csvs=csvs - bad_csvs,
        bad_images=bad_images,
        bad_csvs=bad_csvs,
        seed=6,
    )
    # One image and one CSV whose result can never be written (every PUT of the manifest,
    # or of the summary, fails): they must end in the on-failure queue, the image with its
    # variants written and no manifest over them.
    rng = random.Random(1)
    doomed = [
        write_input(
            tmp_path / "inputs", "pictures/doomed.png", small_image(rng, 1)[1], IMAGE_FUNCTION, True
        ),
        write_input(
            tmp_path / "inputs", "tables/doomed.csv", small_csv(rng, 5), CSV_FUNCTION, True
        ),
    ]
    inputs += doomed
    stack = load_stack()
    with FaultProxy(
        moto_endpoint, rate=FAULT_RATE, seed=20, forced=_outage_of_doomed_results
    ) as proxy:
        run = run_pipeline(
            [tmp_path / "inputs"],
            tmp_path / "out",
            endpoint_url=moto_endpoint,
            env_vars={"Parameters": {"AWS_ENDPOINT_URL_S3": proxy.url}},
        )
    assert run.report, run.stdout + run.stderr

    # Every input is in the report once, settled in one of the three places.
    entries = {entry["key"]: entry for entry in run.report["inputs"]}
    assert len(run.report["inputs"]) == len(entries) == len(inputs)
    assert set(entries) == {i.key for i in inputs}
    outcomes = Counter(entry["outcome"] for entry in entries.values())
    assert set(outcomes) <= set(SETTLED), outcomes
    assert sum(outcomes.values()) == len(inputs)
    assert run.report["failed"] == outcomes["failed"]
    assert run.returncode == (1 if outcomes["failed"] else 0), run.stdout + run.stderr
    for source in inputs:
        entry = entries[source.key]
        assert entry["function"] == source.function
        # A fault must never pass for bad input, nor bad input for a fault.
        wanted = "results" if source.valid else "error_report"
        assert entry["outcome"] in (wanted, "failed"), entry

    # What failed is in the function's on-failure queue, once; nothing else is.
    failed = {key for key, entry in entries.items() if entry["outcome"] == "failed"}
    assert {i.key for i in doomed} <= failed
    sqs, s3 = client("sqs", moto_endpoint), client("s3", moto_endpoint)
    queued = [
        key for fn in (IMAGE_FUNCTION, CSV_FUNCTION) for key in _failure_queue_keys(sqs, stack, fn)
    ]
    assert sorted(queued) == sorted(failed)

    buckets = {bucket.logical_id: bucket.name for bucket in stack.buckets()}
    orphans = _check_image_outputs(s3, buckets["ProcessedBucket"], inputs, failed)
    _check_csv_outputs(s3, buckets["UploadBucket"], inputs, failed)

    injected = proxy.summary()
    assert injected["injected_total"] >= 0.1 * injected["object_requests"]
    assert set(injected["injected"]) == {*FAULT_KINDS, "forced_internal_500"}
    assert orphans == 1  # doomed.png: variants, and rightly no manifest
    logs = tmp_path / "out" / "logs"
    publish(
        "faults",
        {
            "inputs": len(inputs),
            "invalid_inputs": bad_images + bad_csvs,
            "fault_rate": FAULT_RATE,
            "proxy": injected,
            "outcomes": dict(outcomes),
            "invocations_retried_by_lambda": sum(e["attempts"] > 1 for e in entries.values()),
            "s3_calls_retried_in_handler": {
                fn: count_log_messages(logs / f"{fn}.log", "S3 call failed, retrying")
                for fn in (IMAGE_FUNCTION, CSV_FUNCTION)
            },
            "variant_sets_without_manifest": orphans,
            "wall_s": round(run.wall_s, 1),
        },
    )
