"""The output folder (``--out``) as one run's own: checked, marked, and replaced whole.

A run writes a marker file into its folder. That marker makes the folder recognisable:
a later run never uploads it as input (``routing``), and the next run into it replaces
what the runner manages there (the bucket folders, the logs, the page, the report) as a
whole, so that the folder always describes one run. Until a run has got going (its
endpoint answered), nothing in the folder is touched: a run that fails at once leaves an
earlier run's folder as it was.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from local_pipeline import UsageError
from local_pipeline.local_paths import RENAMED_FOLDER

MARKER = ".local-pipeline-output"
MARKER_TEXT = (
    "This folder holds the outputs of a local pipeline run. The runner never uploads it,\n"
    "and replaces what it wrote here (bucket folders, logs/, index.html) on the next run.\n"
)
LOGS = "logs"
PAGE = "index.html"


def is_run_folder(folder: Path) -> bool:
    """A folder a run wrote: its marker, or (runs before the marker) a page and logs."""
    if (folder / MARKER).is_file():
        return True
    return (folder / PAGE).is_file() and (folder / LOGS).is_dir()


def check_writable(folder: Path, option: str = "--out") -> None:
    """Refuse a folder that cannot be made or written, without creating anything yet."""
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{option} {folder}: is a file; give a folder for the outputs")
    existing = folder
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"cannot create {folder}: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{existing}: not writable")


def managed_entries(bucket_folders: Iterable[str]) -> tuple[str, ...]:
    """What a run writes into its folder, by name."""
    return (*bucket_folders, RENAMED_FOLDER, LOGS, PAGE)


def start(folder: Path, bucket_folders: Iterable[str], extra: Iterable[Path] = ()) -> None:
    """Make ``folder`` this run's: an earlier run's outputs go, the marker is written.

    Only what a run manages goes, and only from a folder a run wrote; ``extra`` (the
    ``--report`` file) goes in any case, as this run writes it anew.
    """
    if folder.is_dir() and is_run_folder(folder):
        for name in managed_entries(bucket_folders):
            _remove(folder / name)
    for path in extra:
        _remove(path)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text(MARKER_TEXT, encoding="utf-8")


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    except OSError as error:
        raise UsageError(f"cannot replace {path}: {error.strerror}") from None
