"""Configuration from the environment variables that template.yaml sets, read once.

This is the only module that reads ``os.environ`` for configuration. Each config class
lists every variable its function reads in ``VARIABLES``; a test proves the template sets
exactly these for that function, so names cannot drift apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Self


class ConfigError(RuntimeError):
    """The function's environment is wrong: a deploy problem, not an input problem."""


# Read by Powertools itself; required so logs and metrics are attributed correctly.
POWERTOOLS_VARIABLES = ("POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE")
# Read by pyarrow's allocator (mimalloc) when pyarrow loads; required so that a deploy
# cannot drop it unnoticed: the CSV function's memory figures are measured with it.
ALLOCATOR_VARIABLES = ("MIMALLOC_ARENA_EAGER_COMMIT",)

# The one rule for JPEG_BACKGROUND, the template's AllowedPattern too.
_HEX_COLOUR = re.compile(r"^#?[0-9a-fA-F]{6}$")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"environment variable {name} is not set")
    return value


def _positive_int(env: Mapping[str, str], name: str) -> int:
    raw = _required(env, name)
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not an integer") from exc
    if value <= 0:
        raise ConfigError(f"{name}={value} must be positive")
    return value


def _prefix(env: Mapping[str, str], name: str) -> str:
    value = _required(env, name)
    if not value.endswith("/"):
        raise ConfigError(f"{name}={value!r} must end with '/'")
    return value


def _check_set(env: Mapping[str, str], names: tuple[str, ...]) -> None:
    """Variables that libraries read, not this module: only their presence is checked."""
    for name in names:
        _required(env, name)


@dataclass(frozen=True)
class ImageProcessorConfig:
    upload_bucket: str
    processed_bucket: str
    upload_prefix: str
    max_image_pixels: int
    max_image_bytes: int
    thumbnail_size: int
    jpeg_background: str

    VARIABLES: ClassVar[tuple[str, ...]] = (
        *POWERTOOLS_VARIABLES,
        "UPLOAD_BUCKET",
        "PROCESSED_BUCKET",
        "IMAGE_UPLOAD_PREFIX",
        "MAX_IMAGE_PIXELS",
        "MAX_IMAGE_BYTES",
        "THUMBNAIL_SIZE",
        "JPEG_BACKGROUND",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        _check_set(env, POWERTOOLS_VARIABLES)
        background = _required(env, "JPEG_BACKGROUND")
        if not _HEX_COLOUR.match(background):
            raise ConfigError(f"JPEG_BACKGROUND={background!r} is not a hex colour like ffffff")
        return cls(
            upload_bucket=_required(env, "UPLOAD_BUCKET"),
            processed_bucket=_required(env, "PROCESSED_BUCKET"),
            upload_prefix=_prefix(env, "IMAGE_UPLOAD_PREFIX"),
            max_image_pixels=_positive_int(env, "MAX_IMAGE_PIXELS"),
            max_image_bytes=_positive_int(env, "MAX_IMAGE_BYTES"),
            thumbnail_size=_positive_int(env, "THUMBNAIL_SIZE"),
            jpeg_background=background,
        )

    @property
    def jpeg_background_rgb(self) -> tuple[int, int, int]:
        """``JPEG_BACKGROUND`` (``ffffff`` or ``#ffffff``, checked above) as (r, g, b)."""
        digits = self.jpeg_background.removeprefix("#")
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


@dataclass(frozen=True)
class CsvSummarizerConfig:
    upload_bucket: str
    upload_prefix: str
    summary_prefix: str
    max_csv_bytes: int
    max_field_bytes: int

    VARIABLES: ClassVar[tuple[str, ...]] = (
        *POWERTOOLS_VARIABLES,
        *ALLOCATOR_VARIABLES,
        "UPLOAD_BUCKET",
        "CSV_UPLOAD_PREFIX",
        "SUMMARY_PREFIX",
        "MAX_CSV_BYTES",
        "CSV_MAX_FIELD_BYTES",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        _check_set(env, POWERTOOLS_VARIABLES + ALLOCATOR_VARIABLES)
        config = cls(
            upload_bucket=_required(env, "UPLOAD_BUCKET"),
            upload_prefix=_prefix(env, "CSV_UPLOAD_PREFIX"),
            summary_prefix=_prefix(env, "SUMMARY_PREFIX"),
            max_csv_bytes=_positive_int(env, "MAX_CSV_BYTES"),
            max_field_bytes=_positive_int(env, "CSV_MAX_FIELD_BYTES"),
        )
        # Summaries are written to the bucket the CSVs come from: overlapping prefixes
        # would let a summary trigger the function that wrote it.
        if config.summary_prefix.startswith(
            config.upload_prefix
        ) or config.upload_prefix.startswith(config.summary_prefix):
            raise ConfigError("CSV_UPLOAD_PREFIX and SUMMARY_PREFIX must not overlap")
        return config
