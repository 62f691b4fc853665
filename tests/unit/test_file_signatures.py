"""One table of file signatures: the image core, the CSV core and the local runner's router
classify the same bytes the same way."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import file_signatures
import pytest
from csv_encoding import detect_encoding
from csv_errors import CsvRejectedError
from csv_source import open_source
from image_decode import sniff_format
from image_types import DEFAULT_FORMATS
from PIL import Image

from local_pipeline.routing import file_kind


def _pillow(fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, fmt, **options)
    return buffer.getvalue()


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    brands = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(brands)).to_bytes(4, "big") + b"ftyp" + brands + b"\0" * 32


IMAGES = {
    "jpeg": _pillow("JPEG"),
    "png": _pillow("PNG"),
    "gif89a": _pillow("GIF"),
    "gif87a": b"GIF87a" + _pillow("GIF")[6:],
    "webp": _pillow("WEBP"),
    "tiff_little_endian": _pillow("TIFF"),
    "tiff_big_endian": b"MM\x00*\x00\x00\x00\x08" + b"\0" * 40,
    "bigtiff": b"II+\x00\x08\x00\x00\x00" + b"\0" * 40,
    "bmp": _pillow("BMP"),
    "heic": _ftyp(b"heic", b"mif1", b"heic"),
    "heif_generic_brand": _ftyp(b"mif1", b"miaf"),
    "heic_as_compatible_brand": _ftyp(b"mif1", b"heix"),
    "avif": _ftyp(b"avif", b"mif1", b"miaf"),
    "avif_as_compatible_brand": _ftyp(b"mif1", b"avif"),
}
BINARY = {
    "pdf": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
    "mp4": _ftyp(b"isom", b"iso2", b"mp41"),
    "psd": b"8BPS\x00\x01" + b"\0" * 40,
    "parquet": b"PAR1\x15\x04\x15",
}
TEXT = {
    "csv": b"region,units\nnorth,3\n",
    "csv_starting_with_bm": b"BMW,Audi,Mercedes,Volkswagen\n1,2,3,4\n",
    "short_csv_starting_with_bm": b"BMW,1,2,3,4,5,6(",  # a byte 14 that is a BMP header size
    "csv_starting_with_gif8": b"GIF8 is no image,x\n1,2\n",
    "svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
}
GZIP = gzip.compress(b"region,units\nnorth,3\n")


def _router(data: bytes, tmp_path: Path) -> str | None:
    path = tmp_path / "upload.bin"  # a name that routes nowhere: the bytes decide
    path.write_bytes(data)
    return file_kind(path)


def _csv_core(data: bytes) -> str:
    """'gzip' (read through), 'text' (summarized) or the rejection reason."""
    if open_source(io.BytesIO(data)).compression == "gzip":
        return "gzip"
    try:
        detect_encoding(data, at_eof=True)
    except CsvRejectedError as rejected:
        return rejected.reason
    return "text"


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_an_image_is_an_image_to_all_three(name, tmp_path):
    data = IMAGES[name]
    assert sniff_format(data[:64]) in DEFAULT_FORMATS
    assert _csv_core(data) == "not_text"
    assert _router(data, tmp_path) == "image"


@pytest.mark.parametrize("name", sorted(BINARY))
def test_a_non_image_binary_is_refused_by_the_cores_and_not_routed(name, tmp_path):
    data = BINARY[name]
    assert sniff_format(data[:64]) not in DEFAULT_FORMATS
    assert _csv_core(data) == "not_text"
    assert _router(data, tmp_path) is None


def test_gzip_is_no_image_and_the_csv_core_reads_through_it(tmp_path):
    assert sniff_format(GZIP[:64]) == "GZIP"
    assert _csv_core(GZIP) == "gzip"
    assert _router(GZIP, tmp_path) is None


@pytest.mark.parametrize("name", sorted(TEXT))
def test_text_is_no_image_and_the_csv_core_reads_it(name, tmp_path):
    data = TEXT[name]
    assert sniff_format(data[:64]) in (None, "SVG/XML")
    assert _csv_core(data) == "text"
    assert _router(data, tmp_path) is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (IMAGES["jpeg"], file_signatures.JPEG),
        (IMAGES["heic"], file_signatures.HEIF),
        (IMAGES["avif_as_compatible_brand"], file_signatures.AVIF),
        (BINARY["mp4"], file_signatures.ISO_MEDIA),
        (GZIP, file_signatures.GZIP),
        (TEXT["svg"], file_signatures.SVG_XML),
        (TEXT["csv"], None),
        (b"", None),
    ],
)
def test_identify_names_the_format(data, expected):
    assert file_signatures.identify(data[: file_signatures.SNIFF_BYTES]) == expected
