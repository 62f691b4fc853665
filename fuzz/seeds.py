"""Small valid inputs, built in code, that the fuzzers start from and mutate.

Every seed is a few hundred bytes to a few KB and exercises a distinct decoder path: each
allowed image container, the pixel modes the decoder normalises, EXIF orientation, ICC,
animation; and CSV dialects, encodings, gzip, quoting and the summary's issue paths.
"""

from __future__ import annotations

import gzip
import io
import struct
import zlib
from functools import cache

from PIL import Image, ImageCms


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _raw_png(width: int, height: int, colour_type: int, depth: int, rows: bytes) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + _chunk(b"IDAT", zlib.compress(rows))
        + _chunk(b"IEND", b"")
    )


def _pattern(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Deterministic, not flat: gradients in every band so encoders do real work."""
    base = Image.linear_gradient("L").resize(size)
    other = Image.radial_gradient("L").resize(size)
    bands = {"L": [base], "LA": [base, other], "RGB": [base, other, base.rotate(90)]}
    bands["RGBA"] = [*bands["RGB"], other.rotate(45)]
    bands["CMYK"] = [*bands["RGBA"]]
    return Image.merge(mode, bands[mode])


def _srgb_icc() -> bytes:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@cache
def image_seeds() -> dict[str, bytes]:
    """name -> bytes, one per decoder path."""
    rgb = _pattern((24, 16))
    seeds: dict[str, bytes] = {}
    seeds["jpeg_rgb"] = _encode(rgb, "JPEG", quality=75)
    seeds["jpeg_progressive"] = _encode(rgb, "JPEG", quality=60, progressive=True)
    seeds["jpeg_gray"] = _encode(_pattern((16, 16), "L"), "JPEG")
    seeds["jpeg_cmyk"] = _encode(_pattern((8, 8), "CMYK"), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    exif[0x010F] = "FuzzCam"
    seeds["jpeg_exif_icc"] = _encode(rgb, "JPEG", exif=exif, icc_profile=_srgb_icc())
    seeds["png_rgba"] = _encode(_pattern((16, 12), "RGBA"), "PNG")
    seeds["png_la"] = _encode(_pattern((12, 8), "LA"), "PNG")
    palette = Image.new("P", (12, 8), 0)
    palette.putpalette([0, 0, 0, 0, 200, 0, 200, 0, 0] + [0] * 759)
    palette.paste(1, (6, 0, 12, 8))
    palette.paste(2, (0, 4, 6, 8))
    seeds["png_palette_trns"] = _encode(palette, "PNG", transparency=0)
    seeds["png_bilevel"] = _encode(_pattern((16, 8), "L").convert("1"), "PNG")
    seeds["png_gray16"] = _raw_png(4, 2, 0, 16, b"\0" + bytes(range(8)) + b"\0" + bytes(8))
    seeds["png_rgb16"] = _raw_png(2, 1, 2, 16, b"\0" + bytes(range(0, 240, 20)))
    seeds["png_icc"] = _encode(rgb, "PNG", icc_profile=_srgb_icc())
    first = Image.new("P", (10, 10), 1)
    first.putpalette([0, 0, 0, 255, 0, 0, 0, 0, 255] + [0] * 759)
    first.paste(0, (0, 0, 5, 5))
    second = Image.new("P", (10, 10), 2)
    second.putpalette(first.getpalette() or [])
    seeds["gif_animated"] = _encode(
        first, "GIF", save_all=True, append_images=[second], transparency=0, duration=50
    )
    seeds["webp_lossy"] = _encode(rgb, "WEBP", quality=50)
    seeds["webp_lossless_alpha"] = _encode(_pattern((8, 8), "RGBA"), "WEBP", lossless=True)
    seeds["webp_animated"] = _encode(
        _pattern((8, 8), "RGBA"),
        "WEBP",
        save_all=True,
        append_images=[_pattern((8, 8), "RGBA").rotate(90)],
        lossless=True,
        duration=50,
    )
    seeds["tiff_raw"] = _encode(_pattern((8, 6)), "TIFF")
    seeds["tiff_lzw"] = _encode(_pattern((8, 6)), "TIFF", compression="tiff_lzw")
    seeds["tiff_gray16"] = _encode(_pattern((6, 4), "L").convert("I;16"), "TIFF")
    seeds["tiff_float"] = _encode(_pattern((6, 4), "L").convert("F"), "TIFF")
    seeds["tiff_cmyk"] = _encode(_pattern((6, 4), "CMYK"), "TIFF")
    seeds["tiff_lab"] = _encode(Image.new("LAB", (4, 4), (50, 10, 200)), "TIFF")
    seeds["bmp_rgb"] = _encode(_pattern((9, 5)), "BMP")
    seeds["bmp_palette"] = _encode(_pattern((9, 5), "L").convert("P"), "BMP")
    seeds["avif"] = _encode(_pattern((8, 8)), "AVIF", quality=50)
    try:
        import pillow_heif  # type: ignore[import-not-found,unused-ignore]

        pillow_heif.register_heif_opener()
        seeds["heif"] = _encode(_pattern((8, 8)), "HEIF", quality=50)
    except ImportError:  # pragma: no cover - pillow-heif ships with the project's venv
        pass
    return seeds


_PLAIN = (
    "id,name,price,when,at,ok,code\n"
    "1,apple,1.50,2026-01-02,2026-01-02T10:00:00Z,true,007\n"
    "2,pear,,2026-02-03,2026-02-03 11:30:00,false,010\n"
    "3,fig,NA,2026-03-04,2026-03-04T12:00:00+02:00,yes,011\n"
    "-4,kiwi,1e3,2026-04-05,2026-04-05T13:00:00,no,012\n"
)


@cache
def csv_seeds() -> dict[str, bytes]:
    seeds: dict[str, bytes] = {}
    seeds["plain"] = _PLAIN.encode()
    seeds["quoted"] = (
        b'a,"b, with comma","c ""quoted"""\n'
        b'1,"line one\nline two",x\n'
        b'2,"",""""\n'
        b'3,"multi\r\nline\rmixed","end"\n'
    )
    seeds["semicolon_decimal_comma"] = b"a;b;c\n1,5;2;x\n2,5;3;y\n"
    seeds["formatted_us"] = (
        b'amount,price,pct,when,at\n"1,234.56",$1299.00,45.5%,12/31/2024,12/31/2024 11:05 PM\n'
        b'"(12.00)",-$5,3%,01/02/2024,6-May-2024\n999.99,"$1,299.00",100%,05/06/24,1/2/24 1:00 AM\n'
    )
    seeds["formatted_de"] = (
        "Betrag;Preis;Anteil;Datum\n1.234,56;12,50 \u20ac;45,5 %;31.12.2024\n"
        "2.000,00;-3,00 \u20ac;3 %;01.02.2024\n1.234;EUR 5;100 %;06.05.2024\n"
    ).encode()
    seeds["tab_crlf"] = b"x\ty\tz\r\n1\t2\t3\r\n4\t5\t6\r\n"
    seeds["pipe_cr"] = b"x|y\r1|2\r3|4\r"
    seeds["single_quote"] = b"a,b\n'x, y',1\n'z',2\n"
    seeds["utf8_bom"] = ("\ufeff" + "name,city\nJosé,Zürich\nÅsa,Malmö\n").encode()
    seeds["utf16le_bom"] = ("\ufeff" + "a,b\n1,é\n2,ß\n").encode("utf-16-le")
    seeds["utf16be_nobom"] = "a,b\n1,2\n3,4\n5,6\n".encode("utf-16-be")
    seeds["cp1252"] = "name,price\ncaf\u00e9,\u20ac5\nna\u00efve,\u20182\u2019\n".encode("cp1252")
    seeds["latin1"] = "name\ncaf\u00e9\n\u00ff\n".encode("latin-1")
    seeds["gzip"] = gzip.compress(_PLAIN.encode(), mtime=0)
    seeds["ragged_blank"] = b"a,b,c\n1,2,3\n\n4,5\n,,\n6,7,8,9\n   \n10,11,12\n"
    seeds["dup_blank_headers"] = b"a,a,,b, a\n1,2,3,4,5\n6,7,8,9,10\n"
    seeds["numbers"] = (
        b"big,inf,neg,sci,lead\n"
        b"99999999999999999999999,inf,-0,1.5e308,0001\n"
        b"-99999999999999999999999,-inf,-1,-2e-308,0\n"
        b"1,nan,2,3,00\n"
    )
    seeds["header_only"] = b"just,a,header\n"
    seeds["single_column"] = b"value\n1\n2\n\n3\n"
    seeds["no_header"] = b"1,2,3\n4,5,6\n7,8,9\n"
    seeds["unterminated_quote"] = b'a,b\n1,"never closed\n2,3\n4,5\n'
    seeds["nul_bytes"] = b"a,b\n1,x\x00y\n2,z\n"
    return seeds
