"""``invoke``: one function, one event file, as ``sam local invoke -e`` runs it.

Without ``--endpoint-url`` the emulator is filled with a sample for each object the event
names, and the event is pointed at the version seeded.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from pathlib import Path
from typing import Any

from local_pipeline import UsageError
from local_pipeline.arguments import read_json, shown
from local_pipeline.dispatch import FunctionSandbox, env_overrides, sandbox_config
from local_pipeline.emulator import Emulator, provision
from local_pipeline.event_objects import StoredVersion, named_objects, with_versions
from local_pipeline.routing import sample_for
from stack_model.template import Stack


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "invoke", parents=[common], help="invoke one function with an event (sam local invoke)"
    )
    parser.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml")
    parser.add_argument("-e", "--event", type=Path, required=True, help="event JSON file")
    parser.add_argument(
        "--seed-missing",
        action="store_true",
        help="with --endpoint-url: upload a sample from samples/ for each object the event "
        "names that is missing there (the emulator `invoke` starts itself is always seeded)",
    )
    parser.set_defaults(command=invoke_command)


def invoke_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    try:
        spec = stack.function(args.function)
    except KeyError:
        names = ", ".join(fn.logical_id for fn in stack.functions())
        print(f"no function {args.function!r} in template.yaml; choose one of {names}")
        return 2
    event = _read_event(args.event)
    with Emulator(args.endpoint_url, stack.region) as emulator:
        s3 = emulator.client("s3")
        # Only an emulator of our own is filled in: at the user's endpoint the handler meets
        # what is there, as on AWS (a missing object is source_missing), unless asked.
        if not args.endpoint_url or args.seed_missing:
            provision(stack, s3, emulator.client("sqs"), notifications=False)
            event = seed_missing_objects(event, s3)
        env = env_overrides(env_vars, spec.logical_id)
        config = sandbox_config(stack, spec, emulator.endpoint_url, env, logs_to_stderr=True)
        sandbox = FunctionSandbox(spec, config)
        sandbox.start()
        try:
            result = sandbox.invoke(event, str(uuid.uuid4()))
        finally:
            sandbox.stop()
    print(json.dumps(result.payload, indent=2, ensure_ascii=False))
    return 0 if result.ok else 1


def _read_event(path: Path) -> dict[str, Any]:
    """The event file: any JSON object goes to the handler as it is, as with sam local invoke,
    so that the handler's own answer to a malformed event can be seen."""
    event = read_json(path, "event file")
    if not isinstance(event, dict):
        expected = (
            "an S3 event, an S3 event in SQS, EventBridge 'Object Created', "
            "or an S3 Batch Operations event"
        )
        raise UsageError(f"event file {path}: a JSON {type(event).__name__}, expected {expected}")
    return event


def seed_missing_objects(event: dict[str, Any], s3: Any) -> dict[str, Any]:
    """Upload a sample for each object the event names that is not there yet.

    The event is then pointed at the seeded object (version id, ETag, size), so that the
    handler fetches what is really in the bucket.
    """
    seeded = {}
    try:
        objects = named_objects(event)
    except ValueError:  # EventShapeError: the handler says what is wrong with it
        return event
    for bucket, key in objects:
        try:
            s3.head_object(Bucket=bucket, Key=key)
            continue
        except s3.exceptions.ClientError:
            pass
        sample = sample_for(key)
        if sample is None:
            print(f"s3://{bucket}/{key} is missing and no sample fits it", file=sys.stderr)
            continue
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
        body = sample.read_bytes()
        put = s3.put_object(Bucket=bucket, Key=key, Body=body)
        seeded[(bucket, key)] = StoredVersion(
            put.get("VersionId"), put["ETag"].strip('"'), len(body)
        )
        print(f"seeded s3://{bucket}/{key} from {shown(sample)}", file=sys.stderr)
    return with_versions(event, seeded) if seeded else event
