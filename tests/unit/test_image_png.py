"""The strip-parallel PNG writer decodes to exactly the pixels Pillow's writer gives."""

from __future__ import annotations

import io
import random
import zlib
from concurrent.futures import ThreadPoolExecutor

import image_fixtures as fx
import pytest
from image_png import PngPlan, adler32_combine, encode_png
from PIL import Image, ImageFilter
from png_filter import AVERAGE, NONE, SUB, UP


def _decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _pillow_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _row_filters(data: bytes, row_bytes: int) -> set[int]:
    """The filter-type bytes of every scanline in a PNG's IDAT stream."""
    pos, idat = 8, b""
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "big")
        if data[pos + 4 : pos + 8] == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(idat)
    return {raw[i] for i in range(0, len(raw), row_bytes)}


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (1, 257), (333, 1), (97, 211), (640, 480)])
@pytest.mark.parametrize("strip_bytes", [1, 700, 1 << 20])
def test_decodes_to_the_pixels_of_pillows_writer(
    mode: str, size: tuple[int, int], strip_bytes: int
) -> None:
    image = fx.gradient(size, mode)
    ours = _decoded(encode_png(image, strip_bytes=strip_bytes))
    pillows = _decoded(_pillow_png(image))
    assert (ours.mode, ours.size) == (pillows.mode, pillows.size) == (mode, size)
    assert ours.tobytes() == pillows.tobytes() == image.tobytes()


# Content that makes each filter the cheapest: the strip writer must pick it and still
# decode to Pillow's pixels (Average rounds down; Sub and Up wrap modulo 256).
_SPARSE = Image.new("RGB", (64, 32))
for _xy in [(3, 1), (40, 7), (17, 20), (60, 30)]:
    _SPARSE.putpixel(_xy, (250, 120, 90))
_ROWS_ALIKE = Image.effect_noise((64, 1), 80).convert("RGB").resize((64, 32))
# Each row a ramp of its own slope (x * y): constant along the row after Sub, not after Up.
_ROW_RAMP = Image.frombytes(
    "L", (256, 16), bytes((x * y) % 256 for y in range(16) for x in range(256))
).convert("RGB")
# Box-blurred random bytes: correlated both ways, so the mean of left and up predicts best.
_RANDOM = random.Random(19)
_BLURRED = Image.merge(
    "RGB",
    [
        Image.frombytes("L", (128, 128), _RANDOM.randbytes(128 * 128)).filter(
            ImageFilter.BoxBlur(1)
        )
        for _ in range(3)
    ],
)


@pytest.mark.parametrize(
    ("image", "expected"),
    [(_SPARSE, NONE), (_ROWS_ALIKE, UP), (_ROW_RAMP, SUB), (_BLURRED, AVERAGE)],
    ids=["none", "up", "sub", "average"],
)
def test_each_filter_is_chosen_where_it_pays_and_round_trips(
    image: Image.Image, expected: int
) -> None:
    data = encode_png(image)
    assert _row_filters(data, 1 + image.width * 3) == {expected}
    assert _decoded(data).tobytes() == _decoded(_pillow_png(image)).tobytes()


def _photo_like(size: tuple[int, int]) -> Image.Image:
    """Smooth colour fields with a little sensor-like noise."""
    fields = [Image.effect_noise((size[0] // 16, size[1] // 16), 90 + 20 * i) for i in range(3)]
    smooth = Image.merge(
        "RGB", [f.convert("L").resize(size, Image.Resampling.BICUBIC) for f in fields]
    )
    noise = Image.merge("RGB", [Image.effect_noise(size, 3).convert("L")] * 3)
    return Image.blend(smooth, noise, 0.1)


def test_parallel_and_serial_give_identical_bytes_within_ten_percent_of_pillow() -> None:
    image = _photo_like((800, 600))
    plan = PngPlan(image, strip_bytes=64 * 1024)
    assert len(plan.strips) > 4
    with ThreadPoolExecutor(4) as pool:
        parallel = plan.assemble([f.result() for f in [pool.submit(t) for t in plan.tasks]], None)
    serial = encode_png(image, strip_bytes=64 * 1024)
    assert parallel == serial
    assert len(serial) <= len(_pillow_png(image)) * 1.10


def test_icc_profile_is_embedded() -> None:
    icc = fx.display_p3_profile()
    data = encode_png(fx.gradient((20, 10)), icc)
    assert Image.open(io.BytesIO(data)).info["icc_profile"] == icc


def test_adler32_combine_matches_zlib() -> None:
    a, b = b"hello " * 1000, bytes(range(256)) * 300
    combined = adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b))
    assert combined == zlib.adler32(a + b)
    assert adler32_combine(1, zlib.adler32(b""), 0) == 1


def test_rejects_modes_png_strips_do_not_support() -> None:
    with pytest.raises(ValueError):
        PngPlan(Image.new("P", (2, 2)))
