"""A PNG writer that filters and compresses horizontal strips on several threads.

PNG is the slowest variant by far (one deflate stream over the whole image). This module
splits the work the way pigz does, without changing what a decoder sees:

* **Filtering** (``png_filter``): one PNG filter per strip, computed over the whole strip.
* **Deflate** through ISA-L (``isal``): several times faster than zlib on the same rows for
  no more bytes. Each strip is a raw deflate run ending in a sync flush (the last one
  finishes the stream), so the concatenation is one valid zlib stream; the Adler-32
  checksums are combined arithmetically. Strips share no dictionary, so each one depends
  only on its own pixels and the row above.

ISA-L releases the GIL, so strips run in parallel on threads. The result decodes to exactly
the same pixels as ``Image.save(..., "PNG")``; the strip layout does not depend on the
number of threads, so the bytes do not either.
"""

from __future__ import annotations

import functools
import io
import struct
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from isal import isal_zlib
from PIL import Image
from png_filter import BYTES_PER_PIXEL, filter_strip

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_COLOR_TYPE = {"L": 0, "RGB": 2, "LA": 4, "RGBA": 6}
_ADLER_MOD = 65521
DEFAULT_STRIP_BYTES = 1 << 20
# ISA-L's levels run 0..3; 3 is its smallest output (bench/RESULTS.md, "PNG").
DEFAULT_LEVEL = 3


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


# A zlib header: deflate with a 32 KiB window, FLEVEL "default", check bits set.
_ZLIB_HEADER = b"\x78\x9c"


class PngPlan:
    """The strips of one PNG encode: run ``tasks`` (in any order, on any threads), then
    pass their results in order to ``assemble``."""

    def __init__(
        self,
        image: Image.Image,
        *,
        level: int = DEFAULT_LEVEL,
        strip_bytes: int = DEFAULT_STRIP_BYTES,
    ) -> None:
        if image.mode not in _COLOR_TYPE:
            raise ValueError(f"PNG strips support L/LA/RGB/RGBA, not {image.mode}")
        self.image = image
        self.level = level
        self.row_bytes = 1 + image.width * BYTES_PER_PIXEL[image.mode]
        rows = max(1, strip_bytes // self.row_bytes)
        self.strips = [(y, min(image.height, y + rows)) for y in range(0, image.height, rows)]

    @property
    def tasks(self) -> list[Callable[[], StripResult]]:
        return [functools.partial(self._encode_strip, i) for i in range(len(self.strips))]

    def _encode_strip(self, index: int) -> StripResult:
        body = filter_strip(self.image, *self.strips[index])
        compressor = isal_zlib.compressobj(self.level, zlib.DEFLATED, -15)
        last = index == len(self.strips) - 1
        data = compressor.compress(body) + compressor.flush(
            isal_zlib.Z_FINISH if last else isal_zlib.Z_SYNC_FLUSH
        )
        if index == 0:
            data = _ZLIB_HEADER + data
        return StripResult(_chunk(b"IDAT", data), isal_zlib.adler32(body), len(body))

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
    level: int = DEFAULT_LEVEL,
    strip_bytes: int = DEFAULT_STRIP_BYTES,
) -> bytes:
    """Encode on the calling thread (the orchestrator runs ``PngPlan.tasks`` on a pool)."""
    plan = PngPlan(image, level=level, strip_bytes=strip_bytes)
    return plan.assemble([task() for task in plan.tasks], icc_profile)
