"""Command line: ``run`` the pipeline on files, ``serve`` it, or ``invoke`` one function.

python -m local_pipeline run PATH... [--out DIR] [--report FILE] [--endpoint-url URL]
python -m local_pipeline serve [--port N]
python -m local_pipeline invoke FUNCTION -e events/x.json
python -m local_pipeline backfill [--endpoint-url URL | --stack-name NAME] (see backfill.py)
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from local_pipeline import backfill
from local_pipeline.dispatch import (
    INIT_TIMEOUT_S,
    AsyncInvoker,
    Dispatcher,
    FunctionSandbox,
    Settlement,
    sandbox_config,
)
from local_pipeline.emulator import Deployment, Emulator, provision
from local_pipeline.report import (
    FAILED,
    Progress,
    download_outputs,
    format_table,
    input_reports,
    record_outcome,
    write_report,
)
from local_pipeline.routing import (
    named_objects,
    plan_uploads,
    sample_for,
    upload_bucket,
    with_identities,
)
from local_pipeline.template import Stack, load_stack


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    stack = load_stack(parameter_overrides=_parameter_overrides(args.parameter_overrides))
    env_vars = json.loads(args.env_vars.read_text()) if args.env_vars else {}
    return int(args.command(args, stack, env_vars))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_pipeline",
        description="Run the stack's real handlers locally: no Docker, no AWS account.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--endpoint-url", help="use this S3/SQS endpoint instead of starting moto's server"
    )
    common.add_argument(
        "--env-vars",
        type=Path,
        help='JSON of environment overrides, as for sam local invoke: {"FunctionId": {"VAR": '
        '"value"}, "Parameters": {"VAR": "value"}} (Parameters apply to every function)',
    )
    common.add_argument(
        "--parameter-overrides", default="", help="template parameters: 'Key=Value Key2=Value2'"
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", parents=[common], help="upload files, wait, download outputs")
    run.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    run.add_argument("--out", type=Path, default=Path("out"), help="where outputs go (out/)")
    run.add_argument("--report", type=Path, help="also write the results as JSON here")
    run.add_argument("--prefix", help="upload every file under this key prefix (no routing)")
    run.set_defaults(command=run_command)

    serve = commands.add_parser("serve", parents=[common], help="keep the pipeline running")
    serve.add_argument("--port", type=int, default=0, help="emulator port (default: a free one)")
    serve.set_defaults(command=serve_command)

    invoke = commands.add_parser(
        "invoke", parents=[common], help="invoke one function with an event (sam local invoke)"
    )
    invoke.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml")
    invoke.add_argument("-e", "--event", type=Path, required=True, help="event JSON file")
    invoke.set_defaults(command=invoke_command)

    backfill.add_parser(commands, common)
    return parser


def _parameter_overrides(text: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in text.split())


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is below it."""
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


def _env_overrides(env_vars: dict[str, Any], logical_id: str) -> dict[str, str]:
    merged = {**env_vars.get("Parameters", {}), **env_vars.get(logical_id, {})}
    return {name: str(value) for name, value in merged.items()}


def _idle_timeout_s(stack: Stack) -> float:
    """Longest an event may take to settle: every attempt timing out, plus a cold start."""
    slowest = max(fn.timeout_s * (1 + fn.max_retry_attempts) for fn in stack.functions())
    return slowest + INIT_TIMEOUT_S


def _dispatcher(
    stack: Stack,
    deployment: Deployment,
    emulator: Emulator,
    env_vars: dict[str, Any],
    on_settled: Callable[[Settlement], None],
    logs_dir: Path | None,
) -> Dispatcher:
    sqs = emulator.client("sqs")
    invokers = {}
    for spec in stack.functions():
        log_file = logs_dir / f"{spec.logical_id}.log" if logs_dir else None
        config = sandbox_config(
            stack, spec, emulator.endpoint_url, _env_overrides(env_vars, spec.logical_id), log_file
        )
        failure_queue = deployment.failure_queues.get(spec.logical_id)
        invokers[spec.logical_id] = AsyncInvoker(
            stack, FunctionSandbox(spec, config), sqs, failure_queue
        )
    return Dispatcher(invokers, deployment.event_queues, sqs, on_settled)


# ---------------------------------------------------------------- run
def run_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    uploads, unrouted = plan_uploads(args.paths, stack, args.prefix)
    for path in unrouted:
        print(f"not uploaded: {path} is neither an image nor a CSV (--prefix uploads anything)")
    for upload in uploads:
        if not upload.functions:
            print(f"note: no S3 event of the template fires for {upload.key}; nothing to wait for")
    if not uploads:
        print("nothing to upload")
        return 2
    bucket = upload_bucket(stack)
    logs_dir = args.out / "logs"
    logs_dir.mkdir(parents=True, exist_ok=True)
    for spec in stack.functions():
        (logs_dir / f"{spec.logical_id}.log").write_text("")

    with Emulator(args.endpoint_url, stack.region) as emulator:
        s3 = emulator.client("s3")
        deployment = provision(stack, s3, emulator.client("sqs"))
        progress = Progress(uploads, bucket.name)
        print(
            f"S3 emulator at {emulator.endpoint_url}; {len(uploads)} uploads to s3://{bucket.name}/"
        )
        with _dispatcher(stack, deployment, emulator, env_vars, progress.settle, logs_dir):
            for upload in uploads:
                s3.upload_file(str(upload.path), bucket.name, upload.key)
            if not progress.wait(_idle_timeout_s(stack)):
                print("some events never settled; they are reported as failed")
        inputs = {(bucket.name, upload.key) for upload in uploads}
        local = download_outputs(s3, list(deployment.buckets.values()), inputs, args.out)

    reports = input_reports(uploads, bucket.name, progress.settled, local)
    print()
    print(format_table(reports))
    if args.report:
        write_report(reports, args.report)
    failed = sum(report.outcome == FAILED for report in reports)
    print(f"\nOutputs: {args.out}/ (variants under processed/, summaries under upload/)")
    print(f"Handler logs: {logs_dir}/" + (f"   Report: {args.report}" if args.report else ""))
    if failed:
        print(f"{failed} event(s) ended in the on-failure queue after the template's retries")
        return 1
    return 0


# ---------------------------------------------------------------- serve
def serve_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    with Emulator(args.endpoint_url, stack.region, args.port) as emulator:
        deployment = provision(stack, emulator.client("s3"), emulator.client("sqs"))
        with _dispatcher(stack, deployment, emulator, env_vars, _print_settlement, None):
            _print_banner(stack, deployment, emulator.endpoint_url)
            # Explicit handlers: a shell may start us with SIGINT ignored, and TERM should
            # stop as cleanly as Ctrl-C.
            stop = threading.Event()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop_signal, lambda *_: stop.set())
            stop.wait()
            print("\nstopping...")
    print("stopped")
    return 0


def _print_settlement(settlement: Settlement) -> None:
    if not named_objects(settlement.event):  # s3:TestEvent, sent when notifications are set
        state = "returned" if settlement.succeeded else "failed"
        print(f">> {settlement.function} s3:TestEvent: {state}", flush=True)
    for _, key in named_objects(settlement.event):
        outcome, outputs, error = record_outcome(settlement, key)
        line = f">> {settlement.function} {key}: {outcome}, {len(outputs)} outputs, "
        line += f"{settlement.duration_ms:.0f} ms, {settlement.attempts} attempt(s)"
        if outcome == FAILED:
            line += f"; sent to the on-failure queue: {error}"
        print(line, flush=True)


def _print_banner(stack: Stack, deployment: Deployment, endpoint: str) -> None:
    upload = upload_bucket(stack)
    print(f"Local pipeline at {endpoint} (Ctrl-C to stop)")
    for bucket in deployment.buckets.values():
        print(f"  {bucket.logical_id:<16} s3://{bucket.name}")
    for spec in stack.functions():
        filters = ", ".join(f"{e.prefix}*{e.suffix}" for e in spec.events)
        print(f"  {spec.logical_id:<24} fires on {filters}")
    for logical_id, url in deployment.failure_queues.items():
        print(f"  on-failure queue of {logical_id}: {url}")
    image, csv = sample_for("images/photo.jpg"), sample_for("csv/table.csv")
    image_path = _shown(image) if image else Path("photo.jpg")
    csv_path = _shown(csv) if csv else Path("table.csv")
    cli = f"aws --endpoint-url {endpoint} --region {stack.region}"
    print(
        f"""
Upload with the AWS CLI (any credentials work):
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  {cli} s3 cp {image_path} s3://{upload.name}/images/{image_path.name}
  {cli} s3 cp {csv_path} s3://{upload.name}/csv/{csv_path.name}
  {cli} s3 ls --recursive s3://{upload.name}/summaries/

or with boto3:
  import boto3
  s3 = boto3.client("s3", endpoint_url="{endpoint}", region_name="{stack.region}",
                    aws_access_key_id="testing", aws_secret_access_key="testing")
  s3.upload_file("{image_path}", "{upload.name}", "images/{image_path.name}")

Handler logs follow.
""",
        flush=True,
    )


# ---------------------------------------------------------------- invoke
def invoke_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    try:
        spec = stack.function(args.function)
    except KeyError:
        names = ", ".join(fn.logical_id for fn in stack.functions())
        print(f"no function {args.function!r} in template.yaml; choose one of {names}")
        return 2
    event = json.loads(args.event.read_text(encoding="utf-8"))
    with Emulator(args.endpoint_url, stack.region) as emulator:
        s3 = emulator.client("s3")
        provision(stack, s3, emulator.client("sqs"), notifications=False)
        event = seed_missing_objects(event, s3)
        env = _env_overrides(env_vars, spec.logical_id)
        config = sandbox_config(stack, spec, emulator.endpoint_url, env, logs_to_stderr=True)
        sandbox = FunctionSandbox(spec, config)
        sandbox.start()
        try:
            result = sandbox.invoke(event, str(uuid.uuid4()))
        finally:
            sandbox.stop()
    print(json.dumps(result.payload, indent=2, ensure_ascii=False))
    return 0 if result.ok else 1


def seed_missing_objects(event: dict[str, Any], s3: Any) -> dict[str, Any]:
    """Upload a sample for each object the event names that is not there yet.

    The event is then pointed at the seeded object (version id, ETag, size), so that the
    handler fetches what is really in the bucket.
    """
    identities = {}
    for bucket, key in named_objects(event):
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
        identities[(bucket, key)] = {
            "version_id": put.get("VersionId"),
            "etag": put["ETag"].strip('"'),
            "size": len(body),
        }
        print(f"seeded s3://{bucket}/{key} from {_shown(sample)}", file=sys.stderr)
    return with_identities(event, identities) if identities else event
