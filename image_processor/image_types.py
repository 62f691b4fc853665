"""Value types shared by the imaging core: limits and the one exception for bad input.

Kept apart from ``variants`` so the decode and encode modules can import them without a
cycle; ``variants`` re-exports everything here as the public API.
"""

from __future__ import annotations

from dataclasses import dataclass

from input_rejection import InputRejectedError

# Reason codes carried by ImageRejectedError. Each one is a *permanent* input error: retrying the
# same bytes can never succeed.
REASONS: dict[str, str] = {
    "empty": "the object has zero bytes",
    "too_large": "the object is larger than ImageLimits.max_bytes",
    "unsupported_format": "the content is not an image in the allowed formats (detected "
    "from the bytes, never from the key's extension), uses an unsupported pixel mode, or "
    "carries compressed PNG metadata (an ICC profile, text) over Pillow's 1 MiB",
    "corrupt": "the content claims an allowed format but cannot be parsed or decoded",
    "truncated": "the file ends before all pixel data is present",
    "too_many_pixels": "width x height (read from the header, before decoding), or a tile or "
    "frame met while decoding, exceeds ImageLimits.max_pixels (the stack's MaxImagePixels)",
}

# Formats as Pillow names them. HEIF needs the optional pillow-heif plugin (registered lazily,
# only when the bytes look like HEIF); AVIF is built into Pillow >= 11.3.
DEFAULT_FORMATS: tuple[str, ...] = (
    "JPEG",
    "PNG",
    "WEBP",
    "GIF",
    "TIFF",
    "BMP",
    "AVIF",
    "HEIF",
)


class ImageRejectedError(InputRejectedError):
    """A permanent input error. ``reason`` is one of the keys of ``REASONS``."""

    def __init__(self, reason: str, message: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        super().__init__(reason, message)


@dataclass(frozen=True)
class ImageLimits:
    """Input limits and output knobs. The defaults follow imgproxy's secure defaults."""

    max_pixels: int = 250_000_000
    thumbnail_size: int = 300
    background: tuple[int, int, int] = (255, 255, 255)
    formats: tuple[str, ...] = DEFAULT_FORMATS
    # Optional check of the bytes given (the handler checks the event's size, then the bytes
    # it read, against MaxImageBytes). None = off.
    max_bytes: int | None = None
    # Encoder threads; 0 = one per available CPU. Output bytes do not depend on it.
    threads: int = 0

    def __post_init__(self) -> None:
        if self.max_pixels < 1:
            raise ValueError("max_pixels must be >= 1")
        if self.thumbnail_size < 1:
            raise ValueError("thumbnail_size must be >= 1")
        if len(self.background) != 3 or not all(0 <= c <= 255 for c in self.background):
            raise ValueError("background must be three 0..255 integers")
        if self.threads < 0:
            raise ValueError("threads must be >= 0")
