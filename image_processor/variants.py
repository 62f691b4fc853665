"""The five image variants: a declarative table and the code that produces them.

Pure: bytes in, encoded variants out. No S3, no Lambda, no boto3. ``make_variants`` decodes
once (``image_decode``), derives every variant from that one image, and runs the encoders on
a thread pool: Pillow releases the GIL while resampling and encoding into a file descriptor,
ISA-L releases it while compressing, so the variants and the PNG's strips overlap.

Output contract (see ``VARIANTS``):

=============  ===================  ======  ==========================================
name           filename             format  pixels
=============  ===================  ======  ==========================================
compressed     compressed.jpg       JPEG    full size, quality 85, alpha composited
low_quality    low_quality.jpg      JPEG    full size, quality 60, alpha composited
webp           image.webp           WEBP    full size, quality 80, alpha kept
png            image.png            PNG     full size, lossless, alpha kept
thumbnail      thumbnail.jpg        JPEG    fits thumbnail_size^2, quality 85, or ...
thumbnail      thumbnail.png        PNG     ... when the source has real transparency
=============  ===================  ======  ==========================================

Every variant is sRGB and carries no ICC profile (``image_colour`` converts the source's
once, in the decode step). Gray sources stay gray in JPEG and PNG (WebP has no gray mode,
so its encoder expands gray to RGB). Fully opaque alpha channels are dropped. Sources
wider or taller than an encoder allows (WebP: 16383 px) get that variant downscaled to
fit, with a note. Animated GIF/WebP/PNG: the first frame, as a viewer
shows it, with its transparency.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import image_changes
from image_decode import DecodedImage, decode
from image_encode import (
    CONTENT_TYPES,
    EXTENSIONS,
    MAX_SIDE,
    SharedImage,
    composite,
    fit_size,
    fit_within,
    save_to_bytes,
    save_to_bytesio,
)
from image_png import PngPlan, StripResult
from image_types import DEFAULT_FORMATS, REASONS, ImageLimits, ImageRejectedError
from PIL import Image

__all__ = [
    "DEFAULT_FORMATS",
    "REASONS",
    "VARIANTS",
    "EncodedVariant",
    "ImageLimits",
    "ImageRejectedError",
    "ImageResult",
    "VariantSpec",
    "make_variants",
    "output_prefix",
]


@dataclass(frozen=True)
class VariantSpec:
    """One row of the variant table."""

    name: str
    stem: str  # filename without extension; the extension follows the format
    format: str  # "JPEG" | "WEBP" | "PNG"
    options: Mapping[str, Any]  # quality is the spec; the rest are speed settings
    thumbnail: bool = False  # False: full size; True: fits ImageLimits.thumbnail_size
    alpha_format: str | None = None  # used instead of ``format`` when the image has alpha
    alpha_options: Mapping[str, Any] = field(default_factory=dict)

    def output_format(self, has_alpha: bool) -> str:
        return self.alpha_format if has_alpha and self.alpha_format else self.format

    def output_options(self, has_alpha: bool) -> Mapping[str, Any]:
        return self.alpha_options if has_alpha and self.alpha_format else self.options

    def filename(self, has_alpha: bool = False) -> str:
        return f"{self.stem}.{EXTENSIONS[self.output_format(has_alpha)]}"


# Speed settings chosen by measurement on a 24 MP photo-like image (bench/RESULTS.md):
# * JPEG optimize (optimal Huffman tables): -13% bytes for ~0.13 s CPU, overlapped on the pool.
#   Progressive saves ~3% more but costs another ~0.15 s and a whole-image coefficient
#   buffer in the encoder, and decodes slower on clients: not used.
# * WebP method 2: 2.4-3x faster than the default method 4 and within +2.5..+6% of its
#   bytes at quality 80 on every bench input (methods 0-1 were up to 27% larger on some).
# * PNG: the strip encoder (one filter per strip, ISA-L deflate level 3, its best): within
#   +4..+7% of Pillow's default level 6 in bytes at about a tenth of its CPU time, split
#   over all cores. The thumbnail's PNG is small: Pillow's own writer at its default level.
JPEG_OPTIONS: dict[str, Any] = {"optimize": True, "progressive": False}
WEBP_METHOD = 2
PNG_LEVEL = 3
THUMBNAIL_PNG_LEVEL = 6

VARIANTS: tuple[VariantSpec, ...] = (
    VariantSpec("compressed", "compressed", "JPEG", {"quality": 85, **JPEG_OPTIONS}),
    VariantSpec("low_quality", "low_quality", "JPEG", {"quality": 60, **JPEG_OPTIONS}),
    VariantSpec("webp", "image", "WEBP", {"quality": 80, "method": WEBP_METHOD}),
    VariantSpec("png", "image", "PNG", {"level": PNG_LEVEL, "strips": True}),
    VariantSpec(
        "thumbnail",
        "thumbnail",
        "JPEG",
        {"quality": 85, **JPEG_OPTIONS},
        thumbnail=True,
        alpha_format="PNG",
        alpha_options={"compress_level": THUMBNAIL_PNG_LEVEL},
    ),
)


@dataclass(frozen=True)
class EncodedVariant:
    name: str
    filename: str
    format: str
    content_type: str
    width: int
    height: int
    mode: str
    body: bytes
    encode_ms: float


@dataclass(frozen=True)
class ImageResult:
    source_format: str
    source_width: int
    source_height: int
    source_mode: str
    variants: list[EncodedVariant]
    notes: list[str]
    decode_ms: float = 0.0  # the decode step, colour included (bench/bench_icc.py)
    changes: list[dict[str, Any]] = field(default_factory=list)  # image_changes


# --------------------------------------------------------------------------- orchestration


@dataclass
class _Job:
    """A variant being built: the pixels it encodes and the tasks that encode them."""

    spec: VariantSpec
    format: str
    options: Mapping[str, Any]
    pixels: Callable[[], Image.Image]
    png: PngPlan | None = None


def _timed(fn: Callable[[], Any]) -> Callable[[], tuple[Any, float, float]]:
    def run() -> tuple[Any, float, float]:
        start = time.perf_counter()
        value = fn()
        return value, start, time.perf_counter()

    return run


def _run_chain(
    steps: list[tuple[int, Callable[[], tuple[Any, float, float]]]],
) -> list[tuple[int, tuple[Any, float, float]]]:
    return [(index, step()) for index, step in steps]


def _workers(limits: ImageLimits) -> int:
    if limits.threads:
        return limits.threads
    count = getattr(os, "process_cpu_count", os.cpu_count)()
    return max(1, count or 1)


def _encode_single(job: _Job) -> tuple[bytes, Image.Image]:
    image = job.pixels()
    options = dict(job.options)
    if job.format == "JPEG":
        return save_to_bytes(image, "JPEG", **options), image
    if job.format == "WEBP":
        return save_to_bytesio(image, "WEBP", **options), image
    if job.format == "PNG":
        return save_to_bytes(image, "PNG", **options), image
    raise AssertionError(f"no single-task encoder for {job.format}")  # pragma: no cover


def _plan(
    decoded: DecodedImage,
    limits: ImageLimits,
    specs: Sequence[VariantSpec],
    changes: list[dict[str, Any]],
) -> list[_Job]:
    base = decoded.image
    has_alpha = decoded.has_alpha
    notes = decoded.notes
    size = limits.thumbnail_size
    thumb = SharedImage(lambda: fit_within(base, size))
    flat = SharedImage(lambda: composite(base, limits.background))
    flat_thumb = SharedImage(lambda: composite(thumb.get(), limits.background))
    full = SharedImage(lambda: base)
    if has_alpha and any(s.output_format(True) == "JPEG" for s in specs):
        hex_bg = "#{:02x}{:02x}{:02x}".format(*limits.background)
        notes.append(f"alpha: composited over {hex_bg} for JPEG")

    jobs: list[_Job] = []
    for spec in specs:
        fmt = spec.output_format(has_alpha)
        flatten = fmt == "JPEG" and has_alpha
        if spec.thumbnail:
            pixels = (flat_thumb if flatten else thumb).get
        else:
            pixels = (flat if flatten else full).get
        w, h = fit_size(base.size, size) if spec.thumbnail else base.size
        if max(w, h) > MAX_SIDE[fmt]:
            limit = MAX_SIDE[fmt]
            pixels = SharedImage(lambda p=pixels, m=limit: fit_within(p(), m)).get
            notes.append(f"{spec.name}: downscaled to fit {fmt}'s {limit} px side limit")
            changes.append(
                image_changes.scaled_to_fit(spec.name, fmt, limit, fit_size((w, h), limit))
            )
        job = _Job(spec, fmt, spec.output_options(has_alpha), pixels)
        if fmt == "PNG" and job.options.get("strips"):
            job.png = PngPlan(pixels(), level=int(job.options["level"]))
        jobs.append(job)
    return jobs


def make_variants(
    data: bytes, limits: ImageLimits | None = None, *, specs: Sequence[VariantSpec] = VARIANTS
) -> ImageResult:
    """Decode ``data`` once and encode every variant in ``specs``.

    Raises ``ImageRejectedError`` for every input the bytes are to blame for (reason codes in
    ``REASONS``); anything else that escapes is a bug or an environment fault (MemoryError).
    """
    limits = limits or ImageLimits()
    decoded = decode(data, limits)
    bits = image_changes.source_bits(data, decoded.source_format, decoded.source_mode)
    changes = image_changes.from_decode(bits, decoded.notes)
    jobs = _plan(decoded, limits, specs, changes)

    # Memory, not only time, decides the schedule: the full-size JPEG and WebP encoders each
    # hold a large working buffer (libjpeg's whole-image coefficient buffer for optimized
    # Huffman tables, libwebp's YUV picture), so they run one after another in a single
    # task, longest first. The PNG strips, small and independent, keep the other cores busy
    # and take over this one when the chain is done.
    order = {"WEBP": 0, "JPEG": 1, "PNG": 2}
    chain = sorted(
        (i for i, job in enumerate(jobs) if job.png is None),
        key=lambda i: (jobs[i].spec.thumbnail, order[jobs[i].format]),
    )
    tasks: list[tuple[int, Callable[[], Any]]] = []
    if chain:
        steps = [(i, _timed(functools.partial(_encode_single, jobs[i]))) for i in chain]
        tasks.append((-1, functools.partial(_run_chain, steps)))
    for index, job in enumerate(jobs):
        if job.png is not None:
            tasks.extend((index, _timed(task)) for task in job.png.tasks)

    workers = min(_workers(limits), len(tasks))
    if workers <= 1:
        results = [(index, task()) for index, task in tasks]
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="variant") as pool:
            futures = [(index, pool.submit(task)) for index, task in tasks]
            results = [(index, future.result()) for index, future in futures]
    outcomes: list[tuple[int, tuple[Any, float, float]]] = []
    for index, value in results:
        if index == -1:
            outcomes.extend(value)
        else:
            outcomes.append((index, value))

    variants: list[EncodedVariant] = []
    for index, job in enumerate(jobs):
        mine = [outcome for i, outcome in outcomes if i == index]
        span_start = min(start for _, start, _ in mine)
        if job.png is not None:
            strips: list[StripResult] = [value for value, _, _ in mine]
            body = job.png.assemble(strips, None)
            image = job.png.image
            span_end = time.perf_counter()
        else:
            (body, image), _, span_end = mine[0]
        mode = image.mode
        if job.format == "WEBP":
            mode = "RGBA" if image.mode in ("LA", "RGBA") else "RGB"
        variants.append(
            EncodedVariant(
                name=job.spec.name,
                filename=job.spec.filename(decoded.has_alpha),
                format=job.format,
                content_type=CONTENT_TYPES[job.format],
                width=image.width,
                height=image.height,
                mode=mode,
                body=body,
                encode_ms=round((span_end - span_start) * 1000, 3),
            )
        )
    return ImageResult(
        source_format=decoded.source_format,
        source_width=decoded.source_width,
        source_height=decoded.source_height,
        source_mode=decoded.source_mode,
        variants=variants,
        notes=list(decoded.notes),
        changes=changes,
        decode_ms=round(decoded.decode_ms, 3),
    )


# --------------------------------------------------------------------------- keys, settings


def output_prefix(source_key: str, upload_prefix: str = "images/") -> str:
    """The processed-bucket prefix for a source key: the whole key minus the upload prefix.

    ``"images/a/b/cat 1.jpg"`` -> ``"a/b/cat 1.jpg"``. The extension stays, so ``logo.png``
    and ``logo.jpg`` never share outputs. Keys outside ``upload_prefix`` are used whole.
    Raises ValueError for folder markers (keys ending in "/") and for the bare prefix, which
    name no image.
    """
    name = source_key[len(upload_prefix) :] if source_key.startswith(upload_prefix) else source_key
    if not name or name.endswith("/"):
        raise ValueError(f"S3 key {source_key!r} names a folder, not an image")
    return name
