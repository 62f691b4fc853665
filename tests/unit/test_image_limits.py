"""Hostile and broken input: every case ends in ImageRejectedError with a clear reason."""

from __future__ import annotations

import io

import image_fixtures as fx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile
from variants import REASONS, ImageLimits, ImageRejectedError, make_variants

SERIAL = ImageLimits(threads=1)


# The next step every too_many_pixels report ends with.
RAISE_PIXELS = (
    "; the stack parameter MaxImagePixels raises it (with ImageMemorySize: "
    "about 10 MB per megapixel)"
)


def rejection(data: bytes, limits: ImageLimits = SERIAL) -> ImageRejectedError:
    with pytest.raises(ImageRejectedError) as info:
        make_variants(data, limits)
    assert info.value.reason in REASONS
    assert info.value.message
    return info.value


def test_zero_bytes_is_empty() -> None:
    assert rejection(b"").reason == "empty"


def test_text_named_jpg_is_unsupported() -> None:
    error = rejection(b"hello, I am definitely a JPEG\n" * 10)
    assert error.reason == "unsupported_format"
    assert error.message == (
        "the bytes are not an image in any format this function reads (the key's extension "
        "is not looked at); upload one of: JPEG, PNG, WEBP, GIF, TIFF, BMP, AVIF, HEIF"
    )


# What every reason's report tells a reader to do next (too_many_pixels: RAISE_PIXELS).
NEXT_STEP = {
    "empty": "; upload the file again (nothing was written)",
    "truncated": "; upload the whole file again: an interrupted upload or copy is the usual cause",
    "corrupt": "; export or save the image again from the program that made it",
}


@pytest.mark.parametrize(
    ("reason", "data"),
    [
        ("empty", b""),
        ("truncated", fx.truncated(fx.encode(fx.gradient((120, 90)), "JPEG"), 0.5)),
        ("truncated", fx.truncated(fx.encode(fx.gradient((120, 90)), "WEBP"), 0.5)),
        ("corrupt", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    ],
)
def test_every_rejection_says_what_to_do_next(reason: str, data: bytes) -> None:
    error = rejection(data)
    assert error.reason == reason
    assert error.message.endswith(NEXT_STEP[reason])
    assert "decompression bomb" not in error.message and "DOS" not in error.message


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n%binary", "PDF"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"8BPS\x00\x01" + b"\0" * 40, "PSD"),
    ],
)
def test_known_non_image_formats_are_named(data: bytes, name: str) -> None:
    error = rejection(data)
    assert error.reason == "unsupported_format" and name in error.message


def test_format_detected_from_content_and_allow_list_applies() -> None:
    gif = fx.animated_gif()
    error = rejection(gif, ImageLimits(formats=("JPEG", "PNG"), threads=1))
    assert error.reason == "unsupported_format" and "GIF" in error.message
    # The same bytes pass when GIF is allowed: the key's extension never matters.
    assert make_variants(gif, SERIAL).source_format == "GIF"


def test_png_claiming_100k_by_100k_names_its_pixels_the_limit_and_the_parameter() -> None:
    # 10 gigapixels in a 57-byte header. Pillow's own check would say "exceeds limit of
    # 100000000 pixels, could be decompression bomb DOS attack": its doubled limit.
    error = rejection(fx.bomb_png())
    assert error.reason == "too_many_pixels"
    assert error.message == (
        "the image is 100000x100000 = 10000000000 pixels, over the limit of 250000000 pixels"
        + RAISE_PIXELS
    )


def test_pixel_limit_is_checked_from_the_header_before_decoding() -> None:
    # 16000x16000 with no pixel data at all: decoding would fail as truncated/corrupt, so
    # too_many_pixels proves the header check ran first.
    error = rejection(fx.bomb_png(16000, 16000))
    assert error.reason == "too_many_pixels" and "256000000 pixels" in error.message
    small = ImageLimits(max_pixels=100, threads=1)
    assert rejection(fx.photo_jpeg((11, 10)), small).reason == "too_many_pixels"
    assert make_variants(fx.photo_jpeg((10, 10)), small).source_width == 10


def test_a_raised_pixel_limit_is_the_only_one() -> None:
    # 100 MP: above Pillow's default bomb threshold (~89.5 MP), under a raised limit. It
    # passes the pixel check and fails only because the header carries no pixel data.
    error = rejection(fx.bomb_png(10_000, 10_000), ImageLimits(max_pixels=200_000_000))
    assert error.reason in ("corrupt", "truncated"), error
    over = rejection(fx.bomb_png(15_000, 15_000), ImageLimits(max_pixels=200_000_000))
    assert over.reason == "too_many_pixels"
    assert "225000000 pixels, over the limit of 200000000 pixels" in over.message


@pytest.mark.parametrize(("width", "height"), [(40, 30), (100, 100), (4000, 3000)])
def test_over_the_limit_by_any_factor_the_message_is_ours(width: int, height: int) -> None:
    # Pillow warns past its limit and raises past twice it; neither text reaches the report.
    limits = ImageLimits(max_pixels=1000, threads=1)
    error = rejection(fx.bomb_png(width, height), limits)
    assert error.reason == "too_many_pixels"
    assert error.message == (
        f"the image is {width}x{height} = {width * height} pixels, over the limit of 1000 "
        "pixels" + RAISE_PIXELS
    )
    assert "bomb" not in error.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_truncated_files_are_rejected_not_half_decoded(fmt: str) -> None:
    data = fx.encode(fx.gradient((120, 90)), fmt)
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert rejection(fx.truncated(data, 0.5)).reason == "truncated"


def test_corrupt_header_of_an_allowed_format_is_corrupt() -> None:
    data = bytearray(fx.encode(fx.gradient((40, 30)), "PNG"))
    data[16:24] = b"\xff" * 8  # IHDR width/height garbage (and a bad CRC)
    assert rejection(bytes(data)).reason == "corrupt"


def test_corrupt_pixel_stream_is_corrupt() -> None:
    data = bytearray(fx.encode(fx.gradient((64, 64)), "PNG"))
    start = data.index(b"IDAT") + 8
    data[start : start + 40] = b"\x00" * 40  # break the zlib stream
    assert rejection(bytes(data)).reason in ("corrupt", "truncated")


def test_max_bytes_is_enforced_when_set() -> None:
    data = fx.photo_jpeg()
    assert rejection(data, ImageLimits(max_bytes=len(data) - 1)).reason == "too_large"


def test_heif_not_allowed_when_removed_from_the_list() -> None:
    heic = b"\x00\x00\x00\x1cftypheic\x00\x00\x00\x00mif1heicmiaf" + b"\0" * 32
    error = rejection(heic, ImageLimits(formats=("JPEG",), threads=1))
    assert error.reason == "unsupported_format" and "HEIF" in error.message


def test_unknown_reason_code_is_refused() -> None:
    with pytest.raises(ValueError):
        ImageRejectedError("bad_reason", "x")


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        ImageLimits(max_pixels=0)
    with pytest.raises(ValueError):
        ImageLimits(background=(0, 0, 256))


_SEEDS = [
    fx.photo_jpeg((32, 24)),
    fx.encode(fx.gradient((24, 16), "RGBA"), "PNG"),
    fx.animated_gif(),
    fx.encode(fx.gradient((24, 16)), "WEBP"),
    fx.encode(fx.gradient((24, 16)), "TIFF"),
    fx.encode(fx.gradient((24, 16)), "BMP"),
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    edits=st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 4000)),
)
def test_mutated_images_never_raise_anything_but_rejected(
    seed: bytes, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(seed)
    for position, value in edits:
        if data:
            data[position % len(data)] = value
    if cut is not None:
        data = data[:cut]
    try:
        result = make_variants(bytes(data), ImageLimits(max_pixels=1_000_000, threads=1))
    except ImageRejectedError as error:
        assert error.reason in REASONS
    else:
        for variant in result.variants:
            assert Image.open(io.BytesIO(variant.body)).size == (variant.width, variant.height)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_are_rejected_cleanly(data: bytes) -> None:
    with pytest.raises(ImageRejectedError):
        make_variants(data, SERIAL)


def test_pillows_own_check_while_decoding_is_reported_in_our_words() -> None:
    # Pillow checks again while decoding (GIF frames, MPO pictures): the backstop names
    # MaxImagePixels too, never Pillow's doubled limit.
    from image_decode import _rejection

    pillows = Image.DecompressionBombError(
        "Image size (5000 pixels) exceeds limit of 2000 pixels, could be decompression bomb "
        "DOS attack."
    )
    error = _rejection(pillows, ImageLimits(max_pixels=1000))
    assert (error.reason, error.message) == (
        "too_many_pixels",
        "decoding met a tile or frame over the limit of 1000 pixels" + RAISE_PIXELS,
    )
