"""``backfill``: run the functions on objects that are already in the bucket.

Objects uploaded before the stack existed (or before a notification was configured) never
produced an event. This lists the bucket, routes each key by the template's S3 filters
(``routing.triggered_functions``, the same code as ``run``), and invokes each routed
function with a synthesized ``ObjectCreated:Put`` event:

- ``--target local`` runs the handlers in the local sandboxes, with the template's retries;
- ``--target lambda`` calls ``lambda:Invoke`` with ``InvocationType=Event`` on the deployed
  functions, so Lambda's own retries and on-failure queue apply.

Safe to repeat and to interrupt:
- the events carry the object's ETag, size and version id but no sequencer. Outputs that
  already record that ETag/version make the handler skip the object (``skipped_duplicate``),
  and an event that no longer names the current object is ``skipped_stale``
  (``idempotency.is_superseded`` in the runtime), so a backfill never overwrites the
  results of a newer upload;
- ``ListObjectsV2`` is lexicographic: the checkpoint records, per prefix, the last key below
  which everything has settled, and a resumed run lists from there (``StartAfter``).
"""

from __future__ import annotations

import argparse
import json
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote_plus

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline.dispatch import AsyncInvoker, FunctionSandbox, sandbox_config
from local_pipeline.emulator import Emulator
from local_pipeline.report import FAILED, record_outcome, write_whole
from local_pipeline.routing import triggered_functions, upload_bucket
from local_pipeline.template import Stack

QUEUED = "queued"  # --target lambda: accepted by Lambda's async queue
DRY_RUN = "would_invoke"


# ---------------------------------------------------------------- events
@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    etag: str
    last_modified: datetime
    version_id: str | None = None


def s3_event(region: str, bucket: str, obj: StoredObject) -> dict[str, Any]:
    """The notification S3 would have sent for this object, minus the sequencer.

    S3 sequencers are opaque and only comparable with each other: a made-up one could
    sort after a real, newer write. Without one, the handlers decide by version id and
    ETag, and skip the event if the key has moved on.
    """
    identity: dict[str, Any] = {"key": quote_plus(obj.key, safe="/"), "size": obj.size}
    identity["eTag"] = obj.etag
    if obj.version_id:
        identity["versionId"] = obj.version_id
    event_time = obj.last_modified.astimezone(UTC).isoformat(timespec="milliseconds")
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": event_time.replace("+00:00", "Z"),
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "backfill"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {"x-amz-request-id": f"backfill-{uuid.uuid4().hex[:16]}"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "backfill",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": identity,
                },
            }
        ]
    }


def list_objects(s3: Any, bucket: str, prefix: str, start_after: str) -> Iterator[StoredObject]:
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=prefix, StartAfter=start_after
    )
    for page in pages:
        for item in page.get("Contents", []):
            yield StoredObject(
                item["Key"], int(item["Size"]), item["ETag"].strip('"'), item["LastModified"]
            )


def current_version(s3: Any, bucket: str, obj: StoredObject) -> StoredObject | None:
    """The object as it is now, with its version id (None if it was deleted since)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=obj.key)
    except s3.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return StoredObject(
        obj.key,
        int(head["ContentLength"]),
        head["ETag"].strip('"'),
        head["LastModified"],
        head.get("VersionId"),
    )


# ---------------------------------------------------------------- checkpoint
@dataclass
class Checkpoint:
    """Per prefix, the last key below which every object settled; and the failed keys."""

    path: Path | None
    bucket: str
    after: dict[str, str] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)  # key -> functions

    @classmethod
    def load(cls, path: Path | None, bucket: str) -> Checkpoint:
        if path is None or not path.exists():
            return cls(path, bucket)
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved["bucket"] != bucket:
            raise SystemExit(f"{path} is a checkpoint of s3://{saved['bucket']}, not {bucket}")
        return cls(path, bucket, saved["after"], saved.get("failed", {}))

    def save(self) -> None:
        if self.path is None:
            return
        document = {"bucket": self.bucket, "after": self.after, "failed": self.failed}
        write_whole(self.path, json.dumps(document, indent=2, ensure_ascii=False))


class Watermark:
    """Keys of one prefix in listing order; advances past a key once all before it settled."""

    def __init__(self, checkpoint: Checkpoint, prefix: str) -> None:
        self.checkpoint = checkpoint
        self.prefix = prefix
        self._pending: deque[str] = deque()
        self._done: set[str] = set()

    def started(self, key: str) -> None:
        self._pending.append(key)

    def settled(self, key: str) -> bool:
        """Record that key settled; True if the watermark moved."""
        self._done.add(key)
        moved = False
        while self._pending and self._pending[0] in self._done:
            self._done.discard(self._pending[0])
            self.checkpoint.after[self.prefix] = self._pending.popleft()
            moved = True
        return moved


# ---------------------------------------------------------------- targets
class Target(Protocol):
    def invoke(self, function: str, event: dict[str, Any], key: str) -> str:
        """Invoke one function with one event; the outcome for the key."""
        ...

    def close(self) -> None: ...


class LocalTarget:
    """The handlers in local sandboxes: up to ``concurrency`` warm workers per function."""

    def __init__(
        self, stack: Stack, endpoint_url: str, env: dict[str, dict[str, str]], concurrency: int
    ) -> None:
        self._stack = stack
        self._endpoint_url = endpoint_url
        self._env = env
        self._specs = {spec.logical_id: spec for spec in stack.functions()}
        self._idle = {name: queue.LifoQueue[AsyncInvoker]() for name in self._specs}
        self._started: dict[str, list[AsyncInvoker]] = {name: [] for name in self._specs}
        self._concurrency = concurrency
        self._lock = threading.Lock()

    def _take(self, function: str) -> AsyncInvoker:
        with self._lock:
            if self._idle[function].empty() and len(self._started[function]) < self._concurrency:
                spec = self._specs[function]
                config = sandbox_config(self._stack, spec, self._endpoint_url, self._env[function])
                # No on-failure queue: failures are counted and kept in the checkpoint.
                invoker = AsyncInvoker(self._stack, FunctionSandbox(spec, config), None, None)
                self._started[function].append(invoker)
                return invoker
        return self._idle[function].get()

    def invoke(self, function: str, event: dict[str, Any], key: str) -> str:
        invoker = self._take(function)
        try:
            settlement = invoker.invoke(event, time.time())
        finally:
            self._idle[function].put(invoker)
        return record_outcome(settlement, key)[0]

    def close(self) -> None:
        for invokers in self._started.values():
            for invoker in invokers:
                invoker.sandbox.stop()


class LambdaTarget:
    """Asynchronous ``lambda:Invoke`` of the deployed functions (Lambda retries them)."""

    def __init__(self, client: Any, names: dict[str, str]) -> None:
        self.client = client
        self.names = names

    def invoke(self, function: str, event: dict[str, Any], key: str) -> str:
        response = self.client.invoke(
            FunctionName=self.names[function],
            InvocationType="Event",
            Payload=json.dumps(event).encode(),
        )
        status = response["StatusCode"]
        return QUEUED if status == 202 else f"{FAILED}: status {status}"

    def close(self) -> None:
        pass


def lambda_target(
    stack: Stack,
    session: Any,
    stack_name: str | None,
    overrides: dict[str, str],
) -> tuple[LambdaTarget, str | None]:
    """The deployed functions (from the stack's outputs, then overrides) and upload bucket."""
    outputs: dict[str, str] = {}
    if stack_name:
        cloudformation = session.client("cloudformation")
        (deployed,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in deployed.get("Outputs", [])}
    names = {
        fn.logical_id: outputs[f"{fn.logical_id}Name"]
        for fn in stack.functions()
        if f"{fn.logical_id}Name" in outputs
    }
    names.update(overrides)
    # Throttled Invoke calls are retried by the SDK with backoff before they count as failed.
    client = session.client(
        "lambda", config=Config(retries={"mode": "standard", "max_attempts": 8})
    )
    return LambdaTarget(client, names), outputs.get("UploadBucketName")


# ---------------------------------------------------------------- the run
@dataclass
class Options:
    bucket: str
    prefixes: list[str]
    concurrency: int = 4
    rate: float | None = None  # invocations per second, at most
    limit: int | None = None  # stop after this many objects (the rest is left to a resume)
    dry_run: bool = False


@dataclass
class Result:
    counts: dict[str, int]  # invocations by outcome
    complete: bool  # False if --limit stopped the listing early


class RateLimit:
    def __init__(self, per_second: float | None) -> None:
        self._interval = 1 / per_second if per_second else 0.0
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            delay, self._next = self._next - now, max(self._next, now) + self._interval
        if delay > 0:
            time.sleep(delay)


def backfill(
    stack: Stack,
    s3: Any,
    target: Target,
    options: Options,
    checkpoint: Checkpoint,
    say: Callable[[str], None] = print,
) -> Result:
    """Invoke the routed functions for every object under the prefixes."""
    bucket_id = upload_bucket(stack).logical_id
    functions = stack.functions()
    versioning = s3.get_bucket_versioning(Bucket=options.bucket).get("Status")
    counts: dict[str, int] = {}
    lock = threading.Lock()
    slots = threading.BoundedSemaphore(options.concurrency * 2)  # listing stays just ahead
    rate = RateLimit(options.rate)
    retried, checkpoint.failed = checkpoint.failed, {}
    seen = 0

    def tally(outcome: str, line: str) -> None:
        with lock:
            kind = outcome.split(":")[0]
            counts[kind] = counts.get(kind, 0) + 1
            say(f"  [{sum(counts.values())}] {line} -> {outcome}")

    def dispatch(obj: StoredObject, routed: tuple[str, ...], watermark: Watermark | None) -> None:
        failed = []
        try:
            # A versioned bucket: the version id comes from HEAD; so does a retried key.
            fresh = current_version(s3, options.bucket, obj) if versioning or not obj.etag else obj
            for function in routed:
                if fresh is None:
                    tally("gone", f"{function:<24} {obj.key} (deleted since it was listed)")
                    continue
                rate.wait()
                try:
                    event = s3_event(stack.region, options.bucket, fresh)
                    outcome = target.invoke(function, event, obj.key)
                except Exception as exc:  # e.g. an Invoke still refused after the SDK's retries
                    outcome = f"{FAILED}: {exc!r}"
                if outcome.startswith(FAILED):
                    failed.append(function)
                tally(outcome, f"{function:<24} {obj.key}")
        except Exception as exc:  # listing-side failure (HEAD): keep the key for a retry
            failed = list(routed)
            tally(f"{FAILED}: {exc!r}", f"{'':<24} {obj.key}")
        finally:
            with lock:
                if failed:
                    checkpoint.failed[obj.key] = failed
                moved = watermark.settled(obj.key) if watermark else False
                if moved or failed:
                    checkpoint.save()
            slots.release()

    def submit(pool: ThreadPoolExecutor, obj: StoredObject, watermark: Watermark | None) -> bool:
        nonlocal seen
        routed = triggered_functions(functions, bucket_id, obj.key)
        if not routed:
            return True
        if options.limit is not None and seen >= options.limit:
            return False
        seen += 1
        if options.dry_run:
            for function in routed:
                tally(DRY_RUN, f"{function:<24} {obj.key}")
            return True
        slots.acquire()
        if watermark:
            with lock:
                watermark.started(obj.key)
        pool.submit(dispatch, obj, routed, watermark)
        return True

    complete = True
    with ThreadPoolExecutor(options.concurrency, thread_name_prefix="backfill") as pool:
        for key in retried:  # failures of an earlier run first; no ETag: HEAD it afresh
            say(f"  retrying {key}, which failed in an earlier run")
            complete = complete and submit(pool, StoredObject(key, 0, "", datetime.now(UTC)), None)
        for prefix in options.prefixes if complete else []:
            watermark = Watermark(checkpoint, prefix)
            start_after = checkpoint.after.get(prefix, "")
            if start_after:
                say(f"resuming s3://{options.bucket}/{prefix} after {start_after!r}")
            listing = list_objects(s3, options.bucket, prefix, start_after)
            if not all(submit(pool, obj, watermark) for obj in listing):
                complete = False
                break
    return Result(counts, complete)


# ---------------------------------------------------------------- command line
def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser(
        "backfill",
        parents=[common],
        help="invoke the functions on objects already in the bucket",
        description="List a bucket and invoke the functions the template routes each key to, "
        "with synthesized S3 events. Resumable, and idempotent: processed objects are skipped.",
    )
    parser.add_argument("--bucket", help="bucket to list (default: the stack's upload bucket)")
    parser.add_argument(
        "--prefix",
        action="append",
        dest="prefixes",
        help="key prefix to list; repeatable (default: the prefixes of the template's filters)",
    )
    parser.add_argument(
        "--target",
        choices=("local", "lambda"),
        help="local sandboxes (the default with --endpoint-url) or the deployed functions",
    )
    parser.add_argument("--stack-name", help="--target lambda: the deployed stack's name")
    parser.add_argument(
        "--function-name",
        action="append",
        default=[],
        metavar="LOGICAL_ID=NAME",
        help="--target lambda: a function's deployed name (overrides the stack's outputs)",
    )
    parser.add_argument("--region", help="AWS region (default: from the AWS configuration)")
    parser.add_argument("--concurrency", type=int, default=4, help="objects in flight (4)")
    parser.add_argument("--rate", type=float, help="at most this many invocations per second")
    parser.add_argument("--limit", type=int, help="stop after this many objects; resume later")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        help="resume file (default: backfill-<bucket>.json); removed once a run completes",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be invoked")
    parser.set_defaults(command=backfill_command)


def backfill_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    try:
        return _backfill_command(args, stack, env_vars)
    except (BotoCoreError, ClientError) as exc:  # no such stack, listing refused, ...
        print(f"backfill stopped: {exc}")
        return 2


def _backfill_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    from local_pipeline.cli import _env_overrides  # cli imports this module

    target_name = args.target or ("local" if args.endpoint_url else "lambda")
    if target_name == "local" and not args.endpoint_url:
        print("--target local runs the handlers against an emulator: give --endpoint-url")
        return 2
    target: Target
    deployed_bucket = None
    if target_name == "lambda":
        session = boto3.Session(region_name=args.region)
        if session.get_credentials() is None:
            print("no AWS credentials: configure them, or give --endpoint-url for the emulator")
            return 2
        overrides = dict(item.split("=", 1) for item in args.function_name)
        target, deployed_bucket = lambda_target(stack, session, args.stack_name, overrides)
        missing = {fn.logical_id for fn in stack.functions()} - set(target.names)
        if missing and not args.dry_run:
            print(f"no deployed name for {sorted(missing)}: give --stack-name or --function-name")
            return 2
        s3 = session.client("s3", endpoint_url=args.endpoint_url)
    else:
        s3 = Emulator(args.endpoint_url, stack.region).client("s3")
        env = {fn.logical_id: _env_overrides(env_vars, fn.logical_id) for fn in stack.functions()}
        target = LocalTarget(stack, args.endpoint_url, env, args.concurrency)
    bucket = args.bucket or deployed_bucket or upload_bucket(stack).name
    prefixes = args.prefixes or sorted({e.prefix for fn in stack.functions() for e in fn.events})
    options = Options(bucket, prefixes, args.concurrency, args.rate, args.limit, args.dry_run)
    checkpoint_path = None if args.dry_run else args.checkpoint or Path(f"backfill-{bucket}.json")
    checkpoint = Checkpoint.load(checkpoint_path, bucket)

    print(f"backfill s3://{bucket}/ under {', '.join(prefixes)}: {target_name} functions")
    try:
        result = backfill(stack, s3, target, options, checkpoint)
    finally:
        target.close()
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(result.counts.items()))
    print(f"{sum(result.counts.values())} invocation(s): {summary or 'nothing to do'}")
    if checkpoint_path is None:
        return 0
    if checkpoint.failed or not result.complete:
        checkpoint.save()
        print(f"checkpoint: {checkpoint_path} (run the same command again to resume)")
    else:
        checkpoint_path.unlink(missing_ok=True)
    if checkpoint.failed:
        print(f"{len(checkpoint.failed)} object(s) failed; the next run retries them first")
        return 1
    return 0
