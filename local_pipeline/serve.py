"""``serve``: keep the local stack running; uploads from any S3 client trigger the functions."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path
from typing import Any

from local_pipeline import run_folder
from local_pipeline.arguments import shown
from local_pipeline.deployed_functions import dispatcher
from local_pipeline.emulator import EmulatedResources, Emulator, provision
from local_pipeline.live_results import LivePage
from local_pipeline.report import bucket_folder
from local_pipeline.routing import sample_for
from local_pipeline.upload_watch import UploadWatch
from stack_model.s3_filters import upload_bucket
from stack_model.template import Stack


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    parser = commands.add_parser("serve", parents=[common], help="keep the pipeline running")
    parser.add_argument("--port", type=int, default=0, help="emulator port (default: a free one)")
    parser.add_argument(
        "--out", type=Path, default=Path("out"), help="where the results page and its files go"
    )
    parser.set_defaults(command=serve_command)


def serve_command(args: argparse.Namespace, stack: Stack, env_vars: dict[str, Any]) -> int:
    run_folder.check_writable(args.out)
    with Emulator(args.endpoint_url, stack.region, args.port) as emulator:
        s3 = emulator.client("s3")
        sqs = emulator.client("sqs")
        listened = upload_bucket(stack)
        resources = provision(stack, s3, sqs, watched_bucket=listened.logical_id)
        folders = [bucket_folder(b) for b in resources.buckets.values()]
        run_folder.start(args.out, folders)  # the server runs: --out becomes this one's
        page = LivePage(s3, list(resources.buckets.values()), args.out)
        assert resources.upload_queue is not None  # asked for with watched_bucket
        watch = UploadWatch(
            stack, listened, resources.upload_queue, s3, sqs, lambda line: print(line, flush=True)
        )
        with dispatcher(stack, resources, emulator, env_vars, page.settle, None), watch:
            _print_banner(stack, resources, emulator.endpoint_url)
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


def _print_banner(stack: Stack, resources: EmulatedResources, endpoint: str) -> None:
    upload = upload_bucket(stack)
    print(f"Local pipeline at {endpoint} (Ctrl-C to stop)")
    for bucket in resources.buckets.values():
        print(f"  {bucket.logical_id:<16} s3://{bucket.name}")
    for spec in stack.functions():
        filters = ", ".join(f"{e.prefix}*{e.suffix}" for e in spec.events)
        print(f"  {spec.logical_id:<24} fires on {filters}")
    for logical_id, url in resources.failure_queues.items():
        print(f"  on-failure queue of {logical_id}: {url}")
    image, csv = sample_for("images/photo.jpg"), sample_for("csv/table.csv")
    image_path = shown(image) if image else Path("photo.jpg")
    csv_path = shown(csv) if csv else Path("table.csv")
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
