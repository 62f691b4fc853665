"""Fields over the limit and records too long for pyarrow's block: found, counted, and
their rows left out of the statistics.

The feed cuts both out as they stream by and passes on a stand-in in their place (see
``LongFields`` and ``LongRecords``); pyarrow reads a field over the limit that fits its
block whole, and ``drop_rows`` finds it by its length.
"""

from __future__ import annotations

import bisect
import csv
from typing import Any, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
from csv_lines import BatchLines
from csv_long_fields import LongFields
from csv_long_records import LongRecords


class LongField(NamedTuple):
    """A stand-in for a long field found in this batch."""

    row: int
    column: int
    nbytes: int  # bytes of the field it replaced


def stand_in(value: str, token: str) -> tuple[int, int]:
    """(bytes, line breaks) of the long field or record a stand-in replaced."""
    nbytes, nbreaks = value[len(token) :].split(":")
    return int(nbytes), int(nbreaks)


def data_bytes(col: pa.Array) -> int:
    """At least the bytes of ``col``'s values together, in O(1): its data buffer's size."""
    bufs = col.buffers()
    return 0 if len(bufs) < 3 or bufs[2] is None else bufs[2].size


class OversizedFields:
    """Fields over ``max_field_bytes`` and records too large, with the first of each."""

    def __init__(
        self,
        names: list[str],
        max_field_bytes: int,
        max_examples: int,
        long_fields: LongFields | None,
        long_records: LongRecords | None,
    ) -> None:
        self.names = names
        self.max_field_bytes = max_field_bytes
        self.max_examples = max_examples
        self.long_fields = long_fields
        self.long_records = long_records
        self.long_token = long_fields.token.decode() if long_fields is not None else ""
        self.record_token = long_records.token.decode() if long_records is not None else ""
        self.long_found = 0  # stand-ins for long fields found so far
        # record number of a ragged record -> its long fields (field index, bytes)
        self.pending_long: dict[int, list[tuple[int, int]]] = {}
        self.pending_records: dict[int, int] = {}  # record number -> bytes of a long record
        self.batch_long: list[LongField] = []
        self.count = 0
        # ((line, field position), as reported), lowest lines first
        self.first: list[tuple[tuple[int, int], dict[str, Any]]] = []
        self.records_too_large = 0
        self.records_too_large_first: list[dict[str, int]] = []

    @property
    def cut_any(self) -> bool:
        """Whether a field or record was left out (the summary is then truncated)."""
        return bool(self.count or self.records_too_large)

    # ---- records pyarrow hands back (see InvalidRows) ----------------------------------
    def is_long_record(self, text: str) -> bool:
        return bool(self.record_token) and text.startswith(self.record_token)

    def note_long_record(self, number: int, text: str, delimiter: str) -> int:
        """A record too long for pyarrow the feed replaced: one row, never summarized.
        Return the line breaks it held."""
        nbytes, nbreaks = stand_in(text.rstrip(delimiter), self.record_token)
        self.pending_records[number] = nbytes
        return nbreaks

    def note_ragged(self, number: int, text: str, delimiter: str, quotechar: str) -> int:
        """Note the long fields of a ragged record; return the line breaks they held."""
        if not (self.long_token and self.long_token in text):
            return 0
        fields = next(csv.reader([text], delimiter=delimiter, quotechar=quotechar))
        breaks = 0
        for j, field in enumerate(fields):
            if field.startswith(self.long_token):
                nbytes, nbreaks = stand_in(field, self.long_token)
                self.pending_long.setdefault(number, []).append((j, nbytes))
                self.long_found += 1
                breaks += nbreaks
        return breaks

    def place_too_large(self, number: int, line: int) -> bool:
        """Record the handed-back record ``number`` at ``line`` if it was too large."""
        nbytes = self.pending_records.pop(number, None)
        if nbytes is None:
            return False
        self._record_too_large(line, nbytes)
        return True

    def place_ragged(self, number: int, line: int) -> None:
        """Record the long fields of the ragged record ``number``, now at ``line``."""
        for j, nbytes in self.pending_long.pop(number, ()):
            self.record(line, j, nbytes)

    # ---- a batch ---------------------------------------------------------------------
    def some_unfound(self) -> bool:
        """Whether the feed passed on stand-ins not found yet: only then are they looked
        for (those inside records too large were dropped with their record)."""
        if self.long_fields is None:
            return False
        dropped = self.long_records.long_fields_within if self.long_records else 0
        return self.long_fields.cuts - dropped > self.long_found

    def find_long(self, cols: list[pa.Array], row_breaks: pa.Array | None) -> pa.Array | None:
        """Find this batch's stand-ins for long fields (into ``batch_long``); return the row
        line breaks with theirs added back."""
        token = self.long_token
        shortest = len(token.encode())
        extra: dict[int, int] = {}
        for j, col in enumerate(cols):
            if data_bytes(col) < shortest:
                continue
            hit = pc.starts_with(col, token)
            if not pc.any(hit).as_py():
                continue
            rows = pc.indices_nonzero(hit)
            for i, value in zip(rows.to_pylist(), col.take(rows).to_pylist(), strict=True):
                nbytes, nbreaks = stand_in(value, token)
                self.batch_long.append(LongField(i, j, nbytes))
                self.long_found += 1
                if nbreaks:
                    extra[i] = extra.get(i, 0) + nbreaks
        self.batch_long.sort()
        if not extra:
            return row_breaks
        nrows = len(cols[0])
        added = pa.array([extra.get(i, 0) for i in range(nrows)], pa.int64())
        if row_breaks is None:
            return added
        return pc.add(pc.cast(row_breaks, pa.int64()), added)

    def drop_rows(
        self, cols: list[pa.Array], lines: BatchLines, drop: pa.Array | None
    ) -> pa.Array | None:
        """Add to ``drop`` (rows to leave out, None: none) the rows with an oversized field."""
        nrows = len(cols[0])
        if self.batch_long:
            # A row with a long field is left out of the statistics, as one over the limit
            # that pyarrow read whole (below): counted in rows, never in a column.
            rows = [long.row for long in self.batch_long]
            for long, line in zip(self.batch_long, lines.lines(rows), strict=True):
                self.record(line, long.column, long.nbytes)
            marked = pc.is_in(
                pa.array(range(nrows), pa.int64()), value_set=pa.array(rows, pa.int64())
            )
            drop = marked if drop is None else pc.or_(drop, marked)
        limit = self.max_field_bytes
        for j, col in enumerate(cols):
            if data_bytes(col) <= limit:
                continue  # no field can be longer than all of them together
            lens = pc.binary_length(col)
            if pc.max(lens).as_py() > limit:
                big = pc.greater(lens, limit)
                idx = pc.indices_nonzero(big)[: self.max_examples].to_pylist()
                self.count += pc.sum(big).as_py() - len(idx)
                for i, line in zip(idx, lines.lines(idx), strict=True):
                    self.record(line, j, lens[i].as_py())
                drop = big if drop is None else pc.or_(drop, big)
        return drop

    # ---- recording -------------------------------------------------------------------
    def _record_too_large(self, line: int, nbytes: int) -> None:
        """A record too long for pyarrow's block, cut out: a row of no column."""
        self.records_too_large += 1
        if len(self.records_too_large_first) < self.max_examples:
            self.records_too_large_first.append({"line": line, "bytes": nbytes})

    def record(self, line: int, field: int, nbytes: int) -> None:
        """A field over the limit, the ``field``-th of its record (from 0), as it was read."""
        self.count += 1
        first = self.first
        if len(first) == self.max_examples and (line, field) >= first[-1][0]:
            return
        # Ragged records are placed before the rows of their batch: keep the lowest lines.
        name = self.names[field] if field < len(self.names) else f"column_{field + 1}"
        shown = {"line": line, "column": name, "bytes": nbytes}
        bisect.insort(first, ((line, field), shown))
        del first[self.max_examples :]
