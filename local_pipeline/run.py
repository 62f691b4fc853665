"""``run``: upload files to the local stack, wait for every event to settle, download the
outputs, and report each input (on screen, on the results page, and as JSON with --report).
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline import UsageError, exit_status, reports_uninterrupted, run_folder, stop_reason
from local_pipeline.deployed_functions import dispatcher
from local_pipeline.dispatch import INIT_TIMEOUT_S
from local_pipeline.emulator import (
    EmulatedResources,
    Emulator,
    EmulatorError,
    other_consumer,
    provision,
)
from local_pipeline.live_results import LiveResults, LiveRun
from local_pipeline.report import FAILED, UNFINISHED, Progress, bucket_folder, format_table
from local_pipeline.routing import Upload, plan_uploads
from local_pipeline.transfer import upload_file
from stack_model.s3_filters import upload_bucket
from stack_model.template import Stack


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "run", parents=[common], help="upload files, wait, download outputs"
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    parser.add_argument("--out", type=Path, default=Path("out"), help="where outputs go (out/)")
    parser.add_argument("--report", type=Path, help="also write the results as JSON here")
    parser.add_argument("--prefix", help="upload every file under this key prefix (no routing)")
    parser.set_defaults(command=run_command)


def idle_timeout_s(stack: Stack) -> float:
    """Longest an event may take to settle: every attempt timing out, plus a cold start."""
    slowest = max(fn.timeout_s * (1 + fn.max_retry_attempts) for fn in stack.functions())
    return slowest + INIT_TIMEOUT_S


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


def _refuse_if_consumed(sqs: Any, resources: EmulatedResources, endpoint: str) -> None:
    for function, queue_url in resources.event_queues.items():
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
    not_settled_because = f"no event settled within {idle_timeout_s(stack):.0f} s"
    stopped: str | None = None  # why the run ended early, if it did
    stopped_status = 1
    live: LiveRun | None = None
    try:
        with Emulator(args.endpoint_url, stack.region) as emulator:
            s3, sqs = emulator.client("s3"), emulator.client("sqs")
            resources = provision(stack, s3, sqs)
            if args.endpoint_url:
                _refuse_if_consumed(sqs, resources, emulator.endpoint_url)
            # The run has got going: --out becomes this run's, as a whole.
            folders = [bucket_folder(b) for b in resources.buckets.values()]
            run_folder.start(args.out, folders, [args.report] if args.report else [])
            logs_dir = args.out / run_folder.LOGS
            logs_dir.mkdir()
            for spec in stack.functions():
                (logs_dir / f"{spec.logical_id}.log").write_text("")
            results = LiveResults(s3, list(resources.buckets.values()), args.out)
            live = LiveRun(args.out, args.report, uploads, bucket.name, progress, results)
            print(
                f"S3 emulator at {emulator.endpoint_url}; "
                f"{len(progress.expected)} events expected from s3://{bucket.name}/"
            )
            with dispatcher(stack, resources, emulator, env_vars, live.settle, logs_dir):
                for index, upload in enumerate(uploads):
                    if not upload.not_uploaded:
                        uploads[index] = _upload(s3, bucket.name, upload, progress)
                if not progress.wait(idle_timeout_s(stack)):
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
