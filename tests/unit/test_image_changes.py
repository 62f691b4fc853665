"""The manifest's ``changes``: what processing changed, as fields a program can read."""

from __future__ import annotations

import image_fixtures as fx
from PIL import Image
from variants import ImageLimits, make_variants

ONE_THREAD = ImageLimits(threads=1)


def test_a_16_bit_colour_png_says_its_depth_was_reduced() -> None:
    result = make_variants(fx.rgb16_png(), ONE_THREAD)
    assert result.changes == [{"change": "bit_depth_reduced", "from_bits": 16, "to_bits": 8}]
    assert {v.mode for v in result.variants if v.format == "PNG"} == {"RGB"}


def test_a_16_bit_gray_png_says_so_too() -> None:
    result = make_variants(fx.gray16_png(), ONE_THREAD)
    assert result.changes == [{"change": "bit_depth_reduced", "from_bits": 16, "to_bits": 8}]


def test_an_8_bit_photo_has_no_changes() -> None:
    assert make_variants(fx.photo_jpeg((40, 30)), ONE_THREAD).changes == []


def test_cmyk_is_reported_as_colour_converted() -> None:
    result = make_variants(fx.cmyk_jpeg(with_profile=False), ONE_THREAD)
    assert [c["change"] for c in result.changes] == ["colour_converted"]
    assert result.changes[0]["to"] == "sRGB"


def test_an_animation_reports_its_dropped_frames() -> None:
    result = make_variants(fx.animated_gif(), ONE_THREAD)
    assert [c["change"] for c in result.changes] == ["frames_dropped"]
    assert result.changes[0]["kept"] == "first"


def test_a_panorama_past_webps_limit_gets_that_variant_scaled_and_says_so() -> None:
    # 20,000 x 20 gray: cheap to encode, wider than WebP's 16,383 px.
    panorama = fx.encode(Image.linear_gradient("L").resize((20_000, 20)), "PNG")
    result = make_variants(panorama, ONE_THREAD)
    sizes = {v.name: (v.width, v.height) for v in result.variants}
    assert sizes["webp"] == (16_383, 16)
    assert sizes["png"] == sizes["compressed"] == (20_000, 20)
    assert result.changes == [
        {
            "change": "scaled_to_fit",
            "variant": "webp",
            "format": "WEBP",
            "side_limit": 16_383,
            "width": 16_383,
            "height": 16,
        }
    ]
