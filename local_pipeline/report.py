"""What a run shows: live progress, the downloaded outputs, the table and the JSON report."""

from __future__ import annotations

import json
import os
import sys
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from local_pipeline.dispatch import Settlement
from local_pipeline.routing import Upload, named_objects
from local_pipeline.template import BucketSpec

FAILED = "failed"


class Progress:
    """Events settled out of events expected; ``wait`` returns when all have settled."""

    def __init__(self, uploads: list[Upload], bucket: str, stream: TextIO = sys.stdout) -> None:
        self.expected = {(bucket, u.key, fn) for u in uploads for fn in u.functions}
        self.settled: dict[tuple[str, str, str], Settlement] = {}
        self._stream = stream
        self._live = stream.isatty()
        self._changed = threading.Condition()

    def settle(self, settlement: Settlement) -> None:
        with self._changed:
            for bucket, key in named_objects(settlement.event):
                event_id = (bucket, key, settlement.function)
                if event_id in self.expected:
                    self.settled[event_id] = settlement
                    self._draw(f"{settlement.function:<24} {key} -> {_summary(settlement, key)}")
            self._changed.notify_all()

    def _draw(self, line: str | None) -> None:
        count = f"{len(self.settled)}/{len(self.expected)}"
        if not self._live:
            if line:
                print(f"  [{count}] {line}", file=self._stream, flush=True)
            return
        width = 30
        filled = width * len(self.settled) // max(len(self.expected), 1)
        bar = "#" * filled + "." * (width - filled)
        # Settled lines scroll up; the bar is redrawn on the last line.
        above = f"  {line}\n" if line else ""
        print(
            f"\r\033[K{above}  [{bar}] {count} events settled",
            end="",
            flush=True,
            file=self._stream,
        )

    def wait(self, idle_timeout_s: float) -> bool:
        """True once every expected event settled; False if none settled for idle_timeout_s."""
        with self._changed:
            self._draw(None)
            while len(self.settled) < len(self.expected):
                if not self._changed.wait(idle_timeout_s):
                    break
        if self._live:
            print(file=self._stream)
        return len(self.settled) == len(self.expected)


def _summary(settlement: Settlement, key: str) -> str:
    outcome, outputs, _ = record_outcome(settlement, key)
    plural = "" if len(outputs) == 1 else "s"
    return f"{outcome} ({settlement.duration_ms:.0f} ms, {len(outputs)} output{plural})"


def record_outcome(settlement: Settlement, key: str) -> tuple[str, list[str], Any]:
    """(outcome, output keys, error) of one object's record in a settled event."""
    if not settlement.succeeded:
        error = settlement.response or {}
        return FAILED, [], {k: error.get(k) for k in ("errorType", "errorMessage")}
    for record in (settlement.response or {}).get("records", []):
        if record.get("key") == key:
            error = record.get("detail") if record.get("status") != "results" else None
            return str(record.get("status")), list(record.get("outputs") or []), error
    return "no_record", [], "the response has no record for this key"


def download_outputs(
    s3: Any, buckets: list[BucketSpec], inputs: set[tuple[str, str]], out_dir: Path
) -> dict[str, Path]:
    """Every object that is not an input, to out_dir/<bucket role>/<key>; by key."""
    local: dict[str, Path] = {}
    for bucket in buckets:
        role = bucket.logical_id.removesuffix("Bucket").lower()  # UploadBucket -> upload
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket.name):
            for obj in page.get("Contents", []):
                if (bucket.name, obj["Key"]) in inputs:
                    continue
                target = out_dir / role / obj["Key"]
                target.parent.mkdir(parents=True, exist_ok=True)
                s3.download_file(bucket.name, obj["Key"], str(target))
                local.setdefault(obj["Key"], target)
    return local


@dataclass
class InputReport:
    path: str
    bucket: str
    key: str
    function: str
    outcome: str
    attempts: int
    duration_ms: float
    outputs: list[str]
    error: Any


def input_reports(
    uploads: list[Upload],
    bucket: str,
    settled: dict[tuple[str, str, str], Settlement],
    local_outputs: dict[str, Path],
) -> list[InputReport]:
    reports = []
    for upload in uploads:
        for function in upload.functions:
            settlement = settled.get((bucket, upload.key, function))
            outputs: list[str] = []
            if settlement is None:  # never settled: say so rather than drop it
                outcome, error = FAILED, {"errorType": "NotSettled"}
                attempts, duration_ms = 0, 0.0
            else:
                outcome, outputs, error = record_outcome(settlement, upload.key)
                attempts, duration_ms = settlement.attempts, settlement.duration_ms
            reports.append(
                InputReport(
                    path=str(upload.path),
                    bucket=bucket,
                    key=upload.key,
                    function=function,
                    outcome=outcome,
                    attempts=attempts,
                    duration_ms=round(duration_ms, 1),
                    outputs=[str(local_outputs.get(key, key)) for key in outputs],
                    error=error,
                )
            )
    return reports


def _outputs_cell(outputs: list[str]) -> str:
    if len(outputs) <= 1:
        return "".join(outputs) or "-"
    folder = os.path.commonpath(outputs)
    return f"{folder}/ ({len(outputs)} files)"


def format_table(reports: list[InputReport]) -> str:
    header = ("input", "function", "outcome", "tries", "ms", "outputs")
    rows = [
        (
            r.path,
            r.function,
            r.outcome,
            str(r.attempts),
            f"{r.duration_ms:.0f}",
            _outputs_cell(r.outputs),
        )
        for r in reports
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header) - 1)]
    lines = []
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def write_report(reports: list[InputReport], path: Path) -> None:
    document = {
        "inputs": [asdict(r) for r in reports],
        "failed": sum(r.outcome == FAILED for r in reports),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
