"""The strip-parallel PNG writer decodes to exactly the pixels it was given."""

from __future__ import annotations

import io
import zlib
from concurrent.futures import ThreadPoolExecutor

import image_fixtures as fx
import pytest
from image_png import PngPlan, adler32_combine, encode_png
from PIL import Image


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA"])
@pytest.mark.parametrize("size", [(1, 1), (1, 257), (333, 1), (97, 211), (640, 480)])
@pytest.mark.parametrize("strip_bytes", [1, 700, 1 << 20])
def test_round_trip_is_pixel_exact(mode: str, size: tuple[int, int], strip_bytes: int) -> None:
    image = fx.gradient(size, mode)
    data = encode_png(image, level=2, strip_bytes=strip_bytes)
    back = Image.open(io.BytesIO(data))
    back.load()
    assert (back.mode, back.size) == (mode, size)
    assert back.tobytes() == image.tobytes()


def test_parallel_and_serial_give_identical_bytes_and_match_pillow_size() -> None:
    image = fx.gradient((800, 600))
    plan = PngPlan(image, level=6, strip_bytes=64 * 1024)
    assert len(plan.strips) > 4
    with ThreadPoolExecutor(4) as pool:
        parallel = plan.assemble([f.result() for f in [pool.submit(t) for t in plan.tasks]], None)
    serial = encode_png(image, level=6, strip_bytes=64 * 1024)
    assert parallel == serial
    reference = io.BytesIO()
    image.save(reference, "PNG", compress_level=6)
    # Same filters, same deflate level: within 2% of Pillow's single-stream PNG.
    assert len(serial) <= len(reference.getvalue()) * 1.02


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
