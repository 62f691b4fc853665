"""The outputs of each event on disk as soon as it settles, for `run` and `serve`.

When an event settles, the outputs its records name are downloaded at once, and an image
input is copied into the output folder beside them, so that the page links nothing
outside it and the folder can be moved. Ctrl-C then loses nothing that had settled. The
page and the report are rewritten whole by their callers after each settlement.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local_pipeline.dispatch import Settlement
from local_pipeline.event_objects import named_objects
from local_pipeline.local_paths import LocalPaths
from local_pipeline.report import (
    FAILED,
    SKIPPED,
    InputReport,
    Progress,
    bucket_folder,
    input_reports,
    record_outcome,
    settled_report,
    write_report,
)
from local_pipeline.results_page import IMAGE_FUNCTION, write_results_page
from local_pipeline.routing import Upload
from stack_model.template import BucketSpec


class LiveResults:
    """Where each settled event's outputs (by key) and image originals were stored."""

    def __init__(self, s3: Any, buckets: list[BucketSpec], out: Path) -> None:
        self.s3 = s3
        self.folders = {bucket.name: bucket_folder(bucket) for bucket in buckets}
        self.paths = LocalPaths(out)
        self.outputs: dict[str, Path] = {}  # output key -> local file
        self.originals: dict[tuple[str, str], Path] = {}  # (bucket, key) of an input -> copy
        self.lock = threading.RLock()  # dispatcher threads settle concurrently

    def fetch(self, settlement: Settlement) -> None:
        """Download what the settled event's records name; raise what S3 or the disk says."""
        with self.lock:
            for bucket, key in named_objects(settlement.event):
                outcome, outputs, _ = record_outcome(settlement, key)
                if outcome in SKIPPED:
                    continue  # the earlier event's outputs are on disk already
                for output in outputs:
                    self._fetch_output(output)
                if settlement.function == IMAGE_FUNCTION and outcome == "results":
                    self._fetch_original(bucket, key)

    def _fetch_output(self, key: str) -> None:
        """An output key names no bucket: it is in whichever of the stack's holds it."""
        for bucket in self.folders:
            path = self.download(bucket, key)
            if path is not None:
                self.outputs[key] = path
                return

    def _fetch_original(self, bucket: str, key: str) -> None:
        path = self.download(bucket, key)
        if path is not None:
            self.originals[(bucket, key)] = path

    def download(self, bucket: str, key: str) -> Path | None:
        """One object to its place under the output folder; None if the bucket lacks it."""
        try:
            return self.paths.download(self.s3, bucket, key, self.folders.get(bucket, bucket))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey"):
                return None
            raise

    def fetch_quietly(self, settlement: Settlement) -> str | None:
        """``fetch``; what went wrong as one line instead of a raise (the run goes on)."""
        try:
            self.fetch(settlement)
        except (OSError, BotoCoreError, ClientError) as error:
            return f"outputs of {settlement.function} not downloaded: {error}"
        return None


STILL_RUNNING = "not settled yet: the run was still going"


class LiveRun:
    """A `run`'s page and report, rewritten whole after each settlement and at the end."""

    def __init__(
        self,
        out: Path,
        report: Path | None,
        uploads: list[Upload],
        bucket: str,
        progress: Progress,
        results: LiveResults,
    ) -> None:
        self.out = out
        self.report = report
        self.uploads = uploads  # the caller marks failed uploads in it as it goes
        self.bucket = bucket
        self.progress = progress
        self.results = results
        self._closed = False
        self._write(STILL_RUNNING)

    def settle(self, settlement: Settlement) -> None:
        """Outputs on disk first; then the event counts as settled, and page and report
        say so."""
        with self.results.lock:
            if self._closed:  # an invocation abandoned at Ctrl-C came back after the end
                return
            problem = self.results.fetch_quietly(settlement)
            if problem:
                print(problem, flush=True)
            self.progress.settle(settlement)
            self._write(STILL_RUNNING)

    def close(self, not_settled_because: str) -> list[InputReport]:
        """The last page and report: what did not settle says why."""
        with self.results.lock:
            self._closed = True
            return self._write(not_settled_because)

    def _write(self, not_settled_because: str) -> list[InputReport]:
        reports = input_reports(
            self.uploads,
            self.bucket,
            self.progress,
            self.results.outputs,
            not_settled_because,
            self.results.originals,
        )
        if self.report:
            write_report(reports, self.report)
        write_results_page(reports, self.out, Path.cwd())
        return reports


SERVE_TITLE = "Local pipeline (serve)"


class LivePage:
    """`serve`'s results page: each settled event's outputs downloaded, the page rewritten."""

    def __init__(self, s3: Any, buckets: list[BucketSpec], out: Path) -> None:
        self.results = LiveResults(s3, buckets, out)
        self.out = out
        self.path = write_results_page([], out, Path.cwd(), title=SERVE_TITLE)
        self.reports: dict[tuple[str, str], InputReport] = {}

    def settle(self, settlement: Settlement) -> None:
        with self.results.lock:
            problem = self.results.fetch_quietly(settlement)
            try:
                for bucket, key in named_objects(settlement.event):
                    self._record(settlement, bucket, key)
                reports = list(self.reports.values())
                write_results_page(reports, self.out, Path.cwd(), SERVE_TITLE)
            except OSError as error:  # the page waits for the next settlement
                problem = f"results page not updated: {error}"
        if problem:
            print(problem, flush=True)
        print_settlement(settlement)  # after the page: what the line says is on it

    def _record(self, settlement: Settlement, bucket: str, key: str) -> None:
        earlier = self.reports.get((key, settlement.function))
        if earlier is not None and record_outcome(settlement, key)[0] in SKIPPED:
            earlier.duplicates += 1  # the earlier event's outcome stands
            return
        outputs = self.results.outputs
        report = settled_report(
            settlement,
            f"s3://{bucket}/{key}",
            bucket,
            key,
            lambda output: str(outputs[output]) if output in outputs else "",
        )
        original = self.results.originals.get((bucket, key))
        report.original = str(original) if original else None
        self.reports[(key, settlement.function)] = report


def print_settlement(settlement: Settlement) -> None:
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
