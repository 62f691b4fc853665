"""Ragged rows and blank lines, and the records pyarrow hands back.

pyarrow calls ``on_invalid`` for every record whose field count differs from the header's:
ragged rows, and the feed's stand-ins (a run of blank lines, a record too long for its
block). They wait in a queue, by record number, until the batch they fall in is numbered
(``take``); then their lines are known and they are counted (``record``).
"""

from __future__ import annotations

from collections import deque
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from csv_feed import Utf8Feed
from csv_lines import BatchLines, InvalidRecord
from csv_oversized import OversizedFields


class InvalidRows:
    """The queue of handed-back records, and the count of ragged rows and blank lines."""

    def __init__(
        self,
        feed: Utf8Feed,
        delimiter: str,
        quotechar: str,
        max_examples: int,
        oversized: OversizedFields,
        records_done: int,
    ) -> None:
        self.feed = feed
        self.delimiter = delimiter
        self.quotechar = quotechar
        self.max_examples = max_examples
        self.oversized = oversized
        blank = feed.scan.blank_lines
        self._marker = blank.marker.decode() if blank is not None else ""
        self.records_done = records_done  # records numbered so far, valid or not
        self.pending: deque[InvalidRecord] = deque()
        self.callbacks = 0  # records pyarrow handed to ``on_invalid``
        self.ragged = 0
        self.ragged_first: list[dict[str, int]] = []
        self.blank_lines = 0
        self.blank_first: list[int] = []

    # pyarrow calls this for every record whose field count differs from the header's.
    def on_invalid(self, row: Any) -> str:
        self.feed.read_ahead.progress()  # parsing goes on: the feed's readers keep waiting
        self.callbacks += 1
        text = row.text or ""
        number = row.number if row.number is not None else self.records_done + 1
        if self.feed.scan.blank_lines is not None and text.startswith(self._marker):
            # A run of empty lines the feed replaced: one record, ``count`` lines.
            count = int(text[len(self._marker) :].strip())
            self.pending.append(InvalidRecord(number, 0, count - 1, count))
            return "skip"
        if self.oversized.is_long_record(text):
            breaks = self.oversized.note_long_record(number, text, self.delimiter)
            self.pending.append(InvalidRecord(number, 0, breaks, 0))
            return "skip"
        breaks = text.count("\n") + text.count("\r") - text.count("\r\n")
        breaks += self.oversized.note_ragged(number, text, self.delimiter, self.quotechar)
        blank = int(not text.strip())
        self.pending.append(InvalidRecord(number, row.actual_columns, breaks, blank))
        return "skip"

    def take(self, nrows: int, final: bool) -> list[InvalidRecord]:
        """Invalid records interleaved with the next ``nrows`` valid rows (all left if
        final); ``records_done`` moves past both."""
        end = self.records_done + nrows
        taken: list[InvalidRecord] = []
        while self.pending and (final or self.pending[0].number <= end):
            taken.append(self.pending.popleft())
            end += 1
        self.records_done = end
        return taken

    def record(self, line: int, fields: int, blank: int) -> None:
        """A ragged row at ``line`` with ``fields`` fields, or ``blank`` blank lines from it."""
        if blank:
            self.blank_lines += blank
            room = self.max_examples - len(self.blank_first)
            if room > 0:
                self.blank_first.extend(range(line, line + min(blank, room)))
            return
        self.ragged += 1
        if len(self.ragged_first) < self.max_examples:
            self.ragged_first.append({"line": line, "fields": fields})

    def blank_rows(self, cols: list[pa.Array], lines: BatchLines) -> pa.Array | None:
        """Count the batch's blank rows (every field empty); return them (None: none)."""
        lens0 = pc.binary_length(cols[0])
        if pc.min(lens0).as_py() != 0:
            return None
        empty = pc.equal(lens0, 0)
        for col in cols[1:]:
            if not pc.any(empty).as_py():
                break
            empty = pc.and_(empty, pc.equal(pc.binary_length(col), 0))
        nblank = pc.sum(empty).as_py() or 0
        if not nblank:
            return None
        self.blank_lines += nblank
        # Merged with the batch's blank-line markers, recorded first: keep the lowest.
        first = lines.lines(pc.indices_nonzero(empty)[: self.max_examples].to_pylist())
        if len(self.blank_first) < self.max_examples or first[0] < self.blank_first[-1]:
            self.blank_first = sorted(self.blank_first + first)[: self.max_examples]
        return empty
