"""What the local pipeline reads from template.yaml, checked against the template itself,
and the S3 notifications it provisions from that reading."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from local_pipeline.emulator import Emulator, event_queue_name, provision
from local_pipeline.event_objects import StoredVersion, named_objects, with_versions
from local_pipeline.routing import (
    file_kind,
    plan_uploads,
    sample_for,
)
from stack_model.s3_filters import triggered_functions, upload_bucket
from stack_model.template import ROOT, Stack, TemplateError, load_stack
from tests.cfn import resources_of_type, sam_template


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    return sam_template()


@pytest.fixture(scope="module")
def local() -> Stack:
    return load_stack()


def test_functions_match_the_template(raw: dict[str, Any], local: Stack) -> None:
    declared = resources_of_type(raw, "AWS::Serverless::Function")
    assert {fn.logical_id for fn in local.functions()} == set(declared)
    global_env = raw["Globals"]["Function"]["Environment"]["Variables"]
    for fn in local.functions():
        props = declared[fn.logical_id]["Properties"]
        assert fn.handler == props["Handler"]
        assert fn.code_dir == ROOT / props["CodeUri"]
        assert (fn.code_dir / f"{fn.handler.split('.')[0]}.py").is_file()
        layer_ids = [layer["Ref"] for layer in props["Layers"]]
        assert fn.layer_dirs == tuple(
            ROOT / raw["Resources"][lid]["Properties"]["ContentUri"] for lid in layer_ids
        )
        assert set(fn.environment) == set(global_env) | set(props["Environment"]["Variables"])
        for name, value in props["Environment"]["Variables"].items():
            if isinstance(value, str):
                assert fn.environment[name] == value
            elif "Ref" in value:  # a parameter: its default, locally
                assert fn.environment[name] == str(raw["Parameters"][value["Ref"]]["Default"])
        assert fn.memory_mb == int(raw["Parameters"][props["MemorySize"]["Ref"]]["Default"])
        assert fn.timeout_s == props["Timeout"]
        invoke_config = props["EventInvokeConfig"]
        assert fn.max_retry_attempts == invoke_config["MaximumRetryAttempts"]
        assert fn.max_event_age_s == invoke_config["MaximumEventAgeInSeconds"]
        destination = invoke_config["DestinationConfig"]["OnFailure"]["Destination"]
        assert fn.on_failure_queue == destination["Fn::GetAtt"][0]
        assert raw["Resources"][fn.on_failure_queue]["Type"] == "AWS::SQS::Queue"


def test_s3_events_match_the_template(raw: dict[str, Any], local: Stack) -> None:
    declared = resources_of_type(raw, "AWS::Serverless::Function")
    for fn in local.functions():
        events = declared[fn.logical_id]["Properties"]["Events"]
        assert {e.name for e in fn.events} == set(events)
        for event in fn.events:
            props = events[event.name]["Properties"]
            assert event.bucket_logical_id == props["Bucket"]["Ref"]
            assert list(event.events) == [props["Events"]]
            rules = {r["Name"]: r["Value"] for r in props["Filter"]["S3Key"]["Rules"]}
            assert (event.prefix, event.suffix) == (
                rules.get("prefix", ""),
                rules.get("suffix", ""),
            )


def test_names_resolve_to_the_local_stack(local: Stack) -> None:
    buckets = {b.logical_id: b for b in local.buckets()}
    assert buckets["UploadBucket"].name == "local-upload-123456789012-us-east-1"
    assert buckets["ProcessedBucket"].name == "local-processed-123456789012-us-east-1"
    assert all(b.versioned for b in buckets.values())
    image = local.function("ImageProcessorFunction")
    assert image.name == "local-image-processor"
    assert image.environment["PROCESSED_BUCKET"] == buckets["ProcessedBucket"].name
    assert image.environment["POWERTOOLS_METRICS_NAMESPACE"] == "S3EventPipeline/local"


def test_parameter_overrides_reach_the_environment() -> None:
    stack = load_stack(parameter_overrides={"ThumbnailSize": "128"})
    assert stack.function("ImageProcessorFunction").environment["THUMBNAIL_SIZE"] == "128"


def test_rollout_settings_are_accepted_and_need_no_local_stand_in(local: Stack) -> None:
    """The alias, CodeDeploy and provisioned concurrency exist only in AWS: locally the
    same two functions run, whatever the deployment parameters say."""
    stack = load_stack(
        parameter_overrides={
            "DeploymentType": "Canary10Percent10Minutes",
            "RollbackAlarms": "Disabled",
            "ImageProvisionedConcurrency": "2",
        }
    )
    assert stack.functions() == local.functions()
    with pytest.raises(TemplateError) as error:
        load_stack(parameter_overrides={"DeploymentType": "Canary50Percent1Minute"})
    assert str(error.value).startswith(
        "parameter DeploymentType='Canary50Percent1Minute' must be one of: AllAtOnce, "
    )


@pytest.mark.parametrize(
    ("key", "functions"),
    [
        ("images/a/b/cat.jpg", ("ImageProcessorFunction",)),
        ("images/no-extension", ("ImageProcessorFunction",)),
        ("csv/2026/sales.csv", ("CsvSummarizerFunction",)),
        ("csv/sales.csv.gz", ("CsvSummarizerFunction",)),
        ("csv/notes.txt", ()),
        ("summaries/sales.csv.json", ()),  # outputs never trigger anything: no recursion
        ("sales.csv", ()),
    ],
)
def test_routing_follows_the_template_filters(
    local: Stack, key: str, functions: tuple[str, ...]
) -> None:
    bucket = upload_bucket(local)
    assert bucket.logical_id == "UploadBucket"
    assert triggered_functions(local.functions(), bucket.logical_id, key) == functions
    assert triggered_functions(local.functions(), "ProcessedBucket", key) == ()


def test_samples_cover_every_route_and_event_key() -> None:
    samples = ROOT / "samples"
    assert sum(p.stat().st_size for p in samples.iterdir()) < 200_000
    kinds = {p.name: file_kind(p) for p in samples.iterdir()}
    assert kinds["photo-rotated.jpg"] == kinds["logo-transparent.png"] == "image"
    assert kinds["not-an-image.jpg"] == "image"  # by its name: it shows an error report
    assert kinds["sales.csv"] == "csv"
    assert sample_for("images/photo-rotated.jpg") == samples / "photo-rotated.jpg"
    assert sample_for("images/holiday photos/café ☀.jpg") == samples / "photo-rotated.jpg"
    assert sample_for("images/other.png") == samples / "logo-transparent.png"
    assert sample_for("csv/quarterly report 2026.csv") == samples / "sales.csv"


def test_provisioned_notifications_mirror_the_template(local: Stack) -> None:
    with Emulator() as emulator:
        s3, sqs = emulator.client("s3"), emulator.client("sqs")
        deployment = provision(local, s3, sqs)
        upload = deployment.buckets["UploadBucket"].name
        config = s3.get_bucket_notification_configuration(Bucket=upload)
        versioning = s3.get_bucket_versioning(Bucket=upload)
        processed = s3.get_bucket_notification_configuration(
            Bucket=deployment.buckets["ProcessedBucket"].name
        )
        queues = {url.rsplit("/", 1)[1] for url in sqs.list_queues()["QueueUrls"]}
    assert versioning["Status"] == "Enabled"
    assert "QueueConfigurations" not in processed
    provisioned = {
        c["Id"]: (
            c["QueueArn"].rsplit(":", 1)[1],
            c["Events"],
            {r["Name"].lower(): r["Value"] for r in c["Filter"]["Key"]["FilterRules"]},
        )
        for c in config["QueueConfigurations"]
    }
    expected = {
        f"{fn.logical_id}-{event.name}": (
            event_queue_name(local, fn.logical_id),
            list(event.events),
            {k: v for k, v in (("prefix", event.prefix), ("suffix", event.suffix)) if v},
        )
        for fn in local.functions()
        for event in fn.events
    }
    assert provisioned == expected
    failure_queues = {
        local.physical_name(fn.on_failure_queue) for fn in local.functions() if fn.on_failure_queue
    }
    assert failure_queues <= queues


def test_unrouted_files_are_reported(tmp_path: Path, local: Stack) -> None:
    (tmp_path / "readme.txt").write_text("hello")
    (tmp_path / "photo.jpeg").write_bytes(b"\xff\xd8\xff\xe0not really")
    plan = plan_uploads([tmp_path], local)
    assert [(u.key, u.functions) for u in plan.uploads] == [
        ("images/photo.jpeg", ("ImageProcessorFunction",))
    ]
    assert plan.unrouted == [tmp_path / "readme.txt"]
    forced = plan_uploads([tmp_path / "readme.txt"], local, prefix="csv").uploads
    assert [(u.key, u.functions) for u in forced] == [("csv/readme.txt", ())]


def test_the_runs_own_output_folder_is_never_an_input(tmp_path: Path, local: Stack) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "out" / "upload" / "summaries").mkdir(parents=True)
    (tmp_path / "out" / "upload" / "summaries" / "a.csv").write_text("x\n1\n")
    plan = plan_uploads([tmp_path], local, excluded=[tmp_path / "out"])
    assert [u.key for u in plan.uploads] == ["csv/a.csv"]


def test_an_unreadable_file_is_an_input_that_failed_not_a_crash(
    tmp_path: Path, local: Stack
) -> None:
    (tmp_path / "good.csv").write_text("x\n1\n")
    (tmp_path / "gone.csv").symlink_to(tmp_path / "nowhere.csv")
    os.mkfifo(tmp_path / "pipe.csv")  # opening it would block the run forever
    plan = plan_uploads([tmp_path], local)
    by_key = {u.key: u for u in plan.uploads}
    assert by_key["csv/good.csv"].not_uploaded is None
    assert by_key["gone.csv"].not_uploaded == (
        f"cannot read {tmp_path / 'gone.csv'}: No such file or directory"
    )
    assert by_key["pipe.csv"].not_uploaded == (
        f"cannot read {tmp_path / 'pipe.csv'}: not a regular file"
    )
    forced = plan_uploads([tmp_path / "pipe.csv"], local, prefix="csv").uploads
    assert forced[0].not_uploaded == f"cannot read {tmp_path / 'pipe.csv'}: not a regular file"


def test_invoke_reads_events_with_the_handlers_parser_sns_in_sqs_included():

    s3_event = json.loads((ROOT / "events" / "image_put.json").read_text())
    sns = {"Type": "Notification", "Message": json.dumps(s3_event)}
    event = {"Records": [{"eventSource": "aws:sqs", "body": json.dumps(sns)}]}
    bucket = "local-upload-123456789012-us-east-1"
    assert named_objects(event) == [(bucket, "images/photo-rotated.jpg")]

    seeded = {(bucket, "images/photo-rotated.jpg"): StoredVersion("v9", "e9", 9)}
    rewritten = json.loads(
        json.loads(with_versions(event, seeded)["Records"][0]["body"])["Message"]
    )
    obj = rewritten["Records"][0]["s3"]["object"]
    assert (obj["versionId"], obj["eTag"], obj["size"]) == ("v9", "e9", 9)
