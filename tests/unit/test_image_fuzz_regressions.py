"""Regressions found by the hostile-input fuzzers (tests/fuzz, fuzz/)."""

from __future__ import annotations

import base64
import io

from PIL import Image
from variants import ImageLimits, make_variants

# fuzz/fuzz_image.py, 12-minute run: a mutated 8x8 HEIF whose ispe box declares 264x8 while
# its HEVC stream decodes to 64x8. pillow-heif sizes the image only while decoding, so the
# result reported the header's 264x8 next to five 64x8 variants. The decoded size is now
# the one reported, and the one checked against max_pixels.
HEIF_SIZE_CHANGES_ON_DECODE = base64.b64decode(
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAXxtZXRhAPr/AAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAAAAAA"
    "AAAAACJpbG9jAAAAAERAAAEAAQAAAAABoAABAAAAAAAAAE8AAAAjaWluZgAAAAAAAQAAABVpbmZlAgAAAAABAABodmMxAAAA"
    "AA5waXRtAAAAAAABAAAA/GlwcnAAAADcaXBjbwAAAHVodmNDAQNwAAAAkAAAAAAAHvAA/P34+AAADwNgAAEAGEABDAH//wNw"
    "AAADAJAAAAMAAAMAHroCQGEAAQApQgEBA3AAAAMAkAAAAwAAAwAeoCCBBZbqrprm4CGgwIAAAAyAAAADAIRiAAEABkQBwXPB"
    "iQAAABNjb2xybmNseAABAA0ABoAAAAAUaXNwZQAAAAAAAABAAAAAQAAAAChjbGFwAAABCAAAAAEAAAAIAAAAAf///8gAAAAC"
    "////yAAAAAIAAAAQcGl4aQAAAAADCAgIAAAAGGlwbWEAAAAAAAAAAQABBYECAwWEAAAAV21kYXQAAABLKAGvEyGjNJjlMB82"
    "GUwVXH9+Xo+F6YQpIzzXz/dJgwIThZBHbNuUVFOEJp3yH7TGnTNt+IoVKLMvUBHKS9JOlooJs0Cr1dXQQiWA"
)


def test_heif_whose_decoded_size_differs_from_its_header() -> None:
    result = make_variants(HEIF_SIZE_CHANGES_ON_DECODE, ImageLimits(threads=1))
    assert (result.source_width, result.source_height) == (64, 8)
    assert "size: header declared 264x8, decoded 64x8" in result.notes
    for variant in result.variants:
        assert Image.open(io.BytesIO(variant.body)).size == (64, 8)
