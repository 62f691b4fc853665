"""Where local files go, and which functions they trigger.

Upload convention of the local pipeline: images go under ``images/`` and CSVs under
``csv/``, keeping their folders. Whether a key then triggers a function is decided by
the template's S3 event filters alone (``triggered_functions``), never by this module.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import file_signatures

from local_pipeline.run_folder import is_run_folder
from stack_model.s3_filters import triggered_functions, upload_bucket
from stack_model.template import ROOT, Stack

SAMPLES_DIR = ROOT / "samples"
IMAGE_PREFIX = "images/"
CSV_PREFIX = "csv/"
CSV_SUFFIXES = (".csv", ".csv.gz")
# A file named like an image still goes to images/: a broken one gets an error report.
IMAGE_SUFFIXES = frozenset(
    {".jpg", ".jpeg", ".png", ".gif", ".webp", ".tif", ".tiff", ".bmp", ".heic", ".heif", ".avif"}
)


def file_kind(path: Path) -> str | None:
    """'image', 'csv' or None, from the content first and the name second."""
    with path.open("rb") as file:
        if file_signatures.is_image(file.read(file_signatures.SNIFF_BYTES)):
            return "image"
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    return "image" if path.suffix.lower() in IMAGE_SUFFIXES else None


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    functions: tuple[str, ...]  # logical ids whose S3 filters match: the events to wait for
    not_uploaded: str | None = None  # why the file could not be read or uploaded


def _files(
    path: Path, excluded: tuple[Path, ...] = (), run_folders: list[Path] | None = None
) -> list[tuple[Path, PurePosixPath]]:
    """Files under path (or path itself), each with its path relative to the argument.

    Hidden entries, anything under an excluded folder (the run's own output) and the output
    folder of any earlier run (noted in ``run_folders``, and never walked) are left out; a
    link that leads nowhere is kept, so that it is reported rather than lost.
    """
    if not path.is_dir():
        return [(path, PurePosixPath(path.name))]
    files = []
    for folder, subfolders, names in os.walk(path):
        here = Path(folder)
        kept = []
        for name in subfolders:
            sub = here / name
            if name.startswith(".") or sub.is_symlink():
                continue
            if any(sub.resolve().is_relative_to(out) for out in excluded):
                continue
            if is_run_folder(sub):
                if run_folders is not None:
                    run_folders.append(sub)
                continue
            kept.append(name)
        subfolders[:] = kept
        for name in names:
            file = here / name
            if name.startswith(".") or file.is_dir():
                continue
            if any(file.resolve().is_relative_to(out) for out in excluded):
                continue
            files.append((file, PurePosixPath(file.relative_to(path).as_posix())))
    return sorted(files)


@dataclass
class UploadPlan:
    uploads: list[Upload]  # every file that is uploaded, or failed to be read
    unrouted: list[Path]  # neither an image nor a CSV: not uploaded
    run_folders: list[Path] = field(default_factory=list)  # earlier runs' outputs: skipped


def plan_uploads(
    paths: Iterable[Path],
    stack: Stack,
    prefix: str | None = None,
    excluded: Iterable[Path] = (),
) -> UploadPlan:
    """The uploads for these files, and the files that have no route (neither image nor CSV)."""
    bucket = upload_bucket(stack)
    functions = stack.functions()
    skip = tuple(folder.resolve() for folder in excluded)
    plan = UploadPlan([], [])
    for path in paths:
        if path.is_dir() and is_run_folder(path):
            plan.run_folders.append(path)
            continue
        for file, relative in _files(path, skip, plan.run_folders):
            if file.exists() and not file.is_file():  # a FIFO or a device would block
                reason = f"cannot read {file}: not a regular file"
                plan.uploads.append(Upload(file, str(relative), (), not_uploaded=reason))
                continue
            if prefix is not None:
                key_prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
            else:
                try:
                    kind = file_kind(file)
                except OSError as error:
                    reason = f"cannot read {file}: {error.strerror or error}"
                    plan.uploads.append(Upload(file, str(relative), (), not_uploaded=reason))
                    continue
                if kind is None:
                    plan.unrouted.append(file)
                    continue
                key_prefix = IMAGE_PREFIX if kind == "image" else CSV_PREFIX
            key = f"{key_prefix}{relative}"
            plan.uploads.append(
                Upload(file, key, triggered_functions(functions, bucket.logical_id, key))
            )
    keys = [upload.key for upload in plan.uploads]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"two inputs map to the same key {twice[0]}; pass them in separate runs")
    return plan


def sample_for(key: str, samples_dir: Path = SAMPLES_DIR) -> Path | None:
    """The sample that best stands in for an object: same name, else a valid file of its type."""
    samples = [file for file, _ in _files(samples_dir)] if samples_dir.is_dir() else []
    name = PurePosixPath(key).name
    for sample in samples:
        if sample.name == name:
            return sample
    wanted = "csv" if name.lower().endswith(CSV_SUFFIXES) else "image"
    suffix = PurePosixPath(name).suffix.lower()

    def valid_of_kind(sample: Path) -> bool:
        if wanted == "image":
            with sample.open("rb") as file:
                return file_signatures.is_image(file.read(file_signatures.SNIFF_BYTES))
        return file_kind(sample) == "csv"

    candidates = [s for s in samples if valid_of_kind(s)]
    same_suffix = [s for s in candidates if s.suffix.lower() == suffix]
    return next(iter(same_suffix or candidates), None)
