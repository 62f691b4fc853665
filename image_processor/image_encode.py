"""Encoders and per-format pixel preparation for the variants.

Nothing here reads or writes source metadata: images arrive sRGB with ``info == {}``, and no
output carries any metadata, an ICC profile included.
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
from typing import IO, Any

from PIL import Image

# Largest side each encoder accepts (libjpeg: 65500; libwebp: 16383). PNG has no practical
# limit below max_pixels.
MAX_SIDE = {"JPEG": 65_500, "WEBP": 16_383, "PNG": 2**31 - 1}
CONTENT_TYPES = {"JPEG": "image/jpeg", "WEBP": "image/webp", "PNG": "image/png"}
EXTENSIONS = {"JPEG": "jpg", "WEBP": "webp", "PNG": "png"}


def _scratch_file() -> IO[bytes]:
    """A real file descriptor backed by memory where possible.

    Pillow encodes straight into a file descriptor with the GIL released
    (``encode_to_file``), while encoding into a BytesIO holds the GIL for JPEG. An
    anonymous memfd gives the former without touching the disk.
    """
    memfd_create = getattr(os, "memfd_create", None)
    if memfd_create is not None:
        try:
            return open(memfd_create("variant", os.MFD_CLOEXEC), "w+b")
        except OSError:
            pass
    return tempfile.TemporaryFile()


def detached(image: Image.Image) -> Image.Image:
    """A new Image object over the same pixel memory (no copy), with empty ``info``.

    ``Image.save`` stores its parameters on the Image object (``encoderinfo``), so two
    threads must never save the same object at once; each encode saves its own view.
    """
    view = image._new(image.im)
    view.info = {}
    return view


def save_to_bytes(image: Image.Image, fmt: str, **params: Any) -> bytes:
    """``image.save`` into bytes through a file descriptor (GIL released while encoding)."""
    with _scratch_file() as fh:
        detached(image).save(fh, fmt, **params)
        fh.seek(0)
        return fh.read()


def save_to_bytesio(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    detached(image).save(buffer, fmt, **params)
    return buffer.getvalue()


def composite(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Flatten LA/RGBA over an opaque background; L/RGB pass through.

    Gray-with-alpha stays gray when the background is gray. The alpha channel is the paste
    mask, so partially transparent pixels blend linearly with the background.
    """
    if image.mode not in ("LA", "RGBA"):
        return image
    r, g, b = background
    if image.mode == "LA" and r == g == b:
        base = Image.new("L", image.size, r)
        base.paste(image.getchannel("L"), (0, 0), image.getchannel("A"))
        return base
    base = Image.new("RGB", image.size, background)
    base.paste(image.convert("RGBA") if image.mode == "LA" else image, (0, 0), image)
    return base


def fit_size(size: tuple[int, int], box: int) -> tuple[int, int]:
    """The size that fits in ``box`` x ``box``: aspect ratio kept, never upscaled, >= 1 px."""
    width, height = size
    if width <= box and height <= box:
        return size
    scale = min(box / width, box / height)
    return (max(1, min(box, round(width * scale))), max(1, min(box, round(height * scale))))


def fit_within(image: Image.Image, box: int) -> Image.Image:
    """Downscale (never upscale) so both sides fit in ``box``.

    Lanczos with ``reducing_gap=3``: Pillow first shrinks by an integer factor with a box
    filter (cheap, in C, GIL released), then resamples the last step at least 3x above the
    target size, which is indistinguishable from a full Lanczos pass.
    """
    size = fit_size(image.size, box)
    if size == image.size:
        return image
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


class SharedImage:
    """Compute a derived image once, on whichever thread asks first."""

    def __init__(self, make: Any) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._value: Image.Image | None = None

    def get(self) -> Image.Image:
        with self._lock:
            if self._value is None:
                self._value = self._make()
            return self._value
