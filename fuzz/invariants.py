"""What every input must lead to, for the imaging and CSV cores.

Either a valid output or the core's one rejection exception with a known reason: no other
exception, no hang past a time bound, peak memory within a bound. ``check_image`` and
``check_csv`` return a short outcome label ("ok", "rejected:<reason>") and raise
``Violation`` (an AssertionError) when an output is wrong; any other exception from the core
propagates unchanged, and that is a finding too.

``Bounds`` enforces time and memory around one call:

* time: ``setitimer`` raises ``Hang`` in the main thread after ``seconds``; a
  ``faulthandler`` watchdog kills the process (with every thread's stack) at 3x that, for
  hangs inside C code that never return to the interpreter.
* memory: the process's peak RSS (``VmHWM``) is reset before the call through
  ``/proc/self/clear_refs`` and read after it, so the bound is on this call's own peak
  over the RSS it started with. Where that file is not writable the lifetime peak
  (``ru_maxrss``) is checked instead, which is weaker but never wrong.
"""

from __future__ import annotations

import faulthandler
import io
import json
import math
import re
import resource
import signal
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from csv_errors import REASONS as CSV_REASONS
from csv_errors import CsvRejectedError
from image_encode import MAX_SIDE, fit_size
from image_types import REASONS as IMAGE_REASONS
from image_types import ImageLimits, ImageRejectedError
from PIL import Image
from summarize import CsvLimits, summarize
from variants import VARIANTS, make_variants

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "csv_summarizer" / "summary.schema.json"

# Small limits keep every example cheap while still exercising each limit's code path.
IMAGE_LIMITS = ImageLimits(max_pixels=4_000_000, threads=1)
CSV_LIMITS = CsvLimits(
    max_field_bytes=4096,
    distinct_cap=200,
    max_examples=3,
    max_columns=256,
    quantile_sample=512,
    top_k=3,
    memory_budget_bytes=8 << 20,
    block_size=64 << 10,  # many batches per input: block boundaries get exercised
)
MB = 1 << 20


def image_memory_bound(limits: ImageLimits) -> int:
    """Peak RSS growth allowed for one image: 32 bytes per allowed pixel + 96 MB.

    Measured: a 2000x2000 RGBA PNG (4 MP) peaks at ~70 MB over its starting RSS. A file
    that gets past the pixel limit and still allocates more is a decompression bomb.
    """
    return 32 * limits.max_pixels + 96 * MB


def csv_memory_bound(limits: CsvLimits, size: int) -> int:
    """Streaming: the block buffers (``execute`` reads two blocks ahead), the memory budget,
    pyarrow's per-batch arrays (a few times the input), and 96 MB of slack."""
    block = max(limits.block_size, 2 * limits.max_field_bytes + (64 << 10))
    return 6 * block + limits.memory_budget_bytes + 4 * size + 96 * MB


class Violation(AssertionError):
    """An output that breaks the contract."""


class Hang(Exception):
    """The call ran past its time bound."""


class MemoryBlowup(Exception):
    """The call's peak RSS grew past its bound."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise Violation(message)


# --------------------------------------------------------------------------- bounds

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _status_kb(field: str) -> int:
    match = re.search(rf"^{field}:\s+(\d+) kB", _STATUS.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else 0


@cache
def _can_reset_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _on_alarm(signum: int, frame: object) -> None:
    raise Hang("time bound exceeded")


@contextmanager
def bounds(seconds: float, memory: int, *, alarm: bool = True) -> Iterator[None]:
    """Run the body under a time bound and a peak-RSS bound.

    ``alarm=False`` leaves SIGALRM alone (libFuzzer owns it under atheris): the watchdog
    alone then bounds the time, at 3x ``seconds``.
    """
    main = alarm and threading.current_thread() is threading.main_thread()
    if main:
        previous = signal.signal(signal.SIGALRM, _on_alarm)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(3 * seconds, exit=True)
    if _can_reset_peak():
        start = _status_kb("VmRSS") * 1024
        _CLEAR_REFS.write_text("5")
    else:
        start = _lifetime_peak()
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
        if main:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
    peak = _status_kb("VmHWM") * 1024 if _can_reset_peak() else _lifetime_peak()
    if peak - start > memory:
        raise MemoryBlowup(f"peak RSS grew by {(peak - start) // MB} MB (bound {memory // MB} MB)")


def _lifetime_peak() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --------------------------------------------------------------------------- image


def _decode_variant(body: bytes, fmt: str) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(body), formats=[fmt])
        image.load()
    return image


def check_image(data: bytes, limits: ImageLimits = IMAGE_LIMITS) -> str:
    """Run ``make_variants``; check the outcome; return "ok" or "rejected:<reason>"."""
    try:
        result = make_variants(data, limits)
    except ImageRejectedError as error:
        _require(error.reason in IMAGE_REASONS, f"unknown reason {error.reason!r}")
        _require(isinstance(error.message, str) and bool(error.message), "empty message")
        return f"rejected:{error.reason}"

    sw, sh = result.source_width, result.source_height
    _require(sw >= 1 and sh >= 1, f"source size {sw}x{sh}")
    _require(sw * sh <= limits.max_pixels, f"{sw}x{sh} passed max_pixels={limits.max_pixels}")
    names = [v.name for v in result.variants]
    _require(names == [s.name for s in VARIANTS], f"variants {names}")
    full: tuple[int, int] | None = None
    for variant in result.variants:
        image = _decode_variant(variant.body, variant.format)
        size = (variant.width, variant.height)
        label = f"{variant.name} ({variant.format})"
        _require(image.format == variant.format, f"{label} decodes as {image.format}")
        _require(image.size == size, f"{label} is {image.size}, reported {size}")
        _require(image.mode == variant.mode, f"{label} mode {image.mode} != {variant.mode}")
        _require(image.mode in ("L", "LA", "RGB", "RGBA"), f"{label} mode {image.mode}")
        _require(not image.getexif(), f"{label} carries EXIF")
        _require("xmp" not in image.info, f"{label} carries XMP")
        _require("icc_profile" not in image.info, f"{label} carries an ICC profile")
        _require(variant.filename.endswith((".jpg", ".webp", ".png")), variant.filename)
        if variant.name == "thumbnail":
            continue
        # Full-size variants: the upright source size (EXIF may swap the sides), unless
        # the encoder's side limit forced a downscale (then noted).
        upright = {(sw, sh), (sh, sw)}
        if size not in upright:
            limit = MAX_SIDE[variant.format]
            _require(max(size) <= limit, f"{label} {size} exceeds the {limit} px side limit")
            _require(
                any(variant.name in note and "downscaled" in note for note in result.notes),
                f"{label} is {size}, not the source size {sw}x{sh}, and no note says why",
            )
        elif full is None:
            full = size
        else:
            _require(size == full, f"{label} is {size}, other full-size variants are {full}")
    thumb = result.variants[-1]
    box = limits.thumbnail_size
    _require(max(thumb.width, thumb.height) <= box, f"thumbnail {thumb.width}x{thumb.height}")
    if full is not None:
        expected = fit_size(full, box)
        _require((thumb.width, thumb.height) == expected, f"thumbnail != fit_size {expected}")
    return "ok"


# --------------------------------------------------------------------------- csv


@cache
def csv_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


class ChunkedStream(io.RawIOBase):
    """Like botocore's StreamingBody: short reads, not seekable."""

    def __init__(self, data: bytes, chunk: int = 4093) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = len(self._data)
        out = bytes(self._data[self._pos : self._pos + min(n, self._chunk)])
        self._pos += len(out)
        return out


def check_csv(data: bytes, limits: CsvLimits = CSV_LIMITS) -> str:
    """Run ``summarize``; check the outcome; return "ok" or "rejected:<reason>"."""
    try:
        summary = summarize(ChunkedStream(data), limits)  # type: ignore[arg-type]
    except CsvRejectedError as error:
        _require(error.reason in CSV_REASONS, f"unknown reason {error.reason!r}")
        _require(isinstance(error.message, str) and bool(error.message), "empty message")
        return f"rejected:{error.reason}"
    check_summary(summary, data, limits)
    return "ok"


def check_summary(summary: dict[str, Any], data: bytes, limits: CsvLimits) -> None:
    try:
        text = json.dumps(summary, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise Violation(f"summary is not strict JSON: {exc}") from exc
    out = json.loads(text)
    errors = sorted(csv_validator().iter_errors(out), key=lambda e: list(e.absolute_path))
    _require(not errors, f"schema: {errors[0].message if errors else ''} at "
             f"{list(errors[0].absolute_path) if errors else ''}")  # fmt: skip

    rows, issues, columns = out["rows"], out["issues"], out["columns"]
    ragged = issues["ragged_rows"]["count"]
    oversized = issues["field_too_large"]["count"]
    long_records = issues.get("record_too_large", {"count": 0, "first": []})["count"]
    _require(out["column_count"] == len(columns) >= 1, "column_count != len(columns)")
    _require([c["position"] for c in columns] == list(range(1, len(columns) + 1)), "positions")
    names = [c["name"] for c in columns]
    _require(len(set(names)) == len(names), f"column names not unique: {names}")
    _require(len(columns) <= limits.max_columns, "more columns than max_columns")
    _require(0 <= ragged <= rows, f"ragged {ragged} > rows {rows}")
    _require(issues["header_only"] == (rows == 0 and out["dialect"]["header"]), "header_only")
    if out["dialect"]["compression"] is None and limits.max_bytes is None:
        _require(out["bytes"] == len(data), f"bytes {out['bytes']} != input {len(data)}")
    if out["truncated"] is False:
        _require(oversized == long_records == 0 and issues["parse_error"] is None, "truncated flag")
    for key in ("ragged_rows", "field_too_large", "record_too_large"):
        if key in issues:
            _require(len(issues[key]["first"]) <= limits.max_examples, f"{key} examples")
    _require(len(issues["blank_lines"]["first_lines"]) <= limits.max_examples, "blank examples")
    summarized = {c["count"] + c["nulls"] for c in columns}
    _require(len(summarized) == 1, f"columns summarize different row counts: {summarized}")
    (per_column,) = summarized
    # Ragged rows are counted but not summarized; a row with an oversized field is dropped,
    # and so is an over-long record.
    dropped = rows - ragged - per_column
    _require(0 <= dropped <= oversized + long_records, f"rows {rows} - ragged {ragged} - "
             f"summarized {per_column} = {dropped}, but only {oversized} oversized fields "
             f"and {long_records} long records")  # fmt: skip
    for c in columns:
        _check_column(c, limits)


def _check_column(c: dict[str, Any], limits: CsvLimits) -> None:
    name, count, nulls = c["name"], c["count"], c["nulls"]
    total = count + nulls
    if total:
        _require(math.isclose(c["null_ratio"], nulls / total, abs_tol=1e-6), f"{name} null_ratio")
    _require(c["misfits"]["count"] <= count, f"{name} misfits > count")
    _require(len(c["misfits"]["examples"]) <= limits.max_examples, f"{name} misfit examples")
    _require(len(c["top_values"]) <= limits.top_k, f"{name} top_values > top_k")
    top = [t["count"] for t in c["top_values"]]
    _require(top == sorted(top, reverse=True), f"{name} top_values not sorted")
    if not c["distinct_approximate"]:
        _require(c["distinct"] <= count, f"{name} distinct {c['distinct']} > count {count}")
        _require(sum(top) <= count, f"{name} top counts exceed count")
    if c["type"] == "null":
        _require(count == 0, f"{name} null type with {count} values")
    if c["type"] in ("integer", "number") and c["min"] is not None:
        _require(c["min"] <= c["max"], f"{name} min > max")
        q = c["quantiles"]
        if q is not None:
            qs = [q["q25"], q["q50"], q["q75"]]
            _require(qs == sorted(qs), f"{name} quantiles not ordered: {qs}")
            # Quantiles come from float64 samples: compare in float (huge ints round).
            lo, hi = _as_float(c["min"]), _as_float(c["max"])
            _require(lo <= qs[0] and qs[2] <= hi, f"{name} quantiles outside range")
    if c["type"] in ("date", "datetime", "string") and c["min"] is not None:
        _require(c["min"] <= c["max"], f"{name} min > max")
    if c["min_length"] is not None:
        _require(0 <= c["min_length"] <= c["max_length"], f"{name} lengths")


def _as_float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:  # an exact int beyond the float range
        return math.inf if value > 0 else -math.inf


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


__all__ = [
    "CSV_LIMITS",
    "IMAGE_LIMITS",
    "Hang",
    "MemoryBlowup",
    "Violation",
    "bounds",
    "check_csv",
    "check_image",
    "csv_memory_bound",
    "image_memory_bound",
]

if __name__ == "__main__":  # pragma: no cover - triage: python -m fuzz.invariants csv FILE
    target, path = sys.argv[1], sys.argv[2]
    blob = Path(path).read_bytes()
    print((check_image if target == "image" else check_csv)(blob))
