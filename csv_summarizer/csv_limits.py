"""The summarizer's limits and knobs (``CsvLimits``, imported from ``summarize``), and the
reader block and record sizes that follow from them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_NULL_TOKENS: tuple[str, ...] = (
    "",
    "NA",
    "N/A",
    "n/a",
    "null",
    "NULL",
    "Null",
    "None",
    "nan",
    "NaN",
    "-",
    "#N/A",
)


@dataclass(frozen=True)
class CsvLimits:
    """Limits and knobs; every one is reported in the summary's ``limits``."""

    max_field_bytes: int = 1_048_576
    distinct_cap: int = 100_000
    null_tokens: tuple[str, ...] = DEFAULT_NULL_TOKENS
    whitespace_is_null: bool = True
    max_examples: int = 10
    max_columns: int = 10_000
    max_bytes: int | None = None  # decompressed input bytes to read; see over_max_bytes
    # Past max_bytes: "truncate" summarizes what was read and sets truncated; "reject"
    # raises CsvRejectedError("too_large"). Either way nothing past the limit is read.
    over_max_bytes: Literal["truncate", "reject"] = "truncate"
    misfit_tolerance: float = 0.01  # a type holds if >= 99% of non-null values fit it
    quantile_sample: int = 65_536
    top_k: int = 5
    # Longer values are shown cut to this many characters, marked truncated (top values,
    # misfit examples, string min/max); only that much of each is kept.
    max_value_chars: int = 200
    block_size: int = 4 << 20
    memory_budget_bytes: int = 96 << 20  # exact-distinct values (bytes) + samples, all columns


def block_bytes(limits: CsvLimits) -> int:
    """pyarrow's block: room for a record with a field at the limit, every byte a quote."""
    return max(limits.block_size, 2 * limits.max_field_bytes + (64 << 10))


# A batch's calls are made per column: past this many columns, a block's share of each
# (~8 KiB of a 4 MiB block, ~1,000 short values) costs more in calls than in values, and
# the block grows with the column count.
WIDE_COLUMNS = 512
# The most a wide file's block grows to, as a multiple of ``block_bytes``: the value size
# is the sample's, and a file whose later values are shorter has more values a batch.
WIDE_BLOCK_GROWTH = 2
# A batch's transient arrays grow with its values, not its bytes: a block holds at most as
# many values as the base block holds of the shortest (a digit and its delimiter, ~4 bytes).
SHORTEST_VALUE_BYTES = 4


def reader_block(limits: CsvLimits, ncols: int, value_bytes: float) -> int:
    """pyarrow's block for a file of ``ncols`` columns of ~``value_bytes`` a value (its
    delimiter included): ``block_bytes``, grown for wide files within the bounds above."""
    base = block_bytes(limits)
    growth = min(ncols / WIDE_COLUMNS, value_bytes / SHORTEST_VALUE_BYTES, WIDE_BLOCK_GROWTH)
    return max(base, int(base * growth))


def record_limit(limits: CsvLimits) -> int:
    """The longest record pyarrow is given (line break excluded): well within its block."""
    return block_bytes(limits) - (32 << 10)
