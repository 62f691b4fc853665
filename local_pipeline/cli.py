"""Command line: ``run`` the pipeline on files, ``serve`` it, or ``invoke`` one function.

bin/local-pipeline run PATH... [--out DIR] [--report FILE] [--endpoint-url URL]
bin/local-pipeline serve [--port N]
bin/local-pipeline invoke FUNCTION -e events/x.json
bin/local-pipeline backfill --endpoint-url URL [--prefix P] (see backfill.py)

``bin/local-pipeline`` runs ``python -m local_pipeline`` with the project's venv.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline import (
    STOP_SIGNALS,
    Interrupted,
    UsageError,
    backfill,
    exit_status,
    reports_uninterrupted,
    run_folder,
    stop_reason,
)
from local_pipeline.dispatch import (
    INIT_TIMEOUT_S,
    AsyncInvoker,
    Dispatcher,
    FunctionSandbox,
    Settlement,
    env_overrides,
    sandbox_config,
)
from local_pipeline.emulator import (
    Deployment,
    Emulator,
    EmulatorError,
    admitted,
    other_consumer,
    provision,
)
from local_pipeline.event_objects import StoredVersion, named_objects, with_versions
from local_pipeline.live_results import LivePage, LiveResults, LiveRun
from local_pipeline.report import (
    FAILED,
    UNFINISHED,
    Progress,
    bucket_folder,
    format_table,
)
from local_pipeline.routing import (
    Upload,
    plan_uploads,
    sample_for,
)
from local_pipeline.transfer import upload_file
from local_pipeline.upload_watch import UploadWatch
from stack_model.s3_filters import upload_bucket
from stack_model.template import Stack, TemplateError, load_stack


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _stopping.clear()
    previous = {signum: signal.signal(signum, _interrupt) for signum in STOP_SIGNALS}
    try:
        stack = load_stack(parameter_overrides=_parameter_overrides(args.parameter_overrides))
        env_vars = _read_env_vars(args.env_vars)
        return int(args.command(args, stack, env_vars))
    except (UsageError, TemplateError, EmulatorError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        print(f"\n{stop_reason(stop)}", file=sys.stderr)
        return exit_status(stop)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


_stopping = threading.Event()


def _interrupt(signum: int, _frame: object) -> None:
    """SIGTERM stops a command as Ctrl-C does. Installed whatever we inherited: a script's
    background job starts with SIGINT ignored, and `kill -INT` must still stop it.

    The first one says at once what the stop waits for, so that nobody presses again
    in the silence; a second one stops the waiting."""
    stop = Interrupted(signum)
    if not _stopping.is_set():
        _stopping.set()
        print(
            f"\n{stop.reason}: stopping. Work in flight is abandoned; what settled is on disk "
            "already, and the report is being written. Press Ctrl-C again to quit at once.",
            file=sys.stderr,
            flush=True,
        )
    raise stop


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bin/local-pipeline",
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
    serve.add_argument(
        "--out", type=Path, default=Path("out"), help="where the results page and its files go"
    )
    serve.set_defaults(command=serve_command)

    invoke = commands.add_parser(
        "invoke", parents=[common], help="invoke one function with an event (sam local invoke)"
    )
    invoke.add_argument("function", metavar="FUNCTION", help="logical id in template.yaml")
    invoke.add_argument("-e", "--event", type=Path, required=True, help="event JSON file")
    invoke.add_argument(
        "--seed-missing",
        action="store_true",
        help="with --endpoint-url: upload a sample from samples/ for each object the event "
        "names that is missing there (the emulator `invoke` starts itself is always seeded)",
    )
    invoke.set_defaults(command=invoke_command)

    backfill.add_parser(commands, common)
    return parser


def _parameter_overrides(text: str) -> dict[str, str]:
    overrides = {}
    for item in text.split():
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise UsageError(f"--parameter-overrides: {item!r} is not Key=Value")
        overrides[name] = value
    return overrides


def _read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{what} {path}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {path}: is a folder, not a JSON file") from None
    except OSError as error:
        raise UsageError(f"{what} {path}: cannot read it ({error.strerror})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UsageError(f"{what} {path}: not JSON ({error})") from None


def _read_env_vars(path: Path | None) -> dict[str, dict[str, Any]]:
    if path is None:
        return {}
    env_vars = _read_json(path, "--env-vars")
    shape = '{"FunctionId": {"VAR": "value"}, "Parameters": {"VAR": "value"}}'
    if not isinstance(env_vars, dict) or not all(
        isinstance(value, dict) for value in env_vars.values()
    ):
        raise UsageError(f"--env-vars {path}: expected an object like {shape}")
    return env_vars


def _shown(path: Path) -> Path:
    """The path relative to the working directory when it is below it."""
    return path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path


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
            stack, spec, emulator.endpoint_url, env_overrides(env_vars, spec.logical_id), log_file
        )
        failure_queue = deployment.failure_queues.get(spec.logical_id)
        invokers[spec.logical_id] = AsyncInvoker(
            stack, FunctionSandbox(spec, config), sqs, failure_queue
        )
    s3 = emulator.client("s3")
    return Dispatcher(
        invokers, deployment.event_queues, sqs, on_settled, lambda event: admitted(event, s3)
    )


# ---------------------------------------------------------------- run
def _check_run_arguments(args: argparse.Namespace) -> None:
    """Refuse, before anything starts, what would fail later or lose the report. Nothing
    is created yet: a run that fails before its first event leaves every folder as it was."""
    seen: dict[Path, Path] = {}
    for path in args.paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or folder")
        if not os.access(path, os.R_OK):
            raise UsageError(f"{path}: not readable")
        resolved = path.resolve()
        if resolved in seen:
            raise UsageError(f"{path} is given twice (also as {seen[resolved]})")
        for other, given in seen.items():
            if resolved.is_relative_to(other) or other.is_relative_to(resolved):
                raise UsageError(f"{path} and {given} overlap: give one of them")
        seen[resolved] = path
    run_folder.check_writable(args.out)
    if args.report is not None:
        if args.report.is_dir():
            raise UsageError(f"--report {args.report}: is a folder; give a file, e.g. report.json")
        if args.report.parent.exists() and not args.report.parent.is_dir():
            raise UsageError(f"--report {args.report}: {args.report.parent} is a file")
        run_folder.check_writable(args.report.parent, "--report")


def _refuse_if_consumed(sqs: Any, deployment: Deployment, endpoint: str) -> None:
    for function, queue_url in deployment.event_queues.items():
        if other_consumer(sqs, queue_url):
            raise UsageError(
                f"another process (a `serve`?) already consumes the events of {function} at "
                f"{endpoint}; upload to it directly, or stop it before `run --endpoint-url`"
            )


def _plan(args: argparse.Namespace, stack: Stack) -> list[Upload]:
    """The uploads of a run, each file that is left out named on one line."""
    try:
        plan = plan_uploads(args.paths, stack, args.prefix, excluded=[args.out])
    except ValueError as error:
        raise UsageError(str(error)) from None
    for folder in plan.run_folders:
        print(f"not uploaded: {folder}/ holds the outputs of an earlier run")
    for path in plan.unrouted:
        print(f"not uploaded: {path} is neither an image nor a CSV (--prefix uploads anything)")
    for upload in plan.uploads:
        if upload.not_uploaded:
            print(f"not uploaded: {upload.not_uploaded}")
        elif not upload.functions:
            print(f"note: no S3 event of the template fires for {upload.key}; nothing to wait for")
    return plan.uploads


def run_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    _check_run_arguments(args)
    uploads = _plan(args, stack)
    if not uploads:
        print("nothing to upload")
        return 2
    bucket = upload_bucket(stack)
    progress = Progress([u for u in uploads if not u.not_uploaded], bucket.name)
    not_settled_because = f"no event settled within {_idle_timeout_s(stack):.0f} s"
    stopped: str | None = None  # why the run ended early, if it did
    stopped_status = 1
    live: LiveRun | None = None
    try:
        with Emulator(args.endpoint_url, stack.region) as emulator:
            s3, sqs = emulator.client("s3"), emulator.client("sqs")
            deployment = provision(stack, s3, sqs)
            if args.endpoint_url:
                _refuse_if_consumed(sqs, deployment, emulator.endpoint_url)
            # The run has got going: --out becomes this run's, as a whole.
            folders = [bucket_folder(b) for b in deployment.buckets.values()]
            run_folder.start(args.out, folders, [args.report] if args.report else [])
            logs_dir = args.out / run_folder.LOGS
            logs_dir.mkdir()
            for spec in stack.functions():
                (logs_dir / f"{spec.logical_id}.log").write_text("")
            results = LiveResults(s3, list(deployment.buckets.values()), args.out)
            live = LiveRun(args.out, args.report, uploads, bucket.name, progress, results)
            print(
                f"S3 emulator at {emulator.endpoint_url}; "
                f"{len(progress.expected)} events expected from s3://{bucket.name}/"
            )
            with _dispatcher(stack, deployment, emulator, env_vars, live.settle, logs_dir):
                for index, upload in enumerate(uploads):
                    if not upload.not_uploaded:
                        uploads[index] = _upload(s3, bucket.name, upload, progress)
                if not progress.wait(_idle_timeout_s(stack)):
                    print("some events never settled; they are reported as not_settled")
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: the sandboxes are killed already
        if live is None:
            raise
        stopped = not_settled_because = f"{stop_reason(stop)} before it settled"
        stopped_status = exit_status(stop)
    except (UsageError, EmulatorError):
        raise
    except Exception as error:  # the report must still be written: say why, keep going
        if live is None:  # before the first event: one line, and --out as it was
            raise UsageError(f"the endpoint cannot hold the stack: {error}") from None
        stopped = f"the run stopped: {type(error).__name__}: {error}"
        not_settled_because = stopped
    return _finish_run(live, stopped, not_settled_because, stopped_status)


def _upload(s3: Any, bucket: str, upload: Upload, progress: Progress) -> Upload:
    """Upload one file; a file that cannot be read or sent fails alone, the others go on."""
    try:
        upload_file(s3, upload.path, bucket, upload.key)
        return upload
    except (OSError, BotoCoreError, ClientError, S3UploadFailedError) as error:
        progress.forget(bucket, upload.key)
        reason = f"upload of {upload.path} failed: {error}"
        print(f"not uploaded: {reason}")
        return replace(upload, not_uploaded=reason)


def _finish_run(
    live: LiveRun, stopped: str | None, not_settled_because: str, stopped_status: int
) -> int:
    with reports_uninterrupted():
        reports = live.close(not_settled_because)
        print()
        print(format_table(reports))
    print(f"\nOutputs: {live.out}/ (variants under processed/, summaries under upload/)")
    logs = live.out / run_folder.LOGS
    print(f"Handler logs: {logs}/" + (f"   Report: {live.report}" if live.report else ""))
    print(f"Results page: {live.out / run_folder.PAGE}")
    unfinished = [report for report in reports if report.outcome in UNFINISHED]
    if stopped:
        print(f"error: {stopped}; the report lists every input", file=sys.stderr)
        return stopped_status
    failed = sum(report.outcome == FAILED for report in unfinished)
    if failed:
        print(f"{failed} event(s) ended in the on-failure queue after the template's retries")
    if len(unfinished) > failed:
        print(f"{len(unfinished) - failed} input(s) were not uploaded or never settled")
    return 1 if unfinished else 0


# ---------------------------------------------------------------- serve
def serve_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    run_folder.check_writable(args.out)
    with Emulator(args.endpoint_url, stack.region, args.port) as emulator:
        s3 = emulator.client("s3")
        sqs = emulator.client("sqs")
        listened = upload_bucket(stack)
        deployment = provision(stack, s3, sqs, watched_bucket=listened.logical_id)
        folders = [bucket_folder(b) for b in deployment.buckets.values()]
        run_folder.start(args.out, folders)  # the server runs: --out becomes this one's
        page = LivePage(s3, list(deployment.buckets.values()), args.out)
        assert deployment.upload_queue is not None  # asked for with watched_bucket
        watch = UploadWatch(
            stack, listened, deployment.upload_queue, s3, sqs, lambda line: print(line, flush=True)
        )
        with _dispatcher(stack, deployment, emulator, env_vars, page.settle, None), watch:
            _print_banner(stack, deployment, emulator.endpoint_url)
            print(f"Results page (updated as events settle): {page.path}\n", flush=True)
            # Explicit handlers: a shell may start us with SIGINT ignored, and TERM should
            # stop as cleanly as Ctrl-C.
            stop = threading.Event()
            for stop_signal in (signal.SIGINT, signal.SIGTERM):
                signal.signal(stop_signal, lambda *_: stop.set())
            stop.wait()
            print("\nstopping...")
    print("stopped")
    return 0


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
    event = _read_json(path, "event file")
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
        print(f"seeded s3://{bucket}/{key} from {_shown(sample)}", file=sys.stderr)
    return with_versions(event, seeded) if seeded else event
