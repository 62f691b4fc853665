"""What processing changed about an image, as data for the manifest's ``changes``.

The decode and plan steps explain themselves in free-text ``notes``; a reader of the
manifest (a program) needs the same facts as fields. Each entry has a ``change`` code:

* ``bit_depth_reduced``: samples deeper than 8 bits (16-bit PNG/TIFF, 32-bit) scaled to 8;
* ``colour_converted``: pixels converted to sRGB (an ICC profile, CMYK or CIELAB);
* ``frames_dropped``: an animation or multi-picture file, first/primary frame kept;
* ``scaled_to_fit``: one variant downscaled to a format's side limit (WebP: 16,383 px).
"""

from __future__ import annotations

from typing import Any

_WIDE_MODES = {"I;16": 16, "I;16L": 16, "I;16B": 16, "I;16N": 16, "I": 32, "F": 32}


def source_bits(data: bytes, source_format: str, source_mode: str) -> int:
    """Bits per sample of the source: the PNG header's depth (Pillow reads 16-bit colour
    PNGs straight into 8-bit modes), else what the decoded mode implies."""
    if source_format == "PNG" and data[12:16] == b"IHDR" and len(data) > 24:
        return data[24]
    return _WIDE_MODES.get(source_mode, 8)


def from_decode(bits: int, notes: list[str]) -> list[dict[str, Any]]:
    changes: list[dict[str, Any]] = []
    if bits > 8:
        changes.append({"change": "bit_depth_reduced", "from_bits": bits, "to_bits": 8})
    for note in notes:
        if note.startswith(("icc: converted", "icc: CMYK")):
            changes.append({"change": "colour_converted", "to": "sRGB", "detail": note})
        elif note.startswith(("animated:", "jpeg: multi-picture")):
            changes.append({"change": "frames_dropped", "kept": "first", "detail": note})
    return changes


def scaled_to_fit(variant: str, fmt: str, limit: int, size: tuple[int, int]) -> dict[str, Any]:
    return {
        "change": "scaled_to_fit",
        "variant": variant,
        "format": fmt,
        "side_limit": limit,
        "width": size[0],
        "height": size[1],
    }
