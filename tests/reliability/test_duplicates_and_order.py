"""At-least-once delivery: duplicates are harmless, and an old event never wins.

The events are built by the test from the emulator's real version ids and ETags and
delivered through the local pipeline's sandboxes (see ``sandboxes.py``), because moto's
own notifications carry neither version ids nor sequencers and come in its own order.

What "byte-identical" excludes, and why (everything else is compared byte for byte,
including every variant image, every object's metadata and content type):
- ``processed_at`` (manifest.json) and ``rejected_at`` (error reports): the wall-clock
  time of the write;
- ``variants[].encode_ms`` (manifest.json): the measured time of the encoder;
- ``variants[].version_id`` (manifest.json): the version id S3 assigns to each write of a
  variant, new on every PUT by design. Instead, each listed version is checked to exist
  and to hold the same bytes as the variant the run left behind.
JSON outputs are compared as documents after checking that re-serialising a document
gives back its exact bytes, so equal documents mean equal bytes.
"""

from __future__ import annotations

import io
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from local_pipeline.emulator import EmulatedResources, provision
from stack_model.template import Stack, load_stack
from tests.emulator import client
from tests.reliability.fault_proxy import FaultProxy
from tests.reliability.harness import (
    CSV_FUNCTION,
    IMAGE_FUNCTION,
    publish,
    scaled,
    small_csv,
    write_inputs,
)
from tests.reliability.sandboxes import deliver, record_status, upload, warm_invokers

TIME_FIELDS = ("processed_at", "rejected_at")
VARIANT_FIELDS = ("encode_ms", "version_id")


def _provision(endpoint: str) -> tuple[Stack, EmulatedResources, Any, Any]:
    stack = load_stack()
    s3, sqs = client("s3", endpoint), client("sqs", endpoint)
    return stack, provision(stack, s3, sqs, notifications=False), s3, sqs


def _output_places(stack: Stack) -> list[tuple[str, str]]:
    """(bucket, prefix) of every output: the processed bucket, and the CSV summaries."""
    buckets = {bucket.logical_id: bucket.name for bucket in stack.buckets()}
    summaries = stack.function(CSV_FUNCTION).environment["SUMMARY_PREFIX"]
    return [(buckets["ProcessedBucket"], ""), (buckets["UploadBucket"], summaries)]


def _snapshot(s3: Any, stack: Stack) -> dict[tuple[str, str], dict[str, Any]]:
    """Every output object as it now reads: body, metadata, content type, version."""
    outputs = {}
    for bucket, prefix in _output_places(stack):
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get("Contents", []):
                got = s3.get_object(Bucket=bucket, Key=obj["Key"])
                outputs[(bucket, obj["Key"])] = {
                    "body": got["Body"].read(),
                    "metadata": got["Metadata"],
                    "content_type": got["ContentType"],
                    "version_id": got["VersionId"],
                }
    return outputs


def _wipe_outputs(s3: Any, stack: Stack) -> None:
    """Delete every version of every output, so the next run starts from nothing."""
    for bucket, prefix in _output_places(stack):
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def _comparable(key: str, body: bytes) -> Any:
    if not key.endswith(".json"):
        return body
    document = json.loads(body)
    # The product writes json.dumps(indent=2, ensure_ascii=False): equal documents are
    # then equal bytes.
    assert json.dumps(document, indent=2, ensure_ascii=False).encode() == body, key
    for name in TIME_FIELDS:
        document.pop(name, None)
    for variant in document.get("variants", []):
        for name in VARIANT_FIELDS:
            variant.pop(name)
    return document


def _check_manifest_versions(s3: Any, outputs: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Each version a manifest lists exists and holds the bytes the variant key serves."""
    for (bucket, key), output in outputs.items():
        if key.endswith("/manifest.json"):
            for variant in json.loads(output["body"])["variants"]:
                listed = s3.get_object(
                    Bucket=bucket, Key=variant["key"], VersionId=variant["version_id"]
                )
                assert listed["Body"].read() == outputs[(bucket, variant["key"])]["body"]


def _differences(
    clean: dict[tuple[str, str], dict[str, Any]], other: dict[tuple[str, str], dict[str, Any]]
) -> list[str]:
    problems = [f"only in the clean run: {k}" for k in clean.keys() - other.keys()]
    problems += [f"only in the duplicate run: {k}" for k in other.keys() - clean.keys()]
    for place in clean.keys() & other.keys():
        a, b = clean[place], other[place]
        if _comparable(place[1], a["body"]) != _comparable(place[1], b["body"]):
            problems.append(f"body differs: {place}")
        if (a["metadata"], a["content_type"]) != (b["metadata"], b["content_type"]):
            problems.append(f"metadata differs: {place}")
    return problems


def test_every_event_twice_shuffled_gives_the_clean_run_outputs(
    tmp_path: Path, moto_endpoint: str
) -> None:
    stack, resources, s3, sqs = _provision(moto_endpoint)
    upload_bucket = _output_places(stack)[1][0]
    inputs = write_inputs(
        tmp_path / "inputs", images=scaled(10, 60), csvs=scaled(5, 30), bad_images=3, bad_csvs=2
    )
    events = [(i.function, upload(s3, upload_bucket, i.key, i.body)) for i in inputs]

    with warm_invokers(stack, resources, sqs, moto_endpoint, tmp_path, concurrency=2) as pool:
        clean_settled = deliver({fn: invokers[:1] for fn, invokers in pool.items()}, events)
        clean = _snapshot(s3, stack)
        _wipe_outputs(s3, stack)
        assert _snapshot(s3, stack) == {}

        twice = events * 2
        random.Random(2).shuffle(twice)
        dup_settled = deliver(pool, twice)  # two sandboxes per function, as Lambda scales out
        again = _snapshot(s3, stack)

    invalid = sum(not i.valid for i in inputs)
    valid_images = sum(i.valid and i.function == IMAGE_FUNCTION for i in inputs)
    clean_statuses = Counter(record_status(s) for _, s in clean_settled)
    assert clean_statuses == {"results": len(inputs) - invalid, "error_report": invalid}
    # Five variants and a manifest per image, one summary per CSV, one report per bad file.
    assert len(clean) == 6 * valid_images + (len(inputs) - valid_images)

    dup_statuses = Counter(record_status(s) for _, s in dup_settled)
    assert "failed" not in dup_statuses
    assert sum(dup_statuses.values()) == 2 * len(inputs)
    # Every event was done (results or report) at least once; the rest were skipped.
    by_event: dict[str, list[str]] = {}
    for event, settlement in dup_settled:
        by_event.setdefault(json.dumps(event, sort_keys=True), []).append(record_status(settlement))
    assert len(by_event) == len(inputs)
    for statuses in by_event.values():
        assert len(statuses) == 2
        assert set(statuses) & {"results", "error_report"}, statuses
        assert set(statuses) <= {"results", "error_report", "skipped_duplicate"}, statuses

    assert _differences(clean, again) == []
    _check_manifest_versions(s3, clean | again)
    publish(
        "duplicates",
        {
            "inputs": len(inputs),
            "deliveries": len(twice),
            "sandboxes_per_function": 2,
            "outputs_compared": len(clean),
            "statuses": dict(dup_statuses),
            "processed_twice": sum(
                sorted(s) in (["results", "results"], ["error_report", "error_report"])
                for s in by_event.values()
            ),
        },
    )


def etag(event: dict[str, Any]) -> str:
    return str(event["Records"][0]["s3"]["object"]["eTag"])


def _image(size: tuple[int, int], colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("aws_shape", [True, False], ids=["version+sequencer", "etag-only"])
def test_newest_upload_wins_when_its_event_comes_first(
    tmp_path: Path, moto_endpoint: str, aws_shape: bool
) -> None:
    stack, resources, s3, sqs = _provision(moto_endpoint)
    upload_bucket = _output_places(stack)[1][0]
    processed = _output_places(stack)[0][0]
    image_key, csv_key = "images/race/logo.png", "csv/race/table.csv"
    old_image, new_image = _image((64, 32), (200, 0, 0)), _image((30, 50), (0, 0, 200))
    rng = random.Random(3)
    old_csv, new_csv = small_csv(rng, 4), small_csv(rng, 9)
    # Two writes of each key in quick succession; their events then arrive newest first.
    old_events = [
        (IMAGE_FUNCTION, upload(s3, upload_bucket, image_key, old_image, aws_shape)),
        (CSV_FUNCTION, upload(s3, upload_bucket, csv_key, old_csv, aws_shape)),
    ]
    new_events = [
        (IMAGE_FUNCTION, upload(s3, upload_bucket, image_key, new_image, aws_shape)),
        (CSV_FUNCTION, upload(s3, upload_bucket, csv_key, new_csv, aws_shape)),
    ]
    new_etags = {fn: etag(event) for fn, event in new_events}

    with warm_invokers(stack, resources, sqs, moto_endpoint, tmp_path) as pool:
        settled = deliver(pool, new_events + old_events)

    statuses = {
        (s.function, "new" if etag(event) == new_etags[s.function] else "old"): record_status(s)
        for event, s in settled
    }
    assert statuses == {
        (IMAGE_FUNCTION, "new"): "results",
        (CSV_FUNCTION, "new"): "results",
        (IMAGE_FUNCTION, "old"): "skipped_stale",
        (CSV_FUNCTION, "old"): "skipped_stale",
    }

    manifest = json.loads(
        s3.get_object(Bucket=processed, Key="race/logo.png/manifest.json")["Body"].read()
    )
    assert manifest["source"]["etag"] == new_etags[IMAGE_FUNCTION]
    assert (manifest["image"]["width"], manifest["image"]["height"]) == (30, 50)
    for variant in manifest["variants"]:
        current = s3.get_object(Bucket=processed, Key=variant["key"])
        assert current["VersionId"] == variant["version_id"]
        assert current["Metadata"]["source-etag"] == new_etags[IMAGE_FUNCTION]
        assert Image.open(io.BytesIO(current["Body"].read())).size == (30, 50)
    summary_key = stack.function(CSV_FUNCTION).environment["SUMMARY_PREFIX"] + "race/table.csv.json"
    summary = json.loads(s3.get_object(Bucket=upload_bucket, Key=summary_key)["Body"].read())
    assert summary["source"]["etag"] == new_etags[CSV_FUNCTION]
    assert summary["rows"] == 9


def _current_state(s3: Any, processed: str, prefix: str) -> dict[str, Any]:
    """The manifest under prefix, and whether each variant it lists is what its key serves."""
    manifest = json.loads(
        s3.get_object(Bucket=processed, Key=f"{prefix}/manifest.json")["Body"].read()
    )
    current = {
        variant["key"]: s3.head_object(Bucket=processed, Key=variant["key"])["VersionId"]
        == variant["version_id"]
        for variant in manifest["variants"]
    }
    return {"manifest": manifest, "variants_current": current}


def test_newest_upload_wins_when_both_events_run_at_once(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """Lambda runs the events of two quick uploads of a key in parallel sandboxes.

    Before the fix this failed in most rounds: the older (larger, slower) image's variants
    replaced the newer ones after the newer manifest was written, and now and then its
    manifest replaced the newer manifest between the last check and the PUT.
    """
    stack, resources, s3, sqs = _provision(moto_endpoint)
    upload_bucket, processed = _output_places(stack)[1][0], _output_places(stack)[0][0]
    summaries = stack.function(CSV_FUNCTION).environment["SUMMARY_PREFIX"]
    rng = random.Random(4)
    problems = []
    with warm_invokers(stack, resources, sqs, moto_endpoint, tmp_path, concurrency=2) as pool:
        for n in range(4):
            image_key, csv_key = f"images/race/{n}.png", f"csv/race/{n}.csv"
            old = [
                (
                    IMAGE_FUNCTION,
                    upload(s3, upload_bucket, image_key, _image((400 + n, 300), (200, 0, 0))),
                ),
                (CSV_FUNCTION, upload(s3, upload_bucket, csv_key, small_csv(rng, 400))),
            ]
            new = [
                (
                    IMAGE_FUNCTION,
                    upload(s3, upload_bucket, image_key, _image((30, 50), (0, 0, 200))),
                ),
                (CSV_FUNCTION, upload(s3, upload_bucket, csv_key, small_csv(rng, 3))),
            ]
            # Each function's two sandboxes take one event each, at the same time.
            deliver(pool, [*new, *old])
            state = _current_state(s3, processed, f"race/{n}.png")
            if state["manifest"]["source"]["etag"] != etag(new[0][1]):
                problems.append(f"{image_key}: the manifest is the older upload's")
            elif not all(state["variants_current"].values()):
                problems.append(f"{image_key}: variants hold the older upload's bytes")
            summary = s3.get_object(Bucket=upload_bucket, Key=f"{summaries}race/{n}.csv.json")
            if json.loads(summary["Body"].read())["source"]["etag"] != etag(new[1][1]):
                problems.append(f"{csv_key}: the summary is the older upload's")
    assert problems == []


def test_lost_response_to_the_last_write_still_counts_as_results(
    tmp_path: Path, moto_endpoint: str
) -> None:
    """The manifest (summary) PUT lands but its response is lost; the retry meets our own
    object: a conditional write then fails, and must not turn into a skip or a failure."""
    stack, resources, s3, sqs = _provision(moto_endpoint)
    upload_bucket = _output_places(stack)[1][0]
    lost: set[str] = set()

    def lose_first_response(method: str, path: str) -> str | None:
        marker = path.endswith(("/manifest.json", ".csv.json"))
        if method == "PUT" and marker and path not in lost:
            lost.add(path)
            return "reset_after"
        return None

    events = [
        (
            IMAGE_FUNCTION,
            upload(s3, upload_bucket, "images/lost/a.png", _image((20, 20), (9, 9, 9))),
        ),
        (CSV_FUNCTION, upload(s3, upload_bucket, "csv/lost/a.csv", small_csv(random.Random(5), 4))),
    ]
    with FaultProxy(moto_endpoint, rate=0.0, forced=lose_first_response) as proxy:
        env = {"AWS_ENDPOINT_URL_S3": proxy.url}
        with warm_invokers(stack, resources, sqs, moto_endpoint, tmp_path, env=env) as pool:
            settled = deliver(pool, events)
    assert proxy.injected == {"forced_reset_after": 2}
    assert [(s.attempts, record_status(s)) for _, s in settled] == [(1, "results")] * 2


def test_newer_invalid_upload_leaves_no_older_manifest(tmp_path: Path, moto_endpoint: str) -> None:
    stack, resources, s3, sqs = _provision(moto_endpoint)
    upload_bucket, processed = _output_places(stack)[1][0], _output_places(stack)[0][0]
    key = "images/swap/logo.png"
    with warm_invokers(stack, resources, sqs, moto_endpoint, tmp_path) as pool:
        # Each event is handled before the next upload (an older event would otherwise be
        # skipped as stale: the key already holds the newer object).
        valid = upload(s3, upload_bucket, key, _image((40, 30), (1, 2, 3)))
        settled = deliver(pool, [(IMAGE_FUNCTION, valid)])
        invalid = upload(s3, upload_bucket, key, b"plain text now")
        settled += deliver(pool, [(IMAGE_FUNCTION, invalid)])
        settled += deliver(pool, [(IMAGE_FUNCTION, invalid)])  # the duplicate, afterwards
    assert [record_status(s) for _, s in settled][:2] == ["results", "error_report"]
    names = {
        obj["Key"].rsplit("/", 1)[1]
        for obj in s3.list_objects_v2(Bucket=processed, Prefix="swap/")["Contents"]
    }
    assert "error.json" in names
    assert record_status(settled[2][1]) == "skipped_duplicate"
    assert "manifest.json" not in names
