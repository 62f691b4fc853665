"""PNG row filtering for a horizontal strip, vectorised over the whole strip.

PNG filters each row against the row above (Up), the pixel to the left (Sub), or both
(Average, Paeth); decoders undo any of them, so the pixels never depend on the choice, only
the bytes do. Pillow's writer picks a filter per row in a C loop that costs about twice the
ISA-L deflate of a full-size PNG; here one filter serves a whole strip and is computed with
``ImageChops`` (C, a few passes over memory). Each strip takes the filter whose sample
deflates smallest; Pillow's per-row choice stays a candidate for the content where Paeth
clearly wins (smooth synthetic gradients), at its own cost.

The strip's bytes are viewed as one 8-bit ("L") image ``width * bytes_per_pixel`` wide, so
Sub is a shift by one pixel's bytes and every mode is handled alike.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

from isal import isal_zlib
from PIL import Image, ImageChops

BYTES_PER_PIXEL = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}
NONE, SUB, UP, AVERAGE = 0, 1, 2, 3
ADAPTIVE = -1  # Pillow's per-row choice
SAMPLE_FRACTION = 16  # the estimate deflates the middle sixteenth of the strip's rows
# Pillow's filtering costs about three times ours: taken only when its sample deflates
# at least this much smaller (bench/RESULTS.md, "PNG filtering").
ADAPTIVE_GAIN = 0.95


def _shifted(image: Image.Image, size: tuple[int, int], dx: int, dy: int) -> Image.Image:
    """``image`` moved by (dx, dy) in a zero-filled frame of ``size``. Pasting, not
    cropping: Pillow checks every crop against the decoder's pixel limit, and these views
    are up to four times wider than the image."""
    frame = Image.new("L", size)
    frame.paste(image, (dx, dy))
    return frame


def _filters(cur: Image.Image, up: Image.Image, bpp: int) -> dict[int, Callable[[], Image.Image]]:
    left = _shifted(cur, cur.size, bpp, 0)
    return {
        NONE: lambda: cur,
        SUB: lambda: ImageChops.subtract_modulo(cur, left),
        UP: lambda: ImageChops.subtract_modulo(cur, up),
        # add(..., scale=2) is floor((left + up) / 2) for 8-bit values, PNG's Average.
        AVERAGE: lambda: ImageChops.subtract_modulo(cur, ImageChops.add(left, up, scale=2.0)),
    }


def _idat(png: bytes) -> bytes:
    parts, pos = [], 8
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        if png[pos + 4 : pos + 8] == b"IDAT":
            parts.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(parts)


def pillow_filtered(image: Image.Image, y0: int, y1: int) -> bytes:
    """Rows ``y0..y1`` filtered by Pillow's writer: saved uncompressed and inflated again
    (stored blocks: a memcpy). The row above is filtered too, then dropped, so row ``y0``
    sees its real neighbour, as in a whole-image encode."""
    top = max(0, y0 - 1)
    stored = io.BytesIO()
    image.crop((0, top, image.width, y1)).save(stored, "PNG", compress_level=0)
    rows = zlib.decompress(_idat(stored.getvalue()))
    return rows[(y0 - top) * (1 + image.width * BYTES_PER_PIXEL[image.mode]) :]


def _strip_views(image: Image.Image, y0: int, y1: int) -> tuple[Image.Image, Image.Image, int]:
    """The strip's bytes and the rows above them, as L images ``width * bpp`` wide."""
    bpp = BYTES_PER_PIXEL[image.mode]
    width = image.width * bpp
    top = max(0, y0 - 1)
    raw = Image.frombytes("L", (width, y1 - top), image.crop((0, top, image.width, y1)).tobytes())
    size, first = (width, y1 - y0), y0 - top
    # Above row 0 the frame stays zero: PNG's row -1.
    return _shifted(raw, size, 0, -first), _shifted(raw, size, 0, 1 - first), bpp


def choose_filter(image: Image.Image, y0: int, y1: int) -> int:
    """The filter whose rows deflate smallest on a contiguous sample of the strip.

    Deflating the sample (ISA-L's fastest level) sees what the real compressor sees: runs
    and repeats, not only small values; libpng's sum-of-magnitudes guess picked filters
    10-20% worse on text and gradients in our measurements.
    """
    rows = max(1, (y1 - y0) // SAMPLE_FRACTION)
    top = y0 + (y1 - y0 - rows) // 2
    cur, up, bpp = _strip_views(image, top, top + rows)
    candidates = _filters(cur, up, bpp)
    sizes = {
        kind: len(isal_zlib.compress(make().tobytes(), 0)) for kind, make in candidates.items()
    }
    best = min(sizes, key=sizes.__getitem__)
    adaptive = len(isal_zlib.compress(pillow_filtered(image, top, top + rows), 0))
    return ADAPTIVE if adaptive < sizes[best] * ADAPTIVE_GAIN else best


def filter_strip(image: Image.Image, y0: int, y1: int) -> bytes:
    """Rows ``y0..y1`` of ``image`` as PNG filtered scanlines (filter-type byte + row)."""
    kind = choose_filter(image, y0, y1)
    if kind == ADAPTIVE:
        return pillow_filtered(image, y0, y1)
    cur, up, bpp = _strip_views(image, y0, y1)
    width, height = cur.size
    scanlines = Image.new("L", (width + 1, height), kind)  # column 0: the filter type
    scanlines.paste(_filters(cur, up, bpp)[kind](), (1, 0))
    return scanlines.tobytes()
