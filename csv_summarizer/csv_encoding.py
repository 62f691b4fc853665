"""Which text encoding a sample is in, from its BOM and its bytes; binary is refused."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

import file_signatures
from csv_errors import CsvRejectedError

# Bytes cp1252 leaves undefined; their presence means the text is not cp1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
# C0 control bytes that text does not hold (tab, LF, form feed and CR it may).
_CONTROL_BYTES = bytes(c for c in range(32) if c not in (9, 10, 12, 13))


@dataclass
class Encoding:
    name: str  # reported name: utf-8, utf-8-sig, utf-16-le, utf-16-be, cp1252, iso-8859-1
    bom: bool
    codec: str | None  # None: bytes are UTF-8 already and pass through (validated)
    fallback: bool  # True: not UTF-8; chosen by elimination, flagged in the summary
    skip: int  # bytes of BOM to drop


def detect_encoding(sample: bytes, at_eof: bool) -> Encoding:
    if sample.startswith(codecs.BOM_UTF8):
        return Encoding("utf-8-sig", True, None, False, 3)
    if sample.startswith(codecs.BOM_UTF16_LE):
        return Encoding("utf-16-le", True, "utf-16-le", False, 2)
    if sample.startswith(codecs.BOM_UTF16_BE):
        return Encoding("utf-16-be", True, "utf-16-be", False, 2)
    found = file_signatures.identify(sample[: file_signatures.SNIFF_BYTES])
    if found is not None and found.kind is not file_signatures.Kind.MARKUP:
        raise CsvRejectedError("not_text", f"the object is binary ({found.name} signature)")
    nuls = sample.count(0)
    if nuls:
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        half = len(sample) / 2
        # UTF-16 without a BOM: NUL in every other byte of ASCII text.
        if odd > 0.4 * half and even < 0.02 * half:
            return Encoding("utf-16-le", False, "utf-16-le", True, 0)
        if even > 0.4 * half and odd < 0.02 * half:
            return Encoding("utf-16-be", False, "utf-16-be", True, 0)
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if nuls > 0.01 * len(sample) or controls > 0.05 * len(sample):
        raise CsvRejectedError(
            "not_text",
            f"the object looks binary: {nuls} NUL and {controls} control bytes in the "
            f"first {len(sample)} bytes",
        )
    try:
        codecs.getincrementaldecoder("utf-8")("strict").decode(sample, at_eof)
        return Encoding("utf-8", False, None, False, 0)
    except UnicodeDecodeError:
        pass
    # The sample can be 64 MiB: ask of each of the 32 byte values, not of each byte.
    high = {b for b in range(0x80, 0xA0) if b in sample}
    if high and not (high & _CP1252_UNDEFINED):
        return Encoding("cp1252", False, "cp1252", True, 0)
    # Undefined in cp1252, or no byte in 0x80-0x9F (then both decode identically): latin-1.
    return Encoding("iso-8859-1", False, "latin-1", True, 0)


def decode_sample(sample: bytes, enc: Encoding, at_eof: bool) -> str:
    body = sample[enc.skip :]
    codec = enc.codec or "utf-8"
    try:
        return codecs.getincrementaldecoder(codec)("strict").decode(body, at_eof)
    except UnicodeDecodeError as exc:
        raise CsvRejectedError(
            "undecodable",
            f"the first {len(sample)} bytes do not decode as {enc.name}: {exc.reason} "
            f"at byte {exc.start + enc.skip}",
        ) from exc
