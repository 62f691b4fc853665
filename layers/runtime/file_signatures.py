"""What the first bytes of a file say it is: the one table of file signatures.

Used by the image core (which formats it may decode), the CSV core (which bytes are no
text at all) and the local runner (which uploads are images), so that the three never
disagree. It is shared pure code: the standard library only, nothing of ours, so the cores
may import it (they may not import the runtime). It ships in the runtime layer, beside
``pipeline_runtime``, which both functions have (/opt/python on Lambda).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

# Enough leading bytes for every signature below, an ftyp box's brand list included.
SNIFF_BYTES = 64


class Kind(enum.StrEnum):
    IMAGE = "image"  # a raster format: the name is Pillow's format name
    BINARY = "binary"  # anything else that is not text: documents, archives, programs
    MARKUP = "markup"  # text, but a markup document (SVG, XML), not a table


@dataclass(frozen=True)
class FileFormat:
    name: str
    kind: Kind


JPEG = FileFormat("JPEG", Kind.IMAGE)
PNG = FileFormat("PNG", Kind.IMAGE)
GIF = FileFormat("GIF", Kind.IMAGE)
TIFF = FileFormat("TIFF", Kind.IMAGE)
WEBP = FileFormat("WEBP", Kind.IMAGE)
BMP = FileFormat("BMP", Kind.IMAGE)
HEIF = FileFormat("HEIF", Kind.IMAGE)
AVIF = FileFormat("AVIF", Kind.IMAGE)
GZIP = FileFormat("GZIP", Kind.BINARY)  # binary, though the CSV core reads .csv.gz through it
JPEG_XL = FileFormat("JPEG XL", Kind.BINARY)
ISO_MEDIA = FileFormat("ISO media", Kind.BINARY)  # MP4, MOV, ... (an ftyp of no image brand)
SVG_XML = FileFormat("SVG/XML", Kind.MARKUP)

# (leading bytes, format) for the formats that a fixed prefix identifies. WebP, BMP and the
# ISO media (HEIF/AVIF) formats need more than a prefix: see ``identify``.
_PREFIXES: tuple[tuple[bytes, FileFormat], ...] = (
    (b"\xff\xd8\xff", JPEG),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"II+\x00", TIFF),  # BigTIFF
    (b"MM\x00+", TIFF),
    (b"\x1f\x8b", GZIP),
    (b"\xff\x0a", JPEG_XL),
    (b"\x00\x00\x00\x0cJXL ", JPEG_XL),
    *(
        (magic, FileFormat(name, Kind.BINARY))
        for magic, name in (
            (b"%PDF", "PDF"),
            (b"8BPS", "PSD"),
            (b"\x00\x00\x01\x00", "ICO"),
            (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
            (b"qoif", "QOI"),
            (b"PK\x03\x04", "ZIP"),
            (b"BZh", "BZIP2"),
            (b"\xfd7zXZ\x00", "XZ"),
            (b"\x28\xb5\x2f\xfd", "ZSTD"),
            (b"\x7fELF", "ELF"),
            (b"PAR1", "PARQUET"),
            (b"SQLite format 3\x00", "SQLITE"),
        )
    ),
)

# ISO base media ("ftyp" box) brands: HEIF/HEVC stills, the generic HEIF brands, AVIF.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_GENERIC = frozenset({b"mif1", b"msf1", b"miaf"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
# BITMAPINFOHEADER and its variants: their size follows the 14-byte BMP file header. Text
# that starts with "BM" has letters there, never one of these sizes.
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})


def identify(head: bytes) -> FileFormat | None:
    """The format the first bytes (``SNIFF_BYTES`` of them suffice) show, or None: text."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:2] == b"BM" and len(head) >= 18 and _little_endian(head[14:18]) in _BMP_DIB_SIZES:
        return BMP
    if head[4:8] == b"ftyp" and len(head) >= 16:
        return _iso_media(head)
    for magic, found in _PREFIXES:
        if head.startswith(magic):
            return found
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<svg", b"<?xml")):
        return SVG_XML
    return None


def _little_endian(field: bytes) -> int:
    return int.from_bytes(field, "little")


def _iso_media(head: bytes) -> FileFormat:
    """HEIF or AVIF from the major brand, then the compatible ones; else other ISO media."""
    box = int.from_bytes(head[0:4], "big")
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, min(box, len(head)) - 3, 4)}
    if major in _AVIF_BRANDS:
        return AVIF
    if major in _HEIF_BRANDS or compatible & _HEIF_BRANDS:
        return HEIF
    if compatible & _AVIF_BRANDS:
        return AVIF
    if major in _HEIF_GENERIC:
        return HEIF
    return ISO_MEDIA


def is_image(head: bytes) -> bool:
    """True if the first bytes are those of a raster image format."""
    found = identify(head)
    return found is not None and found.kind is Kind.IMAGE
