"""Format-aware mutations, written as data so hypothesis can shrink them.

A mutation is a tuple ``(op, *args)``; ``apply`` takes positions modulo the current length
so every mutation applies to every input. ``header_fields`` locates the fields decoders
trust most (dimensions, depths, modes, offsets, counts) in each container, so a mutation
can set one to a boundary value; ``fix_checksums`` then repairs PNG chunk CRCs and gzip
trailers, which would otherwise stop the decoder long before the corrupted field matters.
"""

from __future__ import annotations

import gzip
import random
import struct
import zlib
from collections.abc import Sequence
from typing import NamedTuple

Mutation = tuple[object, ...]


class Field(NamedTuple):
    name: str
    offset: int
    size: int
    order: str  # "big" | "little"


# Boundary values worth trying in any header field (clipped to the field's width).
INTERESTING = (
    0, 1, 2, 3, 7, 8, 15, 16, 255, 256, 1999, 2000, 2001, 4096, 16383, 16384, 32767, 32768,
    65499, 65500, 65535, 65536, 2**24 - 1, 2**31 - 1, 2**31, 2**32 - 1,
)  # fmt: skip


def _png_fields(data: bytes) -> list[Field]:
    names = ("width", "height", "depth", "colour_type", "compression", "filter", "interlace")
    sizes = (4, 4, 1, 1, 1, 1, 1)
    out, pos = [], 16
    for name, size in zip(names, sizes, strict=True):
        out.append(Field(f"png.ihdr.{name}", pos, size, "big"))
        pos += size
    pos = 8
    while pos + 8 <= len(data):  # every chunk's length field
        out.append(Field(f"png.{data[pos + 4 : pos + 8]!r}.length", pos, 4, "big"))
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        pos += 12 + length
    return out


def _jpeg_fields(data: bytes) -> list[Field]:
    out, pos = [], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        length = int.from_bytes(data[pos + 2 : pos + 4], "big")
        out.append(Field(f"jpeg.{marker:02x}.length", pos + 2, 2, "big"))
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            out += [
                Field("jpeg.sof.precision", pos + 4, 1, "big"),
                Field("jpeg.sof.height", pos + 5, 2, "big"),
                Field("jpeg.sof.width", pos + 7, 2, "big"),
                Field("jpeg.sof.components", pos + 9, 1, "big"),
                Field("jpeg.sof.sampling0", pos + 11, 1, "big"),
                Field("jpeg.sof.table0", pos + 12, 1, "big"),
            ]
        if marker == 0xDA:  # scan header: components, then entropy-coded data
            out.append(Field("jpeg.sos.components", pos + 4, 1, "big"))
            break
        pos += 2 + length
    return out


def _gif_fields(data: bytes) -> list[Field]:
    out = [
        Field("gif.screen.width", 6, 2, "little"),
        Field("gif.screen.height", 8, 2, "little"),
        Field("gif.screen.flags", 10, 1, "little"),
    ]
    flags = data[10] if len(data) > 10 else 0
    pos = 13 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
    while pos < len(data) and data[pos] == 0x21:  # extensions: skip their sub-blocks
        pos += 2
        while pos < len(data) and data[pos]:
            pos += data[pos] + 1
        pos += 1
    if pos < len(data) and data[pos] == 0x2C:
        for i, name in enumerate(("left", "top", "width", "height")):
            out.append(Field(f"gif.frame.{name}", pos + 1 + 2 * i, 2, "little"))
        out += [
            Field("gif.frame.flags", pos + 9, 1, "little"),
            Field("gif.frame.lzw_min", pos + 10, 1, "little"),
        ]
    return out


def _bmp_fields(data: bytes) -> list[Field]:
    layout = (
        ("offset", 10, 4), ("header_size", 14, 4), ("width", 18, 4), ("height", 22, 4),
        ("planes", 26, 2), ("bpp", 28, 2), ("compression", 30, 4), ("image_size", 34, 4),
        ("colours_used", 46, 4),
    )  # fmt: skip
    return [Field(f"bmp.{name}", off, size, "little") for name, off, size in layout]


_TIFF_TAGS = {
    256: "width", 257: "height", 258: "bits", 259: "compression", 262: "photometric",
    273: "strip_offsets", 277: "samples", 278: "rows_per_strip", 279: "strip_counts",
    284: "planar", 338: "extra_samples", 339: "sample_format",
}  # fmt: skip


def _tiff_fields(data: bytes) -> list[Field]:
    order = "little" if data[:2] == b"II" else "big"
    if data[2:4] in (b"+\x00", b"\x00+"):
        return []  # BigTIFF: generic mutations only
    ifd = int.from_bytes(data[4:8], order)
    out = [Field("tiff.ifd_offset", 4, 4, order)]
    if ifd + 2 > len(data):
        return out
    count = int.from_bytes(data[ifd : ifd + 2], order)
    for i in range(min(count, 64)):
        entry = ifd + 2 + 12 * i
        if entry + 12 > len(data):
            break
        tag = int.from_bytes(data[entry : entry + 2], order)
        kind = int.from_bytes(data[entry + 2 : entry + 4], order)
        name = _TIFF_TAGS.get(tag, str(tag))
        out.append(Field(f"tiff.{name}.count", entry + 4, 4, order))
        size = 2 if kind in (3, 8) else 1 if kind in (1, 2, 6, 7) else 4
        out.append(Field(f"tiff.{name}.value", entry + 8, size, order))
    return out


def _webp_fields(data: bytes) -> list[Field]:
    out = [Field("webp.riff_size", 4, 4, "little"), Field("webp.chunk_size", 16, 4, "little")]
    kind = data[12:16]
    if kind == b"VP8 ":
        out += [Field("webp.vp8.width", 26, 2, "little"), Field("webp.vp8.height", 28, 2, "little")]
    elif kind == b"VP8L":
        out.append(Field("webp.vp8l.dimensions", 21, 4, "little"))
    elif kind == b"VP8X":
        out += [
            Field("webp.vp8x.flags", 20, 1, "little"),
            Field("webp.vp8x.width", 24, 3, "little"),
            Field("webp.vp8x.height", 27, 3, "little"),
        ]
    return out


def _isobmff_fields(data: bytes) -> list[Field]:
    out = [Field("ftyp.size", 0, 4, "big")]
    for box in (b"ispe", b"pixi", b"iloc", b"ipma", b"av1C", b"hvcC"):
        at = data.find(box)
        if at >= 4:
            out.append(Field(f"{box.decode()}.size", at - 4, 4, "big"))
            if box == b"ispe":
                out += [
                    Field("ispe.width", at + 8, 4, "big"),
                    Field("ispe.height", at + 12, 4, "big"),
                ]
    return out


def header_fields(data: bytes) -> list[Field]:
    """The header fields of ``data``'s container that lie inside ``data``."""
    if data.startswith(b"\x89PNG"):
        fields = _png_fields(data)
    elif data.startswith(b"\xff\xd8"):
        fields = _jpeg_fields(data)
    elif data[:3] == b"GIF":
        fields = _gif_fields(data)
    elif data[:2] == b"BM":
        fields = _bmp_fields(data)
    elif data[:4] in (b"II*\x00", b"MM\x00*"):
        fields = _tiff_fields(data)
    elif data[:4] == b"RIFF":
        fields = _webp_fields(data)
    elif data[4:8] == b"ftyp":
        fields = _isobmff_fields(data)
    else:
        fields = []
    return [f for f in fields if f.offset + f.size <= len(data)]


def set_field(data: bytes, field: Field, value: int) -> bytes:
    value &= (1 << (8 * field.size)) - 1
    raw = value.to_bytes(field.size, field.order)  # type: ignore[arg-type]
    return data[: field.offset] + raw + data[field.offset + field.size :]


def fix_checksums(data: bytes) -> bytes:
    """Recompute PNG chunk CRCs (as far as the chunk walk goes); re-wrap a gzip body."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        out = bytearray(data)
        pos = 8
        while pos + 12 <= len(out):
            (length,) = struct.unpack(">I", out[pos : pos + 4])
            end = pos + 8 + length
            if end + 4 > len(out):
                break
            out[end : end + 4] = struct.pack(">I", zlib.crc32(out[pos + 4 : end]))
            pos = end + 4
        return bytes(out)
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.compress(gzip.decompress(data), mtime=0)
        except (OSError, EOFError, zlib.error):
            return data
    return data


# --------------------------------------------------------------------------- generic ops


def apply(data: bytes, mutations: Sequence[Mutation], others: Sequence[bytes] = ()) -> bytes:
    """Apply each mutation in turn; positions wrap around the current length."""
    buf = bytearray(data)
    for mutation in mutations:
        op, args = mutation[0], mutation[1:]
        size = len(buf)
        if op == "flip" and size:
            pos, bit = int(args[0]) % size, int(args[1]) % 8  # type: ignore[call-overload]
            buf[pos] ^= 1 << bit
        elif op == "set" and size:
            buf[int(args[0]) % size] = int(args[1]) & 0xFF  # type: ignore[call-overload]
        elif op == "insert":
            pos = int(args[0]) % (size + 1)  # type: ignore[call-overload]
            buf[pos:pos] = bytes(args[1])  # type: ignore[call-overload]
        elif op == "delete" and size:
            pos = int(args[0]) % size  # type: ignore[call-overload]
            del buf[pos : pos + int(args[1])]  # type: ignore[call-overload]
        elif op == "repeat" and size:
            pos = int(args[0]) % size  # type: ignore[call-overload]
            piece = bytes(buf[pos : pos + int(args[1])])  # type: ignore[call-overload]
            buf[pos:pos] = piece * int(args[2])  # type: ignore[call-overload]
        elif op == "truncate":
            del buf[int(args[0]) % (size + 1) :]  # type: ignore[call-overload]
        elif op == "splice" and others:
            other = others[int(args[0]) % len(others)]  # type: ignore[call-overload]
            cut = int(args[1]) % (size + 1)  # type: ignore[call-overload]
            at = int(args[2]) % (len(other) + 1)  # type: ignore[call-overload]
            buf[cut:] = other[at:]
        elif op == "field":
            fields = header_fields(bytes(buf))
            if fields:
                field = fields[int(args[0]) % len(fields)]  # type: ignore[call-overload]
                buf[:] = set_field(bytes(buf), field, int(args[1]))  # type: ignore[call-overload]
        elif op == "pad":
            pos = int(args[0]) % (size + 1)  # type: ignore[call-overload]
            buf[pos:pos] = bytes([int(args[1]) & 0xFF]) * int(args[2])  # type: ignore[call-overload]
        elif op == "reencode":
            text = bytes(buf).decode("utf-8", "replace")
            buf[:] = text.encode(str(args[0]), "replace")
        elif op == "gzip":
            buf[:] = gzip.compress(bytes(buf), mtime=0)
        elif op == "fix":
            buf[:] = fix_checksums(bytes(buf))
    return bytes(buf)


# Bytes and strings that mean something to a CSV reader, sniffer or decoder.
CSV_TOKENS = (
    b",", b";", b"\t", b"|", b'"', b"'", b'""', b"\n", b"\r", b"\r\n", b"\x00", b" ",
    b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x1f\x8b", b"\\", b"\xc3", b"\xe2\x82",
    b"\x80", b"\x9d", b"NA", b"null", b"-", b"inf", b"-inf", b"nan", b"1e308", b"1e309",
    b"9" * 20, b"9" * 400, b"0007", b"true", b"yes", b"2026-02-30", b"2026-01-01",
    b"2026-01-01T00:00:00Z", b"2026-01-01 25:00", b"2026-01-01T10:00:00+05:30", b"1.5",
    b"-0", b".5", b"\xe2\x80\xa8", b"\x85",
)  # fmt: skip
CSV_CODECS = ("utf-8-sig", "utf-16-le", "utf-16-be", "utf-16", "cp1252", "latin-1")


def random_csv_mutations(rng: random.Random, count: int) -> list[Mutation]:
    """CSV-aware mutations drawn from ``rng`` (atheris custom mutator)."""
    out: list[Mutation] = []
    for _ in range(count):
        roll = rng.random()
        pos = rng.randrange(1 << 20)
        if roll < 0.55:
            token = rng.choice(CSV_TOKENS)
            out.append(("insert", pos, token * rng.choice((1, 1, 1, 2, 3, 50))))
        elif roll < 0.65:
            out.append(("pad", pos, rng.choice(b'x,"\n 9'), rng.choice((100, 5000, 20_000))))
        elif roll < 0.75:
            out.append(("repeat", pos, rng.randint(1, 200), rng.randint(2, 300)))
        elif roll < 0.8:
            out.append(("reencode", rng.choice(CSV_CODECS)))
        else:
            out.extend(random_mutations(rng, 1, fix=False))
    if rng.random() < 0.05:
        out.append(("gzip",))
    return out


def random_mutations(rng: random.Random, count: int, fix: bool = True) -> list[Mutation]:
    """The same vocabulary as the hypothesis strategies, drawn from ``rng`` (atheris)."""
    out: list[Mutation] = []
    for _ in range(count):
        op = rng.choice(("flip", "set", "insert", "delete", "repeat", "truncate", "field"))
        pos = rng.randrange(1 << 20)
        if op == "flip":
            out.append((op, pos, rng.randrange(8)))
        elif op == "set":
            out.append((op, pos, rng.choice((0, 0xFF, 0x7F, 0x80, rng.randrange(256)))))
        elif op == "insert":
            out.append((op, pos, rng.randbytes(rng.choice((1, 2, 4, 16, 256)))))
        elif op == "delete":
            out.append((op, pos, rng.choice((1, 2, 4, 16, 256))))
        elif op == "repeat":
            out.append((op, pos, rng.randint(1, 64), rng.randint(1, 32)))
        elif op == "truncate":
            out.append((op, pos))
        else:
            value = rng.choice(INTERESTING) + rng.choice((-1, 0, 0, 0, 1))
            out.append((op, rng.randrange(64), value))
    if fix and rng.random() < 0.7:
        out.append(("fix",))
    return out
