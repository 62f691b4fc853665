"""Inputs generated for the end-to-end tests, each with what the pipeline must make of it."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

from PIL import Image

ORIENTATION = 0x0112

# Stored 80x40 with EXIF Orientation=6: upright it is 40 wide and 80 tall.
ROTATED_STORED_SIZE = (80, 40)
ROTATED_UPRIGHT_SIZE = (40, 80)
CSV_ROWS = 37
GZ_ROWS = 12


def rotated_jpeg() -> bytes:
    image = Image.new("RGB", ROTATED_STORED_SIZE, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def transparent_png() -> bytes:
    image = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    image.paste((20, 160, 60, 255), (16, 12, 48, 36))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def mixed_csv(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "day", "amount", "ok", "label"])
    for i in range(rows):
        amount = "" if i % 5 == 0 else f"{i * 1.25:.2f}"
        writer.writerow([i, f"2026-03-{1 + i % 28:02d}", amount, i % 2 == 0, f"item, {i}"])
    return out.getvalue().encode()


def write_inputs(folder: Path) -> dict[str, dict[str, str]]:
    """Write the inputs under folder; return {relative path: {"key", "outcome"}}."""
    files = {
        "photos/rotated.jpg": (rotated_jpeg(), "images/photos/rotated.jpg", "results"),
        # No extension: routed by its bytes.
        "logo": (transparent_png(), "images/logo", "results"),
        "holiday photos/café à la plage ☀.png": (
            transparent_png(),
            "images/holiday photos/café à la plage ☀.png",
            "results",
        ),
        "reports/2026/sales.csv": (mixed_csv(CSV_ROWS), "csv/reports/2026/sales.csv", "results"),
        "sales-archive.csv.gz": (
            gzip.compress(mixed_csv(GZ_ROWS), mtime=0),
            "csv/sales-archive.csv.gz",
            "results",
        ),
        "broken.jpg": (b"plain text, named like a JPEG\n", "images/broken.jpg", "error_report"),
        "empty.csv": (b"\n\n", "csv/empty.csv", "error_report"),
        "notes.txt": (b"neither an image nor a CSV\n", "", "skipped"),
    }
    expected = {}
    for relative, (body, key, outcome) in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        expected[relative] = {"key": key, "outcome": outcome}
    return expected
