"""What a run shows: live progress, the downloaded outputs, the table and the JSON report."""

from __future__ import annotations

import json
import os
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from local_pipeline.dispatch import Settlement
from local_pipeline.event_objects import named_objects
from local_pipeline.routing import Upload
from stack_model.template import BucketSpec

FAILED = "failed"
# Outcomes of inputs that never reached a function, or never settled.
NOT_TRIGGERED = "not_triggered"
NOT_SETTLED = "not_settled"
NOT_UPLOADED = "not_uploaded"
# A skip says an earlier event did the work: it must never stand for that work's outcome.
SKIPPED = frozenset({"skipped_duplicate", "skipped_stale"})

EventId = tuple[str, str, str]  # bucket, key, function


class Progress:
    """Events settled out of events expected; ``wait`` returns when all have settled.

    Each input keeps the settlement that produced (or rejected) its outputs. A later
    delivery of the same event, which at-least-once delivery allows, is counted in
    ``duplicates`` and never replaces it.
    """

    def __init__(self, uploads: list[Upload], bucket: str, stream: TextIO = sys.stdout) -> None:
        self.expected = {(bucket, u.key, fn) for u in uploads for fn in u.functions}
        self.settled: dict[EventId, Settlement] = {}
        self.duplicates: dict[EventId, int] = {}
        self._stream = stream
        self._live = stream.isatty()
        self._changed = threading.Condition()

    def settle(self, settlement: Settlement) -> None:
        with self._changed:
            for bucket, key in named_objects(settlement.event):
                event_id = (bucket, key, settlement.function)
                if event_id not in self.expected:
                    continue
                earlier = self.settled.get(event_id)
                if earlier is None or (_skipped(earlier, key) and not _skipped(settlement, key)):
                    self.settled[event_id] = settlement
                    if earlier is None:
                        summary = _summary(settlement, key)
                        self._draw(f"{settlement.function:<24} {key} -> {summary}")
                        continue
                self.duplicates[event_id] = self.duplicates.get(event_id, 0) + 1
            self._changed.notify_all()

    def forget(self, bucket: str, key: str) -> None:
        """Expect no event for this key any more (its upload failed)."""
        with self._changed:
            self.expected = {event for event in self.expected if event[:2] != (bucket, key)}
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


def _skipped(settlement: Settlement, key: str) -> bool:
    return record_outcome(settlement, key)[0] in SKIPPED


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


def bucket_folder(bucket: BucketSpec) -> str:
    """The local folder of a bucket's objects: UploadBucket -> upload."""
    return bucket.logical_id.removesuffix("Bucket").lower()


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
    duplicates: int = 0  # later deliveries of the same event, skipped by the handler
    original: str | None = None  # an image input's copy inside the output folder


def settled_report(
    settlement: Settlement,
    path: str,
    bucket: str,
    key: str,
    local_path: Callable[[str], str],
    duplicates: int = 0,
) -> InputReport:
    """The report of one object a settled event named. ``local_path`` maps an output key to
    where it was downloaded (or back to the key); an output it cannot place ("") is left out."""
    outcome, outputs, error = record_outcome(settlement, key)
    return InputReport(
        path=path,
        bucket=bucket,
        key=key,
        function=settlement.function,
        outcome=outcome,
        attempts=settlement.attempts,
        duration_ms=round(settlement.duration_ms, 1),
        outputs=[local for local in map(local_path, outputs) if local],
        error=error,
        duplicates=duplicates,
    )


def input_reports(
    uploads: list[Upload],
    bucket: str,
    progress: Progress,
    local_outputs: dict[str, Path],
    not_settled_because: str = "no event arrived before the idle timeout",
    originals: dict[tuple[str, str], Path] | None = None,
) -> list[InputReport]:
    """One report per (input, function) it triggers; one per input that triggers nothing.
    ``originals``: where an input was copied into the output folder, by (bucket, key)."""
    reports = []
    for upload in uploads:
        if upload.not_uploaded:
            reports.append(_unsettled(upload, bucket, NOT_UPLOADED, upload.not_uploaded))
            continue
        if not upload.functions:
            reason = "no S3 event of template.yaml matches this key (filters are case-sensitive)"
            reports.append(_unsettled(upload, bucket, NOT_TRIGGERED, reason))
            continue
        for function in upload.functions:
            event_id = (bucket, upload.key, function)
            settlement = progress.settled.get(event_id)
            if settlement is None:  # never settled: say so rather than drop it
                reports.append(
                    _unsettled(upload, bucket, NOT_SETTLED, not_settled_because, function)
                )
                continue
            report = settled_report(
                settlement,
                str(upload.path),
                bucket,
                upload.key,
                lambda output: str(local_outputs.get(output, output)),
                progress.duplicates.get(event_id, 0),
            )
            copy = (originals or {}).get((bucket, upload.key))
            report.original = str(copy) if copy else None
            reports.append(report)
    return reports


def _unsettled(
    upload: Upload, bucket: str, outcome: str, reason: str, function: str = "-"
) -> InputReport:
    """The report of an input that has no settlement: the reason stands in the error."""
    return InputReport(
        path=str(upload.path),
        bucket=bucket,
        key=upload.key,
        function=function,
        outcome=outcome,
        attempts=0,
        duration_ms=0.0,
        outputs=[],
        error=reason,
    )


# Outcomes that make a run's exit status non-zero: the input has no result or error report.
UNFINISHED = frozenset({FAILED, NOT_SETTLED, NOT_UPLOADED})


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
        "unfinished": sum(r.outcome in UNFINISHED for r in reports),
        "duplicates": sum(r.duplicates for r in reports),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    write_whole(path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_whole(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole or not at all: a crash or Ctrl-C mid-write leaves the
    old file or the new one, never half of one."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
