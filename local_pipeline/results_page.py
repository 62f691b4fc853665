"""The results page of a run: ``<out>/index.html``, for people who would rather look than read.

Rendered from the run's report and the outputs it downloaded (the image manifests, the CSV
summaries, the error reports). The page is self-contained: no script, no font, no style
sheet from anywhere; every image is a relative link to a file of the run, inside the output
folder, so it opens from ``file://`` with no server and the folder can be moved. It stays
light: each image card shows the thumbnail variant (it fits 300x300) as the preview of the
original and of every variant, each preview linking to its full file, so that a page of
phone photos loads kilobytes per photo, not megabytes. Jinja2 escapes every value, so a
file name or CSV cell holding markup shows as text.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape

from local_pipeline.report import UNFINISHED, InputReport, write_whole

PAGE_NAME = "index.html"
IMAGE_FUNCTION = "ImageProcessorFunction"
PREVIEW_VARIANT = "thumbnail"
TOP_VALUES_SHOWN = 5

_ENVIRONMENT = Environment(
    loader=FileSystemLoader(Path(__file__).parent),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass
class Picture:
    label: str
    src: str | None  # relative URL of the preview; None: no preview to show
    href: str | None  # relative URL of the full file
    format: str
    width: int | None
    height: int | None
    bytes: int | None
    share: str | None = None  # bytes relative to the original: "42%"


@dataclass
class Entry:
    """One input's card: what the function made of it."""

    path: str
    key: str
    function: str
    outcome: str
    attempts: int
    duration_ms: float
    duplicates: int
    pictures: list[Picture] = field(default_factory=list)
    manifest: str | None = None
    summary: dict[str, Any] | None = None
    summary_href: str | None = None
    issues: list[tuple[str, str]] = field(default_factory=list)
    error_reason: str | None = None
    error_message: str | None = None
    error_href: str | None = None
    failure: str | None = None


def _href(target: Path, page_dir: Path) -> str:
    """A relative URL from the page to a file: works from file:// and through any server."""
    return quote(Path(os.path.relpath(target, page_dir)).as_posix())


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _share(part: int | None, whole: int | None) -> str | None:
    if not part or not whole:
        return None
    percent = 100 * part / whole
    return "<1%" if percent < 1 else f"{percent:.0f}%"


def _image_entry(entry: Entry, outputs: list[Path], source: Path, page_dir: Path) -> None:
    manifest_path = next((p for p in outputs if p.name == "manifest.json"), None)
    manifest = _load_json(manifest_path) if manifest_path else None
    if not manifest_path or not manifest:
        return
    image = manifest.get("image", {})
    original_bytes = source.stat().st_size if source.is_file() else None
    entry.manifest = _href(manifest_path, page_dir)
    by_name = {p.name: p for p in outputs}
    variants = [
        (variant, by_name.get(Path(str(variant.get("key", ""))).name))
        for variant in manifest.get("variants", [])
    ]
    preview = next((path for v, path in variants if v.get("name") == PREVIEW_VARIANT), None)
    preview_src = _href(preview, page_dir) if preview and preview.is_file() else None
    entry.pictures.append(
        Picture(
            "original",
            preview_src,
            _href(source, page_dir) if source.is_file() else None,
            str(image.get("format", "?")),
            image.get("width"),
            image.get("height"),
            original_bytes,
        )
    )
    for variant, local in variants:
        entry.pictures.append(
            Picture(
                str(variant.get("name", "?")),
                preview_src,
                _href(local, page_dir) if local else None,
                str(variant.get("format", "?")),
                variant.get("width"),
                variant.get("height"),
                variant.get("bytes"),
                _share(variant.get("bytes"), original_bytes),
            )
        )


def _issues(summary: dict[str, Any]) -> list[tuple[str, str]]:
    """The data-quality findings that found something, each as (name, detail)."""
    found = []
    for name, value in (summary.get("issues") or {}).items():
        if isinstance(value, dict) and "count" in value:
            if value["count"]:
                found.append((name, f"{value['count']}"))
        elif value:
            detail = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            found.append((name, detail if len(detail) < 200 else detail[:199] + "…"))
    return found


def _csv_entry(entry: Entry, outputs: list[Path], page_dir: Path) -> None:
    path = next((p for p in outputs if p.suffix == ".json"), None)
    summary = _load_json(path) if path else None
    if not isinstance(summary, dict) or summary.get("status") != "ok":
        return
    for column in summary.get("columns", []):
        column["top_values"] = (column.get("top_values") or [])[:TOP_VALUES_SHOWN]
        column["null_percent"] = round(100 * float(column.get("null_ratio") or 0), 1)
    entry.summary = summary
    entry.summary_href = _href(path, page_dir) if path else None
    entry.issues = _issues(summary)


def _error_entry(entry: Entry, report: InputReport, outputs: list[Path], page_dir: Path) -> None:
    path = next((p for p in outputs if p.name.endswith("error.json")), None)
    document = _load_json(path) if path else None
    detail = report.error if isinstance(report.error, dict) else {}
    source = document if isinstance(document, dict) else detail
    entry.error_reason = str(source.get("reason") or report.error or "rejected")
    entry.error_message = str(source.get("message") or "")
    entry.error_href = _href(path, page_dir) if path else None


def _failure(report: InputReport) -> str:
    error = report.error
    if isinstance(error, dict):
        return ": ".join(str(error[k]) for k in ("errorType", "errorMessage") if error.get(k))
    return str(error or report.outcome)


def entries(reports: list[InputReport], cwd: Path, page_dir: Path) -> list[Entry]:
    cards = []
    for report in reports:
        outputs = [cwd / output for output in report.outputs]
        entry = Entry(
            path=report.path,
            key=report.key,
            function=report.function,
            outcome=report.outcome,
            attempts=report.attempts,
            duration_ms=report.duration_ms,
            duplicates=report.duplicates,
        )
        if report.outcome == "results" and report.function == IMAGE_FUNCTION:
            original = cwd / (report.original or report.path)  # the copy inside the folder
            _image_entry(entry, outputs, original, page_dir)
        elif report.outcome == "results":
            _csv_entry(entry, outputs, page_dir)
        elif report.outcome == "error_report":
            _error_entry(entry, report, outputs, page_dir)
        elif report.outcome in UNFINISHED:
            entry.failure = _failure(report)
        else:  # skipped, not triggered: the reason is the whole story
            entry.failure = str(report.error) if report.error else None
        cards.append(entry)
    return cards


def render(reports: list[InputReport], out_dir: Path, cwd: Path, title: str) -> str:
    page_dir = (cwd / out_dir).resolve()
    outcomes = Counter(report.outcome for report in reports)
    return _ENVIRONMENT.get_template("results_page.html.j2").render(
        title=title,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        entries=entries(reports, cwd, page_dir),
        outcomes=sorted(outcomes.items()),
        inputs=len({report.path for report in reports}),
        unfinished=sum(report.outcome in UNFINISHED for report in reports),
        duplicates=sum(report.duplicates for report in reports),
        total_ms=sum(report.duration_ms for report in reports),
    )


def write_results_page(
    reports: list[InputReport], out_dir: Path, cwd: Path, title: str = "Local pipeline run"
) -> Path:
    """Write ``<out>/index.html``, whole or not at all, and return its path."""
    page = out_dir / PAGE_NAME
    out_dir.mkdir(parents=True, exist_ok=True)
    write_whole(page, render(reports, out_dir, cwd, title))
    return page
