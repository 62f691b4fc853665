"""``backfill``: an S3 Batch Operations job that invokes Lambda, run on the emulator.

Objects uploaded before the stack existed never produced an event. On AWS, ``python -m
operations backfill`` makes S3 Batch Operations process them; this is its local stand-in,
running the same kind of job through the real handlers:

- the manifest: the current version of every object under the prefix in the upload bucket
  (optionally created before a date), each routed by the template's S3 filters
  (``s3_filters.triggered_functions``, as for ``run``); keys no filter matches are left out;
- the tasks: events of invocation schema 2.0 with several tasks each
  (``batch_operations.task_event``), sent to the function's warm sandbox and answered per
  task; a ``TemporaryFailure`` is sent again, at most ``MAX_TASK_ATTEMPTS`` times, and the
  tasks of an event that failed as a whole (a timeout) are sent again one by one;
- the completion report, in S3's layout and format, under ``batch-operations/reports/`` in
  the bucket and in the output folder.

Repeating a backfill writes nothing new: outputs that record the object's version and ETag
make the handlers skip it as a duplicate. A rejected upload stays a ``PermanentFailure`` in
every re-run's report (the handlers' answer), so it never drops out of the failed tasks.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline import UsageError, exit_status, reports_uninterrupted, stop_reason
from local_pipeline.dispatch import FunctionSandbox, env_overrides, sandbox_config
from local_pipeline.emulator import Emulator
from local_pipeline.local_paths import LocalPaths
from local_pipeline.report import bucket_folder
from stack_model.batch_operations import (
    FUNCTION_ERROR,
    MAX_TASK_ATTEMPTS,
    SUCCEEDED,
    TEMPORARY_FAILURE,
    Task,
    TaskResult,
    completion_report,
    opaque_id,
    parse_created_before,
    report_manifest_key,
    task_event,
    task_results,
    user_arguments,
)
from stack_model.s3_filters import filters_reached, triggered_functions, upload_bucket
from stack_model.template import BucketSpec, Stack

TASKS_PER_EVENT = 4
# The function's answer to one event: (no function error, the payload it returned).
Invoke = Callable[[str, dict[str, Any]], tuple[bool, Any]]


def manifest(
    s3: Any, bucket: str, prefix: str, created_before: datetime | None
) -> Iterator[tuple[str, str | None]]:
    """(key, version id) of the current version of each object under prefix, in key order."""
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for version in page.get("Versions", []):
            if not version["IsLatest"]:
                continue
            if created_before is not None and version["LastModified"] >= created_before:
                continue
            version_id = version.get("VersionId")
            yield version["Key"], None if version_id in (None, "null") else version_id


def plan_tasks(
    stack: Stack, objects: Iterable[tuple[str, str | None]], bucket: BucketSpec
) -> dict[str, list[Task]]:
    """The tasks of each function: every object its S3 filters match."""
    functions = stack.functions()
    tasks: dict[str, list[Task]] = {}
    for key, version_id in objects:
        for function in triggered_functions(functions, bucket.logical_id, key):
            tasks.setdefault(function, []).append(Task(opaque_id(), bucket.name, key, version_id))
    return tasks


def run_tasks(
    function: str,
    tasks: list[Task],
    invoke: Invoke,
    job_id: str,
    arguments: dict[str, str],
    tasks_per_event: int,
    settled: Callable[[str, Task, TaskResult, int], None],
) -> None:
    """Send the tasks in events of tasks_per_event; redrive temporary failures, bounded."""
    pending = tasks
    for attempt in range(1, MAX_TASK_ATTEMPTS + 1):
        redrive = []
        for start in range(0, len(pending), tasks_per_event):
            batch = pending[start : start + tasks_per_event]
            event = task_event(job_id, batch, arguments)
            results = task_results(event, *invoke(function, event))
            if len(batch) > 1 and all(
                r.message.startswith(FUNCTION_ERROR) for r in results.values()
            ):
                # A function error (a timeout, a crash) fails every task of its event, whatever
                # some of them wrote. Each is sent again alone, as S3 itself sends tasks, so
                # that its result says what became of it: one whose results were written
                # comes back as a duplicate, and only the culprit keeps the error.
                for task in batch:
                    alone = task_event(job_id, [task], arguments)
                    results.update(task_results(alone, *invoke(function, alone)))
            for task in batch:
                result = results[task.task_id]
                if result.code == TEMPORARY_FAILURE and attempt < MAX_TASK_ATTEMPTS:
                    redrive.append(task)
                else:
                    settled(function, task, result, attempt)
        pending = redrive
        if not pending:
            return


@dataclass(frozen=True)
class JobReport:
    job_id: str
    succeeded: int
    failed: int
    manifest_key: str  # of the completion report, in the bucket
    local_manifest: Path
    stopped_by: KeyboardInterrupt | None = None  # Ctrl-C or SIGTERM: the job was cancelled
    tasks: int = 0  # in the manifest, settled or not


def run_job(
    s3: Any,
    bucket: BucketSpec,
    tasks: dict[str, list[Task]],
    invoke: Invoke,
    prefix: str,
    out: Path,
    tasks_per_event: int = TASKS_PER_EVENT,
    say: Callable[[str], None] = print,
    cancel: Callable[[], None] = lambda: None,
) -> JobReport:
    """Run every task, then write the completion report to the bucket and to out.

    Ctrl-C or SIGTERM cancels the job: ``cancel`` stops what runs, and the report lists the
    tasks that settled, as S3 reports a cancelled job.
    """
    job_id = str(uuid.uuid4())
    total = sum(len(function_tasks) for function_tasks in tasks.values())
    results: dict[str, TaskResult] = {}

    def settled(function: str, task: Task, result: TaskResult, attempts: int) -> None:
        results[task.task_id] = result
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        message = result.message if len(result.message) <= 100 else result.message[:97] + "..."
        say(f"  [{len(results)}/{total}] {function:<24} {task.key} -> {result.code}{tries}")
        if message:
            say(f"        {message}")

    say(
        f"S3 Batch Operations job {job_id} (local): {total} task(s) from s3://{bucket.name}/{prefix}"
    )
    stopped_by = None
    try:
        for function, function_tasks in tasks.items():
            run_tasks(
                function,
                function_tasks,
                invoke,
                job_id,
                user_arguments(prefix),
                tasks_per_event,
                settled,
            )
    except KeyboardInterrupt as stop:
        stopped_by = stop
        cancel()
    ordered = [
        (t, results[t.task_id])
        for fn_tasks in tasks.values()
        for t in fn_tasks
        if t.task_id in results
    ]
    files = completion_report(job_id, bucket.name, ordered, datetime.now(UTC))
    local_paths = LocalPaths(out)
    with reports_uninterrupted():
        for key, body in files.items():
            s3.put_object(Bucket=bucket.name, Key=key, Body=body)
            local = local_paths.path(bucket_folder(bucket), key)
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(body)
    succeeded = sum(result.code == SUCCEEDED for _, result in ordered)
    manifest_key = report_manifest_key(job_id)
    return JobReport(
        job_id,
        succeeded,
        len(ordered) - succeeded,
        manifest_key,
        local_paths.path(bucket_folder(bucket), manifest_key),
        stopped_by,
        total,
    )


class Sandboxes:
    """One warm sandbox per function, started on its first task; the job's Invoke."""

    def __init__(self, stack: Stack, endpoint_url: str, env_vars: dict[str, Any], logs: Path):
        self._stack = stack
        self._endpoint_url = endpoint_url
        self._env_vars = env_vars
        self._logs = logs
        self._started: dict[str, FunctionSandbox] = {}

    def invoke(self, function: str, event: dict[str, Any]) -> tuple[bool, Any]:
        sandbox = self._started.get(function)
        if sandbox is None:
            spec = self._stack.function(function)
            self._logs.mkdir(parents=True, exist_ok=True)
            config = sandbox_config(
                self._stack,
                spec,
                self._endpoint_url,
                env_overrides(self._env_vars, function),
                self._logs / f"{function}.log",
            )
            sandbox = self._started[function] = FunctionSandbox(spec, config)
        result = sandbox.invoke(event, str(uuid.uuid4()))  # Batch Operations invokes and waits
        return result.ok, result.payload

    def stop(self) -> None:
        for sandbox in self._started.values():
            sandbox.stop()

    def close(self) -> None:
        """Kill every sandbox now, an invocation under way included (the job is cancelled)."""
        for sandbox in self._started.values():
            sandbox.close()


# ---------------------------------------------------------------- command line
def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "backfill",
        parents=[common],
        help="run an S3 Batch Operations job on objects already in the emulator's bucket",
        description="The local stand-in of `python -m operations backfill`: the objects under "
        "the prefix go, as S3 Batch Operations tasks, through the functions the template routes "
        "them to; a completion report in S3's format is written to the bucket and to --out.",
    )
    parser.add_argument("--prefix", default="", help="key prefix of the objects (default: all)")
    parser.add_argument(
        "--created-before",
        metavar="ISO",
        help="only objects created before this date or time (UTC unless an offset is given)",
    )
    parser.add_argument(
        "--tasks-per-event",
        type=int,
        default=TASKS_PER_EVENT,
        metavar="N",
        help=f"tasks in each event sent to a function ({TASKS_PER_EVENT})",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("out"), help="where the report and handler logs go (out/)"
    )
    parser.set_defaults(command=backfill_command)


def backfill_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    if not args.endpoint_url:
        raise UsageError(
            "backfill processes objects already in an emulator: give --endpoint-url of one "
            "that runs (`bin/local-pipeline serve` prints it)"
        )
    try:
        created_before = parse_created_before(args.created_before) if args.created_before else None
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.tasks_per_event < 1:
        raise UsageError(f"--tasks-per-event {args.tasks_per_event}: give 1 or more")
    bucket = upload_bucket(stack)
    try:
        filters_reached(stack.functions(), bucket.logical_id, args.prefix)
    except ValueError as error:
        raise UsageError(str(error)) from None
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out}: is a file; give a folder")

    with Emulator(args.endpoint_url, stack.region) as emulator:  # one short probe first
        s3 = emulator.client("s3")
    try:
        objects = list(manifest(s3, bucket.name, args.prefix, created_before))
    except ClientError as error:
        raise UsageError(
            f"cannot list s3://{bucket.name}/ at {args.endpoint_url}: {error}"
        ) from None
    except BotoCoreError as error:
        raise UsageError(f"the emulator at {args.endpoint_url} does not answer: {error}") from None
    tasks = plan_tasks(stack, objects, bucket)
    if not tasks:
        before = f" created before {created_before.isoformat()}" if created_before else ""
        print(f"no object under s3://{bucket.name}/{args.prefix}{before} is routed to a function")
        return 0
    sandboxes = Sandboxes(stack, args.endpoint_url, env_vars, args.out / "logs")
    try:
        report = run_job(
            s3,
            bucket,
            tasks,
            sandboxes.invoke,
            args.prefix,
            args.out,
            args.tasks_per_event,
            cancel=sandboxes.close,
        )
    except (BotoCoreError, ClientError) as error:  # the emulator went away mid-job
        print(f"error: the job stopped, no report written: {error}", file=sys.stderr)
        return 1
    finally:
        sandboxes.stop()
    print(f"{report.succeeded} task(s) succeeded, {report.failed} failed")
    print(f"Completion report: s3://{bucket.name}/{report.manifest_key}")
    print(f"  local copy: {report.local_manifest}")
    print(f"Handler logs: {args.out / 'logs'}/")
    if report.stopped_by is not None:
        unsettled = report.tasks - report.succeeded - report.failed
        print(
            f"error: {stop_reason(report.stopped_by)}: the job was cancelled with {unsettled} "
            "task(s) not settled; the report lists the others",
            file=sys.stderr,
        )
        return exit_status(report.stopped_by)
    return 1 if report.failed else 0
