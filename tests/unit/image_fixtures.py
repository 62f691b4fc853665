"""Image fixtures generated in code: small, deterministic, each built to make one property
of the imaging core observable in the output pixels or bytes.

ICC profiles are assembled here from the ICC v2 specification (no binary files in tests/):
a Display-P3-like matrix/TRC profile, a gray gamma profile, and a CMYK profile whose lookup
table makes a colour-managed conversion easy to tell from the naive CMYK formula.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable

from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)
WHITE = (255, 255, 255)

# --------------------------------------------------------------------------- ICC builder

D50 = (0.9642, 1.0, 0.8249)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz_tag(xyz: tuple[float, float, float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in xyz)


def _curve_tag(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc_tag(text: str) -> bytes:
    ascii_ = text.encode("ascii") + b"\0"
    body = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_)) + ascii_
    body += struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67
    return body


def _para_tag(function: int, *params: float) -> bytes:
    """A parametric curve (ICC v4 'para', read by LittleCMS in v2 profiles too)."""
    return b"para\0\0\0\0" + struct.pack(">HH", function, 0) + b"".join(_s15(p) for p in params)


def _text_tag(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def _lut8_tag(inputs: int, outputs: int, clut: bytes) -> bytes:
    identity_matrix = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    ramp = bytes(range(256))
    return (
        b"mft1\0\0\0\0"
        + bytes((inputs, outputs, 2, 0))
        + identity_matrix
        + ramp * inputs
        + clut
        + ramp * outputs
    )


def build_icc(
    device_class: bytes, colour_space: bytes, pcs: bytes, tags: dict[bytes, bytes]
) -> bytes:
    entries = list(tags.items())
    offset = 128 + 4 + 12 * len(entries)
    table = struct.pack(">I", len(entries))
    data = b""
    for sig, body in entries:
        table += sig + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    size = offset + len(data)
    header = struct.pack(">I", size) + b"\0" * 4 + struct.pack(">I", 0x02100000)
    header += device_class + colour_space + pcs + b"\0" * 12 + b"acsp" + b"\0" * 24
    header += struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"\0" * 48
    assert len(header) == 128
    return header + table + data


# Display P3 primaries, chromatically adapted to D50 (as in Apple's "Display P3" profile).
P3_MATRIX = ((0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419), (0.1571, 0.0666, 0.7841))


# sRGB's primaries adapted to D50 and its piecewise curve, as in "sRGB IEC61966-2.1".
SRGB_MATRIX = (
    (0.4360747, 0.2225045, 0.0139322),
    (0.3850649, 0.7168786, 0.0971045),
    (0.1430804, 0.0606169, 0.7141733),
)
SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)


def _matrix_profile(
    description: str, matrix: tuple[tuple[float, float, float], ...], trc: bytes, copyright: str
) -> bytes:
    r, g, b = matrix
    return build_icc(
        b"mntr",
        b"RGB ",
        b"XYZ ",
        {
            b"desc": _desc_tag(description),
            b"cprt": _text_tag(copyright),
            b"wtpt": _xyz_tag(D50),
            b"rXYZ": _xyz_tag(r),
            b"gXYZ": _xyz_tag(g),
            b"bXYZ": _xyz_tag(b),
            b"rTRC": trc,
            b"gTRC": trc,
            b"bTRC": trc,
        },
    )


def display_p3_profile(copyright: str = "public domain") -> bytes:
    return _matrix_profile("Test Display P3", P3_MATRIX, _curve_tag(2.2), copyright)


def srgb_profile(copyright: str = "public domain", description: str = "Test sRGB") -> bytes:
    """sRGB written out by hand: other bytes, description and size than LittleCMS's own."""
    return _matrix_profile(description, SRGB_MATRIX, _para_tag(3, *SRGB_CURVE), copyright)


def padded_profile(make: Callable[..., bytes], size: int) -> bytes:
    """The profile ``make`` writes, grown to ``size`` bytes by a long copyright text."""
    base = len(make())
    return make(copyright="(c) " + "x" * (size - base - 4))


def rgb_profile_without_curves() -> bytes:
    """A well-formed RGB header and tag table that lacks the tone curves: it parses, but
    no transform can be built from it."""
    r, g, b = P3_MATRIX
    return build_icc(
        b"mntr",
        b"RGB ",
        b"XYZ ",
        {
            b"desc": _desc_tag("Test RGB, no curves"),
            b"wtpt": _xyz_tag(D50),
            b"rXYZ": _xyz_tag(r),
            b"gXYZ": _xyz_tag(g),
            b"bXYZ": _xyz_tag(b),
        },
    )


def gray_profile(gamma: float = 1.8) -> bytes:
    return build_icc(
        b"mntr",
        b"GRAY",
        b"XYZ ",
        {
            b"desc": _desc_tag(f"Test Gray gamma {gamma}"),
            b"cprt": _text_tag("public domain"),
            b"wtpt": _xyz_tag(D50),
            b"kTRC": _curve_tag(gamma),
        },
    )


def cmyk_profile() -> bytes:
    """CMYK -> Lab through a 2-point grid: C turns paper white into pure sRGB green, K turns
    anything black, M and Y do nothing. The naive formula would give cyan for C."""
    white, green, black = (255, 128, 128), (224, 42, 211), (0, 128, 128)
    clut = b""
    for c in (0, 1):
        for _m in (0, 1):
            for _y in (0, 1):
                for k in (0, 1):
                    clut += bytes(black if k else green if c else white)
    return build_icc(
        b"prtr",
        b"CMYK",
        b"Lab ",
        {
            b"desc": _desc_tag("Test CMYK green press"),
            b"cprt": _text_tag("public domain"),
            b"wtpt": _xyz_tag(D50),
            b"A2B0": _lut8_tag(4, 3, clut),
        },
    )


def cmyk_profile_without_table() -> bytes:
    """A CMYK header with no A2B0 table: it parses, but converts nothing."""
    return build_icc(
        b"prtr",
        b"CMYK",
        b"Lab ",
        {b"desc": _desc_tag("Test CMYK, no table"), b"wtpt": _xyz_tag(D50)},
    )


# --------------------------------------------------------------------------- encoders


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def raw_png(
    width: int, height: int, colour_type: int, depth: int, rows: bytes, icc: bytes | None = None
) -> bytes:
    """A PNG written by hand, for bit depths and headers Pillow will not write."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    iccp = png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(icc)) if icc else b""
    idat = png_chunk(b"IDAT", zlib.compress(rows)) if rows else b""
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + iccp + idat + png_chunk(b"IEND", b"")


# --------------------------------------------------------------------------- fixtures

UPRIGHT_SIZE = (48, 32)

# Pixels as stored for each orientation: applying the EXIF transform gives upright().
_STORE = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def upright() -> Image.Image:
    """48x32 white, red block at the top-left corner, blue block at the top-right."""
    image = Image.new("RGB", UPRIGHT_SIZE, WHITE)
    image.paste(RED, (0, 0, 12, 12))
    image.paste(BLUE, (36, 0, 48, 12))
    return image


def oriented_jpeg(orientation: int, *, gps: bool = True) -> bytes:
    image = upright()
    transpose = _STORE[orientation]
    stored = image.transpose(transpose) if transpose is not None else image
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "TestCam"  # Make
    if gps:
        gps_ifd = exif.get_ifd(0x8825)
        gps_ifd[1] = "N"
        gps_ifd[2] = (52.0, 22.0, 12.0)
        gps_ifd[3] = "E"
        gps_ifd[4] = (4.0, 53.0, 28.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><secret>home address</secret></x:xmpmeta>'
    return encode(stored, "JPEG", quality=95, exif=exif, xmp=xmp, comment=b"private note")


def rgba_png() -> bytes:
    """64x64: opaque red left half, fully transparent right half, a half-transparent
    blue band at the bottom."""
    image = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    image.paste((255, 0, 0, 255), (0, 0, 32, 48))
    image.paste((0, 0, 255, 128), (0, 48, 64, 64))
    return encode(image, "PNG")


def palette_trns_png() -> bytes:
    """P mode, index 0 transparent (its colour is black), index 1 green."""
    image = Image.new("P", (20, 10), 0)
    image.putpalette([0, 0, 0, 0, 200, 0] + [0] * 762)
    image.paste(1, (10, 0, 20, 10))
    return encode(image, "PNG", transparency=0)


def la_png() -> bytes:
    """Gray + alpha: left half gray 100 opaque, right half transparent."""
    image = Image.new("LA", (20, 10), (0, 0))
    image.paste((100, 255), (0, 0, 10, 10))
    return encode(image, "PNG")


def gray16_png() -> bytes:
    """16-bit gray, 4x1: 65535, 32768, 256, 0 (8-bit: 255, 128, 1, 0)."""
    rows = b"\0" + struct.pack(">4H", 65535, 32768, 256, 0)
    return raw_png(4, 1, 0, 16, rows)


def rgb16_png() -> bytes:
    rows = b"\0" + struct.pack(">6H", 65535, 32768, 257, 0, 4096, 65280)
    return raw_png(2, 1, 2, 16, rows)


def gray_alpha16_png() -> bytes:
    rows = b"\0" + struct.pack(">4H", 40000, 65535, 1000, 0)
    return raw_png(2, 1, 4, 16, rows)


def cmyk_jpeg(with_profile: bool, profile: bytes | None = None) -> bytes:
    """Left half 100% cyan, right half 100% black (K)."""
    image = Image.new("CMYK", (16, 8), (0, 0, 0, 0))
    image.paste((255, 0, 0, 0), (0, 0, 8, 8))
    image.paste((0, 0, 0, 255), (8, 0, 16, 8))
    params: dict[str, object] = {"quality": 100}
    if with_profile:
        params["icc_profile"] = profile or cmyk_profile()
    return encode(image, "JPEG", **params)


def p3_jpeg() -> bytes:
    image = Image.new("RGB", (16, 16), (100, 180, 100))
    return encode(image, "JPEG", quality=100, subsampling=0, icc_profile=display_p3_profile())


def gray_icc_jpeg() -> bytes:
    image = Image.new("L", (16, 16), 128)
    return encode(image, "JPEG", quality=100, icc_profile=gray_profile(1.8))


def animated_gif() -> bytes:
    """Two 40x40 frames; frame 1 is red with a transparent top-left quarter, frame 2 blue."""
    first = Image.new("P", (40, 40), 1)
    first.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    first.paste(0, (0, 0, 20, 20))
    second = Image.new("P", (40, 40), 2)
    second.putpalette(first.getpalette() or [])
    return encode(
        first, "GIF", save_all=True, append_images=[second], transparency=0, duration=100, loop=0
    )


def animated_webp() -> bytes:
    first = Image.new("RGBA", (20, 20), (255, 0, 0, 255))
    first.paste((0, 0, 0, 0), (0, 0, 10, 10))
    second = Image.new("RGBA", (20, 20), (0, 0, 255, 255))
    return encode(first, "WEBP", save_all=True, append_images=[second], lossless=True, duration=100)


def gradient(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A deterministic non-trivial image (PNG filters and deflate have work to do)."""
    width, height = size
    base = Image.linear_gradient("L").resize(size)
    other = Image.radial_gradient("L").resize(size)
    noise = Image.effect_noise(size, 30).convert("L") if width * height > 1 else base
    bands = {"L": [base], "LA": [base, other], "RGB": [base, other, noise]}
    bands["RGBA"] = [base, other, noise, Image.linear_gradient("L").rotate(90).resize(size)]
    return Image.merge(mode, bands[mode])


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG header that claims width x height pixels and carries no pixel data."""
    return raw_png(width, height, 2, 8, b"")


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def photo_jpeg(size: tuple[int, int] = (64, 48)) -> bytes:
    return encode(gradient(size), "JPEG", quality=90)
