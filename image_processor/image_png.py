"""A PNG writer that compresses horizontal strips on several threads.

PNG is the slowest variant by far (one zlib stream over the whole image). This module splits
the work the way pigz does, without changing what a decoder sees:

* **Filtering** is Pillow's own adaptive filter (None/Sub/Up/Paeth per row, as libpng's
  heuristic). Pillow's encoder filters even at ``compress_level=0``, so each strip is saved
  with level 0 and its IDAT inflated again (stored blocks: a memcpy) to get the filtered rows.
  A row's filter depends only on that row and the one above, so each strip is cropped with
  the rows just above it; those context rows are filtered exactly as in a whole-image encode
  and are dropped from the strip's output.
* **Deflate** runs per strip with the previous strip's last 32 KiB of filtered data as the
  preset dictionary, ending in a sync flush (the last strip finishes the stream). The
  concatenation is one valid zlib stream; the Adler-32 checksums are combined arithmetically.

Pillow's savers and CPython's zlib release the GIL, so strips run in parallel on threads. The
result decodes to exactly the same pixels as ``Image.save(..., "PNG")``; the strip layout does
not depend on the number of threads, so the bytes do not either.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
_BYTES_PER_PIXEL = {"L": 1, "RGB": 3, "LA": 2, "RGBA": 4}
_WINDOW = 32 * 1024
_ADLER_MOD = 65521
DEFAULT_STRIP_BYTES = 1 << 20


@dataclass(frozen=True)
class StripResult:
    chunk: bytes  # one complete IDAT chunk (length, type, data, CRC)
    adler: int  # Adler-32 of this strip's filtered bytes
    length: int  # number of filtered bytes in this strip


def adler32_combine(adler1: int, adler2: int, len2: int) -> int:
    """Adler-32 of A+B from adler(A), adler(B) and len(B) (zlib's adler32_combine)."""
    rem = len2 % _ADLER_MOD
    a1, b1 = adler1 & 0xFFFF, adler1 >> 16
    a2, b2 = adler2 & 0xFFFF, adler2 >> 16
    a = (a1 + a2 - 1) % _ADLER_MOD
    b = (b1 + b2 + rem * a1 - rem) % _ADLER_MOD
    return (b << 16) | a


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _idat_payload(png: bytes) -> bytes:
    parts = []
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind = png[pos + 4 : pos + 8]
        if kind == b"IDAT":
            parts.append(png[pos + 8 : pos + 8 + length])
        pos += 12 + length
    return b"".join(parts)


def _zlib_header(level: int) -> bytes:
    flevel = 0 if level <= 1 else 1 if level <= 5 else 2 if level == 6 else 3
    cmf = 0x78
    flg = flevel << 6
    flg += 31 - ((cmf << 8) + flg) % 31
    return bytes((cmf, flg))


class PngPlan:
    """The strips of one PNG encode: run ``tasks`` (in any order, on any threads), then
    pass their results in order to ``assemble``."""

    def __init__(
        self,
        image: Image.Image,
        *,
        level: int = 6,
        strategy: int = zlib.Z_FILTERED,
        strip_bytes: int = DEFAULT_STRIP_BYTES,
    ) -> None:
        if image.mode not in _COLOR_TYPE:
            raise ValueError(f"PNG strips support L/LA/RGB/RGBA, not {image.mode}")
        self.image = image
        self.level = level
        self.strategy = strategy
        self.row_bytes = 1 + image.width * _BYTES_PER_PIXEL[image.mode]
        rows = max(1, strip_bytes // self.row_bytes)
        self.strips = [(y, min(image.height, y + rows)) for y in range(0, image.height, rows)]
        self.context_rows = -(-_WINDOW // self.row_bytes)

    @property
    def tasks(self) -> list[Callable[[], StripResult]]:
        return [functools.partial(self._encode_strip, i) for i in range(len(self.strips))]

    def _filtered_rows(self, top: int, bottom: int) -> bytes:
        strip = self.image.crop((0, top, self.image.width, bottom))
        stored = io.BytesIO()
        strip.save(stored, "PNG", compress_level=0)
        return zlib.decompress(_idat_payload(stored.getvalue()))

    def _encode_strip(self, index: int) -> StripResult:
        y0, y1 = self.strips[index]
        # One extra row above the dictionary rows: it is filtered against an all-zero row
        # (Pillow's start state) and is therefore dropped, unless it really is row 0.
        top = max(0, y0 - self.context_rows - 1)
        raw = self._filtered_rows(top, y1)
        skip = (y0 - top) * self.row_bytes
        body = memoryview(raw)[skip:]
        args = (self.level, zlib.DEFLATED, -15, 9, self.strategy)
        if y0 > 0:
            compressor = zlib.compressobj(*args, zdict=raw[max(0, skip - _WINDOW) : skip])
        else:
            compressor = zlib.compressobj(*args)
        last = index == len(self.strips) - 1
        data = compressor.compress(body) + compressor.flush(
            zlib.Z_FINISH if last else zlib.Z_SYNC_FLUSH
        )
        if index == 0:
            data = _zlib_header(self.level) + data
        return StripResult(_chunk(b"IDAT", data), zlib.adler32(body), len(body))

    def assemble(self, results: Sequence[StripResult], icc_profile: bytes | None) -> bytes:
        image = self.image
        out = io.BytesIO()
        out.write(PNG_SIGNATURE)
        ihdr = struct.pack(
            ">IIBBBBB", image.width, image.height, 8, _COLOR_TYPE[image.mode], 0, 0, 0
        )
        out.write(_chunk(b"IHDR", ihdr))
        if icc_profile:
            out.write(_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(icc_profile)))
        adler = 1
        for result in results:
            out.write(result.chunk)
            adler = adler32_combine(adler, result.adler, result.length)
        out.write(_chunk(b"IDAT", struct.pack(">I", adler)))
        out.write(_chunk(b"IEND", b""))
        return out.getvalue()


def encode_png(
    image: Image.Image,
    icc_profile: bytes | None = None,
    *,
    level: int = 6,
    strategy: int = zlib.Z_FILTERED,
    strip_bytes: int = DEFAULT_STRIP_BYTES,
) -> bytes:
    """Encode on the calling thread (the orchestrator runs ``PngPlan.tasks`` on a pool)."""
    plan = PngPlan(image, level=level, strategy=strategy, strip_bytes=strip_bytes)
    return plan.assemble([task() for task in plan.tasks], icc_profile)
