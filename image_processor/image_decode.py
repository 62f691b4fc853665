"""Decode untrusted bytes once into an upright 8-bit L/LA/RGB/RGBA image.

Every failure caused by the bytes becomes an ``ImageRejectedError`` with a reason code. Steps:

1. sniff the format from the leading bytes (never from a file name) and check the allow-list;
2. ``Image.open(..., formats=allowed)`` reads only the header; the pixel count is checked
   against ``max_pixels`` (MaxImagePixels, the only pixel limit) before any pixel is
   decoded, and the report names the count, the limit and the parameter. Pillow's own bomb
   check stays on at the same limit while decoding, its warning raised as an error;
3. ``load()`` decodes once. ``LOAD_TRUNCATED_IMAGES`` is never set, so a short file fails;
4. the pixel mode is normalised (16-bit scaled, palettes and transparency keys expanded,
   gray kept gray), the embedded ICC profile is applied to make the pixels sRGB
   (``image_colour``: converted, or dropped when it is sRGB; CMYK converted through it),
   the EXIF orientation is applied to the pixels, and every piece of source metadata,
   the profile included, is dropped from the image object.

``draft()`` is deliberately not used: four of the five variants need full resolution, so a
reduced-scale decode would mean a second decode for the thumbnail, which costs more than
resizing the already-decoded image (measured in bench/RESULTS.md).
"""

from __future__ import annotations

import io
import struct
import time
import warnings
from dataclasses import dataclass, field

import file_signatures
import image_colour
from image_types import ImageLimits, ImageRejectedError
from PIL import Image, ImageCms

OUTPUT_MODES = ("L", "LA", "RGB", "RGBA")

_ORIENTATION_TAG = 0x0112
_TRANSPOSE: dict[int, Image.Transpose] = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass
class DecodedImage:
    image: Image.Image  # mode in OUTPUT_MODES, sRGB, upright, info == {}
    source_format: str
    source_width: int
    source_height: int
    source_mode: str
    notes: list[str] = field(default_factory=list)
    decode_ms: float = 0.0

    @property
    def has_alpha(self) -> bool:
        return self.image.mode in ("LA", "RGBA")


# --------------------------------------------------------------------------- sniffing


def sniff_format(head: bytes) -> str | None:
    """Name the container format from the first bytes (the shared table), or None: text."""
    found = file_signatures.identify(head)
    return found.name if found is not None else None


_heif_available: bool | None = None


def _register_heif() -> bool:
    """Register pillow-heif's opener on first use; False if the plugin is not installed."""
    global _heif_available
    if _heif_available is None:
        try:
            import pillow_heif  # type: ignore[import-not-found,unused-ignore]

            pillow_heif.register_heif_opener(thumbnails=False, depth_images=False)
            _heif_available = True
        except ImportError:
            _heif_available = False
    return _heif_available


# --------------------------------------------------------------------------- modes


def _scale_16bit(im: Image.Image) -> Image.Image:
    """I;16 family -> L by keeping the high byte (v >> 8): scaled, never clipped."""
    if im.mode not in ("I;16", "I;16L", "I;16B"):
        return _scale_wide(im.convert("I"))
    raw = im.tobytes()
    high = raw[0::2] if im.mode == "I;16B" else raw[1::2]
    return Image.frombytes("L", im.size, high)


def _scale_wide(im: Image.Image) -> Image.Image:
    """32-bit int or float samples -> L, scaled to the range the values actually use."""
    extrema = im.getextrema()
    lo, hi = float(extrema[0]), float(extrema[1])  # type: ignore[arg-type]
    if lo >= 0 and hi <= 255 and im.mode == "I":
        return im.convert("L")
    if im.mode == "F" and lo >= 0 and hi <= 1.0:
        scale, offset = 255.0, 0.0
    elif lo >= 0 and hi <= 65535:
        scale, offset = 1 / 257, 0.0
    elif hi > lo:
        scale, offset = 255 / (hi - lo), -lo * 255 / (hi - lo)
    else:
        scale, offset = 0.0, 0.0
    return im.point(lambda v: v * scale + offset).convert("L")


def _palette_is_gray(im: Image.Image) -> bool:
    palette = im.getpalette() or []
    return all(palette[i] == palette[i + 1] == palette[i + 2] for i in range(0, len(palette), 3))


def _png_color_type(data: bytes) -> int | None:
    if data[12:16] == b"IHDR" and len(data) > 25:
        return data[25]
    return None


def _normalise_mode(im: Image.Image, data: bytes, fmt: str, notes: list[str]) -> Image.Image:
    """Return L/LA/RGB/RGBA sRGB pixels: the pixel mode normalised, the embedded ICC profile
    applied (``image_colour``) and never kept."""
    mode = im.mode
    source = image_colour.read_profile(im.info.get("icc_profile"), notes)
    transparency = "transparency" in im.info

    if mode == "1":
        im = im.convert("L")
    elif mode == "P":
        gray = _palette_is_gray(im)
        if transparency:
            im = im.convert("RGBA")
            if gray:
                im = im.convert("LA")
        else:
            im = im.convert("L" if gray else "RGB")
    elif mode == "PA":
        im = im.convert("RGBA")
    elif mode in ("L", "RGB") and transparency:
        im = im.convert(mode[0] + "A" if mode == "L" else "RGBA")
    elif mode == "La":
        im = im.convert("LA")
    elif mode == "RGBa":
        im = im.convert("RGBA")
    elif mode in ("RGBX", "YCbCr", "HSV"):
        im = im.convert("RGB")
    elif mode.startswith("I;16"):
        # A gray profile is applied to the 16-bit samples, before they lose 8 bits.
        im = image_colour.to_srgb(im, source, notes)
        source = None
        if im.mode != "L":
            im = _scale_16bit(im)
            notes.append("mode: 16-bit samples scaled to 8-bit")
    elif mode in ("I", "F"):
        im = _scale_wide(im)
        notes.append(f"mode: {mode} samples scaled to 8-bit")
    elif mode == "LAB":
        lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB"))
        out = ImageCms.profileToProfile(im, lab, image_colour.srgb(), outputMode="RGB")
        assert out is not None
        im = out
        notes.append("icc: converted CIELAB to sRGB")
        source = None
    elif mode == "CMYK":
        return _cmyk_to_srgb(im, source, notes)
    elif mode not in OUTPUT_MODES:
        raise ImageRejectedError(
            "unsupported_format",
            f"the pixels are in mode {mode}, which this function does not convert; save the "
            "image as 8- or 16-bit RGB, RGBA or grayscale",
        )

    # 16-bit gray+alpha PNGs decode as RGBA in Pillow; gray stays gray.
    if fmt == "PNG" and im.mode == "RGBA" and _png_color_type(data) == 4:
        im = im.convert("LA")
    return image_colour.to_srgb(im, source, notes)


def _cmyk_to_srgb(
    im: Image.Image, source: image_colour.SourceProfile | None, notes: list[str]
) -> Image.Image:
    """No output format here stores CMYK: convert through its profile, else the formula."""
    if source is not None and source.space == "CMYK":
        try:
            out = image_colour.convert_to_srgb(im, source)
        except (ImageCms.PyCMSError, OSError, ValueError):
            notes.append(
                f"icc: CMYK profile '{source.name}' cannot be applied; CMYK converted with "
                "the generic formula"
            )
            return im.convert("RGB")
        notes.append(f"icc: converted CMYK to sRGB using profile '{source.name}'")
        return out
    notes.append("icc: CMYK without a CMYK profile converted with the generic formula")
    return im.convert("RGB")


def _apply_orientation(im: Image.Image, source: Image.Image, notes: list[str]) -> Image.Image:
    try:
        orientation = source.getexif().get(_ORIENTATION_TAG)
    except Exception:  # hostile EXIF: ignore it, it is stripped from the outputs anyway
        notes.append("exif: unreadable, orientation ignored")
        return im
    if isinstance(orientation, int) and orientation in _TRANSPOSE:
        notes.append(f"exif: orientation {orientation} applied")
        return im.transpose(_TRANSPOSE[orientation])
    return im


def _drop_opaque_alpha(im: Image.Image, notes: list[str]) -> Image.Image:
    if im.mode not in ("LA", "RGBA"):
        return im
    if im.getchannel("A").getextrema()[0] == 255:
        notes.append("alpha: fully opaque, channel dropped")
        return im.convert(im.mode[:-1])
    return im


# --------------------------------------------------------------------------- decode


# The stack parameter that sets ImageLimits.max_pixels: the one to raise, so reports name it.
PIXEL_LIMIT_PARAMETER = "MaxImagePixels"
# Memory grows with the pixels: the report says both parameters, so nobody raises one alone.
RAISE_PIXELS = (
    f"the stack parameter {PIXEL_LIMIT_PARAMETER} raises it (with ImageMemorySize: "
    "about 10 MB per megapixel)"
)


def _check_pixels(what: str, width: int, height: int, limits: ImageLimits) -> None:
    if width * height > limits.max_pixels:
        raise ImageRejectedError(
            "too_many_pixels",
            f"{what} {width}x{height} = {width * height} pixels, over the limit of "
            f"{limits.max_pixels} pixels; {RAISE_PIXELS}",
        )


def _rejection(exc: BaseException, limits: ImageLimits) -> ImageRejectedError:
    if isinstance(exc, ImageRejectedError):
        return exc
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        # Pillow's check while decoding (a TIFF tile, a GIF frame larger than the header's
        # size); its text speaks of a "decompression bomb" and twice the limit.
        return ImageRejectedError(
            "too_many_pixels",
            f"decoding met a tile or frame over the limit of {limits.max_pixels} pixels; "
            f"{RAISE_PIXELS}",
        )
    text = str(exc) or type(exc).__name__
    if isinstance(exc, ValueError) and "MAX_TEXT_CHUNK" in text:
        # Pillow's zlib-bomb guard refuses the whole file, not just the chunk.
        return ImageRejectedError(
            "unsupported_format",
            "a compressed PNG metadata chunk (the ICC profile, or text) inflates past 1 MiB, "
            "the most Pillow reads; re-save the image with a smaller profile or without it",
        )
    if isinstance(exc, OSError) and "truncated" in text:
        return ImageRejectedError(
            "truncated",
            f"the file ends before all of its pixels ({text}); upload the whole file again: "
            "an interrupted upload or copy is the usual cause",
        )
    return ImageRejectedError(
        "corrupt",
        f"the bytes start like an image but do not decode ({type(exc).__name__}: {text}); "
        "export or save the image again from the program that made it",
    )


def _check_container(fmt: str, data: bytes) -> None:
    """Cheap structural checks that Pillow reports vaguely or not at all."""
    if fmt == "WEBP":
        declared = struct.unpack("<I", data[4:8])[0] + 8
        if declared > len(data):
            raise ImageRejectedError(
                "truncated",
                f"the WebP header declares {declared} bytes but only {len(data)} are present; "
                "upload the whole file again: an interrupted upload or copy is the usual cause",
            )


def decode(data: bytes, limits: ImageLimits) -> DecodedImage:
    """Decode ``data`` once; raise ImageRejectedError for anything the bytes are to blame for."""
    started = time.perf_counter()
    if len(data) == 0:
        raise ImageRejectedError(
            "empty", "the object has zero bytes; upload the file again (nothing was written)"
        )
    if limits.max_bytes is not None and len(data) > limits.max_bytes:
        raise ImageRejectedError(
            "too_large", f"{len(data)} bytes exceeds the limit of {limits.max_bytes} bytes"
        )
    allowed = tuple(f.upper() for f in limits.formats)
    sniffed = sniff_format(bytes(data[: file_signatures.SNIFF_BYTES]))
    if sniffed is None:
        raise ImageRejectedError(
            "unsupported_format",
            "the bytes are not an image in any format this function reads (the key's "
            f"extension is not looked at); upload one of: {', '.join(allowed)}",
        )
    if sniffed not in allowed:
        raise ImageRejectedError(
            "unsupported_format",
            f"the content is {sniffed}, which is not one of the allowed formats "
            f"({', '.join(allowed)}); convert it to one of them before uploading",
        )
    if sniffed == "HEIF" and not _register_heif():
        raise ImageRejectedError(
            "unsupported_format",
            "the content is HEIF but the pillow-heif plugin is not in this deployment; "
            "build the Pillow layer with it (layers/pillow), or upload a JPEG",
        )
    _check_container(sniffed, data)

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            # Pillow's UserWarnings about malformed metadata are noise: metadata is dropped.
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # MaxImagePixels is the only pixel limit, and the report names it. Pillow's own
            # check in open() is off: it would word the case as a "decompression bomb" over
            # twice its limit. Ours runs on the header's size as soon as open() has read it,
            # before any pixel is decoded. Pillow's is back on, at MaxImagePixels, for what
            # only decoding meets (TIFF tiles, GIF frames).
            Image.MAX_IMAGE_PIXELS = None
            try:
                source = Image.open(io.BytesIO(data), formats=[sniffed])
            finally:
                Image.MAX_IMAGE_PIXELS = limits.max_pixels
            width, height = source.size
            if width < 1 or height < 1:
                raise ImageRejectedError(
                    "corrupt",
                    f"the header declares a {width}x{height} image, which has no pixels; "
                    "export or save the image again from the program that made it",
                )
            _check_pixels("the image is", width, height, limits)
            fmt = "JPEG" if source.format == "MPO" else str(source.format)
            if source.format == "MPO":
                notes.append("jpeg: multi-picture (MPO) file, primary image used")
            if getattr(source, "is_animated", False):
                notes.append(f"animated: first frame of the {fmt} used")
            source_mode = source.mode
            source.load()
            if source.size != (width, height):
                # pillow-heif learns the real size only while decoding (the header's ispe
                # box may disagree): report and limit what was decoded, not what was claimed.
                notes.append(
                    f"size: header declared {width}x{height}, decoded {source.width}x"
                    f"{source.height}"
                )
                width, height = source.size
                _check_pixels("the decoded image is", width, height, limits)
            image = _normalise_mode(source, data, fmt, notes)
            image = _apply_orientation(image, source, notes)
    except MemoryError:
        raise
    except Exception as exc:  # every other failure here is the input's fault
        raise _rejection(exc, limits) from exc

    image = _drop_opaque_alpha(image, notes)
    # A plain Image over the decoded pixels (no copy): no file handle, no lazy loading, and
    # nothing from the source (EXIF, XMP, comments, ICC) rides along in ``info``.
    image = image._new(image.im)
    image.info = {}
    return DecodedImage(
        image=image,
        source_format=fmt,
        source_width=width,
        source_height=height,
        source_mode=source_mode,
        notes=notes,
        decode_ms=(time.perf_counter() - started) * 1000,
    )
