"""Behaviour of the imaging core, asserted on the encoded outputs."""

from __future__ import annotations

import io
import struct
import zlib

import image_fixtures as fx
import pytest
import variants
from PIL import Image, ImageCms, features
from variants import VARIANTS, ImageLimits, ImageResult, make_variants

SERIAL = ImageLimits(threads=1)


def by_name(result: ImageResult) -> dict[str, variants.EncodedVariant]:
    return {v.name: v for v in result.variants}


def reopen(variant: variants.EncodedVariant) -> Image.Image:
    image = Image.open(io.BytesIO(variant.body))
    image.load()
    return image


def close(a: tuple[int, ...], b: tuple[int, ...], tolerance: int) -> bool:
    return len(a) == len(b) and all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- the table


def test_five_variants_with_names_formats_and_content_types() -> None:
    result = make_variants(fx.photo_jpeg((640, 480)), SERIAL)
    got = [(v.name, v.filename, v.format, v.content_type) for v in result.variants]
    assert got == [
        ("compressed", "compressed.jpg", "JPEG", "image/jpeg"),
        ("low_quality", "low_quality.jpg", "JPEG", "image/jpeg"),
        ("webp", "image.webp", "WEBP", "image/webp"),
        ("png", "image.png", "PNG", "image/png"),
        ("thumbnail", "thumbnail.jpg", "JPEG", "image/jpeg"),
    ]
    assert (result.source_format, result.source_width, result.source_height) == ("JPEG", 640, 480)
    assert result.source_mode == "RGB"
    for variant in result.variants:
        image = reopen(variant)
        assert image.format == variant.format
        assert image.size == (variant.width, variant.height)
        assert variant.encode_ms >= 0
    out = by_name(result)
    assert (out["compressed"].width, out["compressed"].height) == (640, 480)
    assert (out["thumbnail"].width, out["thumbnail"].height) == (300, 225)


def test_quality_settings_are_the_spec() -> None:
    table = {spec.name: spec for spec in VARIANTS}
    assert table["compressed"].options["quality"] == 85
    assert table["low_quality"].options["quality"] == 60
    assert table["webp"].options["quality"] == 80
    result = by_name(make_variants(fx.photo_jpeg((400, 300)), SERIAL))
    # Lower quality gives fewer bytes; both JPEGs decode to the source size.
    assert len(result["low_quality"].body) < len(result["compressed"].body)


def test_png_is_lossless_against_the_decoded_source() -> None:
    data = fx.encode(fx.gradient((257, 131)), "PNG")
    result = by_name(make_variants(data, SERIAL))
    assert reopen(result["png"]).tobytes() == Image.open(io.BytesIO(data)).tobytes()


def test_threads_do_not_change_the_bytes() -> None:
    data = fx.photo_jpeg((700, 500))
    one = make_variants(data, ImageLimits(threads=1))
    four = make_variants(data, ImageLimits(threads=4))
    assert [v.body for v in one.variants] == [v.body for v in four.variants]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1, 1), (1, 1)),
        ((10_000, 10), (300, 1)),
        ((10, 10_000), (1, 300)),
        ((299, 300), (299, 300)),  # never upscaled
        ((900, 601), (300, 200)),
    ],
)
def test_thumbnail_fits_keeps_aspect_and_never_upscales(
    size: tuple[int, int], expected: tuple[int, int]
) -> None:
    data = fx.encode(fx.gradient(size), "PNG")
    result = by_name(make_variants(data, SERIAL))
    thumb = reopen(result["thumbnail"])
    assert thumb.size == expected
    assert reopen(result["png"]).size == size


def test_thumbnail_size_is_a_parameter() -> None:
    result = by_name(make_variants(fx.photo_jpeg((400, 200)), ImageLimits(thumbnail_size=100)))
    assert reopen(result["thumbnail"]).size == (100, 50)


def test_thumbnail_resampling_is_high_quality() -> None:
    # A fine checkerboard must average to mid gray, not alias to black or white.
    board = Image.new("L", (1200, 1200))
    board.frombytes(bytes(255 * ((x + y) % 2) for y in range(1200) for x in range(1200)))
    result = by_name(make_variants(fx.encode(board, "PNG"), SERIAL))
    thumb = reopen(result["thumbnail"])
    assert thumb.mode == "L"
    lo, hi = thumb.getextrema()
    assert lo >= 110 and hi <= 145


# --------------------------------------------------------------------------- orientation


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_to_pixels(orientation: int) -> None:
    result = make_variants(fx.oriented_jpeg(orientation), SERIAL)
    for variant in result.variants:
        image = reopen(variant).convert("RGB")
        w, h = image.size
        if variant.name == "thumbnail":
            assert (w, h) == fx.UPRIGHT_SIZE  # 48x32 is below 300: not upscaled
        assert (w, h) == fx.UPRIGHT_SIZE
        assert close(image.getpixel((3, 3)), fx.RED, 40), variant.name
        assert close(image.getpixel((w - 4, 3)), fx.BLUE, 40), variant.name
        assert close(image.getpixel((3, h - 4)), fx.WHITE, 40), variant.name
        assert image.getexif().get(0x0112) is None
    if orientation != 1:
        assert f"exif: orientation {orientation} applied" in result.notes


# --------------------------------------------------------------------------- metadata


def test_exif_gps_xmp_and_comments_are_stripped() -> None:
    source = fx.oriented_jpeg(6, gps=True)
    assert b"Exif" in source and b"secret" in source and b"private note" in source
    for variant in make_variants(source, SERIAL).variants:
        image = reopen(variant)
        assert len(image.getexif()) == 0, variant.name
        assert image.getexif().get_ifd(0x8825) == {}
        assert "exif" not in image.info and "xmp" not in image.info
        assert "comment" not in image.info
        for needle in (b"Exif\0\0", b"TestCam", b"secret", b"private note", b"adobe:ns:meta"):
            assert needle not in variant.body, (variant.name, needle)


def test_png_and_webp_sources_lose_their_metadata_too() -> None:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"
    info_png = fx.encode(fx.gradient((40, 30)), "PNG", exif=exif)
    info_webp = fx.encode(fx.gradient((40, 30)), "WEBP", exif=exif, xmp=b"<x>secret</x>")
    for data in (info_png, info_webp):
        for variant in make_variants(data, SERIAL).variants:
            assert b"TestCam" not in variant.body and b"secret" not in variant.body


# --------------------------------------------------------------------------- colour


def _p3_to_srgb(rgb: tuple[int, int, int]) -> tuple[int, ...]:
    """Reference maths, independent of LittleCMS: P3 (gamma 2.2) -> XYZ D50 -> sRGB."""
    linear = [(c / 255) ** 2.2 for c in rgb]
    xyz = [sum(fx.P3_MATRIX[j][i] * linear[j] for j in range(3)) for i in range(3)]
    # XYZ (D50) -> linear sRGB, the inverse of sRGB's Bradford-adapted D50 matrix.
    inverse = (
        (3.1338561, -1.6168667, -0.4906146),
        (-0.9787684, 1.9161415, 0.0334540),
        (0.0719453, -0.2289914, 1.4052427),
    )
    out = []
    for row in inverse:
        v = max(0.0, min(1.0, sum(row[i] * xyz[i] for i in range(3))))
        v = 12.92 * v if v <= 0.0031308 else 1.055 * v ** (1 / 2.4) - 0.055
        out.append(round(v * 255))
    return tuple(out)


def _swatches(icc: bytes | None, fmt: str = "JPEG") -> bytes:
    """16x8: P3-ish green (100, 180, 100) left, pure red right; ``icc`` describes them."""
    image = Image.new("RGB", (16, 8), (100, 180, 100))
    image.paste((255, 0, 0), (8, 0, 16, 8))
    params: dict[str, object] = {"icc_profile": icc} if icc else {}
    if fmt == "JPEG":
        params |= {"quality": 100, "subsampling": 0}
    return fx.encode(image, fmt, **params)


def _no_profile_anywhere(result: ImageResult) -> None:
    for variant in result.variants:
        assert "icc_profile" not in reopen(variant).info, variant.name


def test_a_p3_source_is_converted_to_srgb_and_no_variant_carries_a_profile() -> None:
    result = make_variants(_swatches(fx.display_p3_profile()), SERIAL)
    assert "icc: converted from 'Test Display P3' to sRGB; no profile embedded" in result.notes
    green = _p3_to_srgb((100, 180, 100))
    assert not close(green, (100, 180, 100), 6)  # the conversion is visible
    _no_profile_anywhere(result)
    for variant in result.variants:
        image = reopen(variant).convert("RGB")
        assert close(image.getpixel((3, 4)), green, 6), variant.name
        # Pure P3 red is outside sRGB: it clips to the most saturated sRGB red.
        assert close(image.getpixel((12, 4)), (255, 0, 0), 12), variant.name


def test_a_16_6_mb_profile_is_converted_and_never_copied() -> None:
    padded = fx.padded_profile(fx.display_p3_profile, 16_600_000)
    source = _swatches(padded)
    assert len(source) > 16_600_000
    result = make_variants(source, SERIAL)
    assert "icc: converted from 'Test Display P3' to sRGB; no profile embedded" in result.notes
    _no_profile_anywhere(result)
    # The same pixels without any profile: the variants are no larger than those.
    untagged = by_name(make_variants(_swatches(None), SERIAL))
    for variant in result.variants:
        assert len(variant.body) <= len(untagged[variant.name].body) + 64, variant.name
    assert sum(len(v.body) for v in result.variants) < 20_000


@pytest.mark.parametrize("copyright", ["public domain", "(c) " + "x" * 16_600_000])
def test_an_srgb_profile_is_dropped_and_the_pixels_left_as_they_are(copyright: str) -> None:
    # Written by hand: neither LittleCMS's bytes nor its description, any size.
    result = make_variants(_swatches(fx.srgb_profile(copyright)), SERIAL)
    assert "icc: 'Test sRGB' is sRGB: pixels unchanged, profile not embedded" in result.notes
    untagged = by_name(make_variants(_swatches(None), SERIAL))
    for variant in result.variants:
        assert variant.body == untagged[variant.name].body, variant.name


def test_srgb_is_recognised_by_its_colours_not_its_name() -> None:
    p3_named_srgb = fx.display_p3_profile().replace(b"Test Display P3", b"sRGB IEC61966-2")
    result = make_variants(_swatches(p3_named_srgb), SERIAL)
    assert "icc: converted from 'sRGB IEC61966-2' to sRGB; no profile embedded" in result.notes
    assert close(reopen(result.variants[0]).getpixel((3, 4)), _p3_to_srgb((100, 180, 100)), 6)
    srgb_named_p3 = fx.srgb_profile(description="Display P3")
    result = make_variants(_swatches(srgb_named_p3), SERIAL)
    assert "icc: 'Display P3' is sRGB: pixels unchanged, profile not embedded" in result.notes
    lcms_srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    result = make_variants(_swatches(lcms_srgb), SERIAL)
    assert any(n.startswith("icc: 'sRGB built-in' is sRGB") for n in result.notes)


def test_png_with_alpha_and_a_p3_profile_is_converted_and_keeps_its_alpha() -> None:
    image = Image.new("RGBA", (16, 8), (100, 180, 100, 255))
    image.paste((100, 180, 100, 77), (8, 0, 16, 8))
    result = make_variants(fx.encode(image, "PNG", icc_profile=fx.display_p3_profile()), SERIAL)
    _no_profile_anywhere(result)
    png = reopen(by_name(result)["png"])
    green = _p3_to_srgb((100, 180, 100))
    assert close(png.getpixel((3, 4)), (*green, 255), 2)
    assert close(png.getpixel((12, 4)), (*green, 77), 2)


def test_gps_never_leaks_from_a_converted_source() -> None:
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 22.0, 12.0)
    exif[0x010F] = "TestCam"
    data = fx.encode(fx.upright(), "JPEG", exif=exif, icc_profile=fx.display_p3_profile())
    for variant in make_variants(data, SERIAL).variants:
        image = reopen(variant)
        assert len(image.getexif()) == 0 and "exif" not in image.info, variant.name
        assert b"Exif\0\0" not in variant.body and b"TestCam" not in variant.body


def test_cmyk_jpeg_with_profile_is_converted_through_the_profile() -> None:
    source = fx.cmyk_jpeg(with_profile=True)
    assert "adobe" in Image.open(io.BytesIO(source)).info  # Adobe (inverted) CMYK storage
    result = make_variants(source, SERIAL)
    assert result.source_mode == "CMYK"
    assert "icc: converted CMYK to sRGB using profile 'Test CMYK green press'" in result.notes
    for variant in result.variants:
        image = reopen(variant)
        assert image.mode == "RGB" and "icc_profile" not in image.info
        cyan_ink, black_ink = image.getpixel((3, 4)), image.getpixel((12, 4))
        # The profile says: cyan ink prints green (the naive formula would give cyan).
        assert cyan_ink[0] < 60 and cyan_ink[1] > 200 and cyan_ink[2] < 90, variant.name
        assert max(black_ink) < 40, variant.name


def test_cmyk_jpeg_without_profile_uses_the_generic_formula() -> None:
    result = make_variants(fx.cmyk_jpeg(with_profile=False), SERIAL)
    assert any("CMYK without a CMYK profile" in note for note in result.notes)
    image = reopen(by_name(result)["png"])
    assert close(image.getpixel((3, 4)), (0, 255, 255), 8)  # cyan, not inverted red
    assert close(image.getpixel((12, 4)), (0, 0, 0), 8)


def test_cmyk_jpeg_whose_profile_cannot_be_applied_uses_the_formula_with_a_note() -> None:
    result = make_variants(fx.cmyk_jpeg(True, fx.cmyk_profile_without_table()), SERIAL)
    assert (
        "icc: CMYK profile 'Test CMYK, no table' cannot be applied; CMYK converted with the "
        "generic formula" in result.notes
    )
    _no_profile_anywhere(result)
    image = reopen(by_name(result)["png"])
    assert close(image.getpixel((3, 4)), (0, 255, 255), 8)
    assert close(image.getpixel((12, 4)), (0, 0, 0), 8)


def test_gray_with_a_gray_profile_stays_gray_on_srgbs_tone_curve() -> None:
    result = make_variants(fx.gray_icc_jpeg(), SERIAL)
    assert (
        "icc: converted gray from 'Test Gray gamma 1.8' to sRGB's tone curve; stays gray, "
        "no profile embedded" in result.notes
    )
    _no_profile_anywhere(result)
    out = by_name(result)
    for name in ("compressed", "low_quality", "png", "thumbnail"):
        assert reopen(out[name]).mode == "L", name
    # gamma 1.8 gray 128 is lighter than sRGB 128 once converted; every variant agrees.
    png_value = reopen(out["png"]).getpixel((8, 8))
    assert isinstance(png_value, int) and 145 <= png_value <= 160
    for variant in result.variants:
        value = reopen(variant).convert("L").getpixel((8, 8))
        assert isinstance(value, int) and abs(value - png_value) <= 2, variant.name


def test_16_bit_gray_is_converted_before_it_is_reduced_to_8_bits() -> None:
    # Linear (gamma 1.0) gray: 16-bit 100 is sRGB 5 and 16-bit 32768 is sRGB 188. Keeping
    # only the high byte first would make the 100 black.
    rows = b"\0" + struct.pack(">4H", 100, 32768, 65535, 0)
    data = fx.raw_png(4, 1, 0, 16, rows, icc=fx.gray_profile(1.0))
    result = make_variants(data, SERIAL)
    _no_profile_anywhere(result)
    png = reopen(by_name(result)["png"])
    assert png.mode == "L"
    assert [png.getpixel((x, 0)) for x in range(4)] == [5, 188, 255, 0]


@pytest.mark.parametrize(
    ("icc", "note"),
    [
        (b"garbage" * 20, "icc: unreadable embedded profile dropped; pixels treated as sRGB"),
        (
            fx.cmyk_profile(),
            "icc: CMYK profile 'Test CMYK green press' does not match RGB pixels; ignored, "
            "pixels treated as sRGB",
        ),
        (
            fx.rgb_profile_without_curves(),
            "icc: profile 'Test RGB, no curves' cannot be applied; ignored, pixels treated as sRGB",
        ),
    ],
)
def test_an_unusable_profile_is_ignored_with_a_note_and_the_pixels_kept(
    icc: bytes, note: str
) -> None:
    result = make_variants(_swatches(icc, "PNG"), SERIAL)
    assert note in result.notes
    _no_profile_anywhere(result)
    png = reopen(by_name(result)["png"])
    assert png.getpixel((3, 4)) == (100, 180, 100) and png.getpixel((12, 4)) == (255, 0, 0)


def test_a_png_profile_that_inflates_past_pillows_1_mib_gets_a_clear_report() -> None:
    # Pillow refuses the whole PNG (a zlib-bomb guard); say so, instead of its own words.
    icc = fx.padded_profile(fx.display_p3_profile, 2_000_000)
    with pytest.raises(variants.ImageRejectedError) as info:
        make_variants(_swatches(icc, "PNG"), SERIAL)
    assert info.value.reason == "unsupported_format"
    assert info.value.message.startswith(
        "a compressed PNG metadata chunk (the ICC profile, or text) inflates past 1 MiB"
    )


# --------------------------------------------------------------------------- alpha


def test_rgba_keeps_alpha_in_webp_and_png_and_jpegs_are_composited() -> None:
    result = make_variants(fx.rgba_png(), SERIAL)
    out = by_name(result)
    assert out["thumbnail"].filename == "thumbnail.png"
    assert out["thumbnail"].content_type == "image/png"
    for name in ("png", "webp", "thumbnail"):
        image = reopen(out[name])
        assert image.mode == "RGBA", name
        assert image.getpixel((5, 5))[3] == 255 and image.getpixel((5, 5))[0] > 240
        assert image.getpixel((50, 10))[3] == 0, name
        assert 110 <= image.getpixel((5, 60))[3] <= 145, name
    for name in ("compressed", "low_quality"):
        image = reopen(out[name])
        assert image.mode == "RGB"
        assert close(image.getpixel((5, 5)), (255, 0, 0), 12), name
        assert close(image.getpixel((50, 10)), (255, 255, 255), 6), name  # white, never black
        assert close(image.getpixel((50, 60)), (127, 127, 255), 12), name  # 50% blue on white
    assert "alpha: composited over #ffffff for JPEG" in result.notes


def test_background_colour_is_a_parameter() -> None:
    out = by_name(make_variants(fx.rgba_png(), ImageLimits(background=(0, 128, 0), threads=1)))
    assert close(reopen(out["compressed"]).getpixel((50, 10)), (0, 128, 0), 8)


def test_palette_with_trns_keeps_transparency() -> None:
    out = by_name(make_variants(fx.palette_trns_png(), SERIAL))
    png = reopen(out["png"])
    assert png.mode == "RGBA"
    assert png.getpixel((2, 2))[3] == 0 and png.getpixel((15, 2)) == (0, 200, 0, 255)
    assert reopen(out["webp"]).getpixel((2, 2))[3] == 0
    assert close(reopen(out["compressed"]).getpixel((2, 2)), (255, 255, 255), 6)


def test_la_stays_gray_with_alpha() -> None:
    out = by_name(make_variants(fx.la_png(), SERIAL))
    png = reopen(out["png"])
    assert png.mode == "LA"
    assert png.getpixel((2, 2)) == (100, 255) and png.getpixel((15, 2))[1] == 0
    assert reopen(out["thumbnail"]).mode == "LA"
    jpeg = reopen(out["compressed"])
    assert jpeg.mode == "L"
    assert abs(jpeg.getpixel((2, 2)) - 100) <= 4 and jpeg.getpixel((15, 2)) >= 250
    assert reopen(out["webp"]).mode == "RGBA"


def test_opaque_alpha_channel_is_dropped() -> None:
    data = fx.encode(fx.gradient((30, 20)).convert("RGBA"), "PNG")
    result = make_variants(data, SERIAL)
    assert "alpha: fully opaque, channel dropped" in result.notes
    out = by_name(result)
    assert reopen(out["png"]).mode == "RGB" and out["thumbnail"].filename == "thumbnail.jpg"


# --------------------------------------------------------------------------- modes


def test_16bit_gray_is_scaled_not_clipped_and_stays_gray() -> None:
    result = make_variants(fx.gray16_png(), SERIAL)
    assert result.source_mode.startswith("I;16")
    png = reopen(by_name(result)["png"])
    assert png.mode == "L"
    assert [png.getpixel((x, 0)) for x in range(4)] == [255, 128, 1, 0]
    assert reopen(by_name(result)["compressed"]).mode == "L"


def test_16bit_rgb_is_scaled() -> None:
    png = reopen(by_name(make_variants(fx.rgb16_png(), SERIAL))["png"])
    assert png.getpixel((0, 0)) == (255, 128, 1)
    assert png.getpixel((1, 0)) == (0, 16, 255)


def test_16bit_gray_alpha_stays_gray() -> None:
    png = reopen(by_name(make_variants(fx.gray_alpha16_png(), SERIAL))["png"])
    assert png.mode == "LA"
    assert png.getpixel((0, 0)) == (156, 255) and png.getpixel((1, 0)) == (3, 0)


@pytest.mark.parametrize("mode", ["L", "1"])
def test_grayscale_stays_grayscale(mode: str) -> None:
    image = fx.gradient((50, 40), "L").convert(mode)
    out = by_name(make_variants(fx.encode(image, "PNG"), SERIAL))
    for name in ("compressed", "low_quality", "png", "thumbnail"):
        assert reopen(out[name]).mode == "L", name
    assert reopen(out["webp"]).mode == "RGB"  # WebP has no gray mode


def test_one_by_one_pixel() -> None:
    data = fx.encode(Image.new("RGB", (1, 1), (12, 34, 56)), "PNG")
    for variant in make_variants(data, SERIAL).variants:
        image = reopen(variant)
        assert image.size == (1, 1)
        assert close(image.convert("RGB").getpixel((0, 0)), (12, 34, 56), 10)


def test_too_wide_for_webp_is_downscaled_for_that_variant_only() -> None:
    data = fx.encode(Image.new("L", (17_000, 2), 90), "PNG")
    result = make_variants(data, SERIAL)
    out = by_name(result)
    assert (out["webp"].width, out["webp"].height) == (16_383, 2)
    assert (out["png"].width, out["compressed"].width) == (17_000, 17_000)
    assert any("WEBP's 16383 px side limit" in note for note in result.notes)


# --------------------------------------------------------------------------- animation


def test_animated_gif_first_frame_with_transparency() -> None:
    result = make_variants(fx.animated_gif(), SERIAL)
    assert result.source_format == "GIF"
    assert "animated: first frame of the GIF used" in result.notes
    out = by_name(result)
    png = reopen(out["png"])
    assert png.mode == "RGBA"
    assert png.getpixel((3, 3))[3] == 0 and png.getpixel((30, 30)) == (255, 0, 0, 255)
    jpeg = reopen(out["compressed"])
    assert close(jpeg.getpixel((3, 3)), (255, 255, 255), 8)
    assert close(jpeg.getpixel((30, 30)), (255, 0, 0), 12)
    assert Image.open(io.BytesIO(out["webp"].body)).n_frames == 1


def test_animated_webp_first_frame() -> None:
    result = make_variants(fx.animated_webp(), SERIAL)
    assert "animated: first frame of the WEBP used" in result.notes
    png = reopen(by_name(result)["png"])
    assert png.getpixel((2, 2))[3] == 0 and png.getpixel((15, 15)) == (255, 0, 0, 255)


# --------------------------------------------------------------------------- HEIF / AVIF


def _oriented(fmt: str) -> bytes:
    image = fx.upright()
    exif = Image.Exif()
    exif[0x0112] = 6
    rotated = image.transpose(Image.Transpose.ROTATE_90)
    return fx.encode(rotated, fmt, exif=exif.tobytes(), quality=95)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow built without AVIF")
def test_avif_is_read_and_oriented() -> None:
    result = make_variants(_oriented("AVIF"), SERIAL)
    assert result.source_format == "AVIF"
    image = reopen(by_name(result)["png"])
    assert image.size == fx.UPRIGHT_SIZE
    assert close(image.getpixel((3, 3)), fx.RED, 50)
    assert close(image.getpixel((44, 3)), fx.BLUE, 50)


def test_heic_is_read_and_oriented_exactly_once() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    result = make_variants(_oriented("HEIF"), SERIAL)
    assert result.source_format == "HEIF"
    image = reopen(by_name(result)["png"])
    assert image.size == fx.UPRIGHT_SIZE
    assert close(image.getpixel((3, 3)), fx.RED, 50)
    assert close(image.getpixel((44, 3)), fx.BLUE, 50)
    for variant in result.variants:
        assert b"Exif\0\0" not in variant.body


def test_png_strategy_option_is_honoured() -> None:
    spec = variants.VariantSpec("png", "image", "PNG", {"level": 1, "strategy": zlib.Z_RLE})
    result = make_variants(fx.encode(fx.gradient((64, 64)), "PNG"), SERIAL, specs=[spec])
    assert [v.filename for v in result.variants] == ["image.png"]
    assert reopen(result.variants[0]).size == (64, 64)
