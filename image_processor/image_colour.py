"""Colour: every variant is sRGB, and no variant carries an ICC profile.

The source's embedded profile is applied once, to the decoded pixels, before any resizing:

* an RGB profile that renders like sRGB (judged by converting a grid of test colours, never
  by its name, size or bytes) is dropped and the pixels are left as they are;
* any other RGB profile (Display P3, Adobe RGB, a camera's) is converted to sRGB in place,
  relative colorimetric with black-point compensation: colours outside sRGB clip;
* a gray profile is applied to gray pixels as a tone curve onto sRGB's: the image stays
  gray (one channel: a third of the bytes of RGB in JPEG and PNG), 16-bit samples included,
  before they are reduced to 8 bits;
* CMYK pixels are converted through their CMYK profile (``image_decode``).

No profile is embedded in the variants, not even a compact sRGB one: browsers and image
viewers render an untagged image as sRGB, so a profile would change nothing on screen and
cost bytes on every variant (588 for LittleCMS's sRGB, ~6% of a small thumbnail). This is
what sharp/libvips and imgproxy do by default. Wide-gamut colours are lost by design.

A profile that cannot be used (unreadable, for another colour space than the pixels', or
one LittleCMS cannot build a transform from) is ignored: the pixels are treated as sRGB
and a note says so. Rejecting the upload instead would lose a viewable image for the sake
of metadata; the note keeps the decision visible in the manifest.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

from PIL import Image, ImageCms

INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC
FLAGS = ImageCms.Flags.BLACKPOINTCOMPENSATION
# Largest difference, in 8-bit levels, between a profile's rendering of the test colours
# and sRGB's for the profile to count as sRGB. Profiles of sRGB store its curve as tables
# or parameters, so they differ from LittleCMS's by a level at most; a gamma-2.2 curve with
# sRGB's primaries already differs by 7 in the shadows.
SRGB_TOLERANCE = 2
_TEST_LEVELS = (0, 4, 16, 48, 96, 160, 224, 255)
_GRAY_16 = ("I;16", "I;16L", "I;16B")
# Rows per strip when a 16-bit gray image is converted: bounds the RGB scratch buffer.
_STRIP_ROWS = 256


@dataclass(frozen=True)
class SourceProfile:
    """An embedded profile that LittleCMS could read."""

    profile: ImageCms.ImageCmsProfile
    space: str  # "RGB", "GRAY", "CMYK", ...
    name: str


@cache
def srgb() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def read_profile(icc: bytes | None, notes: list[str]) -> SourceProfile | None:
    """Parse an embedded profile; None (with a note if there was one) when unusable."""
    if not icc:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        notes.append("icc: unreadable embedded profile dropped; pixels treated as sRGB")
        return None
    space = str(profile.profile.xcolor_space).strip().upper()
    try:
        name = ImageCms.getProfileDescription(profile).strip()
    except (ImageCms.PyCMSError, OSError, ValueError):
        name = ""
    return SourceProfile(profile, space, name or "unnamed")


def _transform(
    source: SourceProfile, in_mode: str, out_mode: str, *, exact: bool = False
) -> ImageCms.ImageCmsTransform | None:
    # exact: no precalculated tables. LittleCMS's tables for a 16-bit gray input lose the
    # shadows (linear 100/65535 came out as sRGB 2, not 5); for gray the exact pipeline is
    # one curve per pixel, ~25% slower. RGB keeps the fast tables: 8-bit in, 8-bit out.
    flags = FLAGS | ImageCms.Flags.NOOPTIMIZE if exact else FLAGS
    try:
        return ImageCms.buildTransform(
            source.profile, srgb(), in_mode, out_mode, INTENT, flags=flags
        )
    except (ImageCms.PyCMSError, OSError, ValueError):
        return None


def _unusable(source: SourceProfile, notes: list[str]) -> None:
    notes.append(f"icc: profile '{source.name}' cannot be applied; ignored, pixels treated as sRGB")


def _renders_as_srgb(transform: ImageCms.ImageCmsTransform) -> bool:
    levels = _TEST_LEVELS
    colours = [(r, g, b) for r in levels for g in levels for b in levels]
    probe = Image.new("RGB", (len(colours), 1))
    probe.putdata(colours)
    out = ImageCms.applyTransform(probe, transform)
    assert out is not None
    return max(abs(a - b) for a, b in zip(probe.tobytes(), out.tobytes(), strict=True)) <= (
        SRGB_TOLERANCE
    )


def to_srgb(image: Image.Image, source: SourceProfile | None, notes: list[str]) -> Image.Image:
    """Apply ``source`` to L/LA/RGB/RGBA or 16-bit gray pixels: sRGB pixels come back.

    RGB(A) is converted in place (no second full-size buffer). 16-bit gray comes back as L
    when its profile is usable; without one it comes back unchanged, to be scaled.
    """
    if source is None:
        return image
    gray = image.mode in ("L", "LA", *_GRAY_16)
    expected = "GRAY" if gray else "RGB"
    if source.space != expected:
        notes.append(
            f"icc: {source.space} profile '{source.name}' does not match {image.mode} pixels; "
            "ignored, pixels treated as sRGB"
        )
        return image
    if gray:
        return _gray_to_srgb(image, source, notes)
    transform = _transform(source, "RGB", "RGB")
    if transform is None:
        _unusable(source, notes)
        return image
    if _renders_as_srgb(transform):
        notes.append(f"icc: '{source.name}' is sRGB: pixels unchanged, profile not embedded")
        return image
    if image.mode == "RGBA":
        # LittleCMS leaves the fourth channel alone: alpha passes through untouched.
        transform = _transform(source, "RGBA", "RGBA")
        if transform is None:  # pragma: no cover - the RGB transform of it was built
            _unusable(source, notes)
            return image
    if image.readonly:  # pixels shared with the decoder's buffer: convert a copy
        image = image.copy()
    ImageCms.applyTransform(image, transform, inPlace=True)
    notes.append(f"icc: converted from '{source.name}' to sRGB; no profile embedded")
    return image


def _gray_to_srgb(image: Image.Image, source: SourceProfile, notes: list[str]) -> Image.Image:
    """A gray profile maps gray onto gray (relative colorimetric: its white is sRGB's
    white), so its effect is a tone curve: taken from the green channel, whose rendering
    of a neutral equals the others' within rounding."""
    in_mode = image.mode if image.mode in _GRAY_16 else "L"
    transform = _transform(source, in_mode, "RGB", exact=True)
    if transform is None:
        _unusable(source, notes)
        return image
    if in_mode in _GRAY_16:
        out = Image.new("L", image.size)
        for top in range(0, image.height, _STRIP_ROWS):
            box = (0, top, image.width, min(image.height, top + _STRIP_ROWS))
            strip = ImageCms.applyTransform(image.crop(box), transform)
            assert strip is not None
            out.paste(strip.getchannel("G"), box[:2])
        notes.append(
            f"icc: converted 16-bit gray from '{source.name}' to 8-bit on sRGB's tone "
            "curve; stays gray, no profile embedded"
        )
        return out
    ramp = Image.new("L", (256, 1))
    ramp.putdata(range(256))
    rendered = ImageCms.applyTransform(ramp, transform)
    assert rendered is not None
    curve = list(rendered.getchannel("G").tobytes())
    if all(abs(level - value) <= SRGB_TOLERANCE for level, value in enumerate(curve)):
        notes.append(f"icc: '{source.name}' is sRGB's gray: pixels unchanged, profile not embedded")
        return image
    # Alpha, if any, maps through unchanged.
    lut = curve + list(range(256)) if image.mode == "LA" else curve
    notes.append(
        f"icc: converted gray from '{source.name}' to sRGB's tone curve; stays gray, "
        "no profile embedded"
    )
    return image.point(lut)


def convert_to_srgb(image: Image.Image, source: SourceProfile) -> Image.Image:
    """CMYK (or any mode LittleCMS reads) described by ``source`` -> a new sRGB RGB image."""
    out = ImageCms.profileToProfile(
        image, source.profile, srgb(), renderingIntent=INTENT, outputMode="RGB", flags=FLAGS
    )
    assert out is not None
    return out
