"""Line numbers of a batch's records: pyarrow numbers records, a summary names lines.

A record's physical line is its record number plus every line break pyarrow did not count
as a record: blank lines dropped before the sample, line breaks inside quoted values, and
those inside the records pyarrow handed back (``InvalidRecord``).
"""

from __future__ import annotations

import bisect
import itertools
from typing import NamedTuple

import pyarrow as pa
import pyarrow.compute as pc


class InvalidRecord(NamedTuple):
    """A record pyarrow handed back rather than parsed (see ``InvalidRows``)."""

    number: int  # pyarrow's record number
    fields: int  # fields it holds (0 for a stand-in)
    breaks: int  # line breaks inside it
    blank: int  # blank lines it stands for (0 unless it is a run of them)


class BatchLines:
    """Maps positions in one batch to physical line numbers (1-based, header included).

    pyarrow numbers every record it parses (ragged ones included, via the invalid-row
    handler); a record's line is its number plus the line breaks inside quoted values of
    all earlier records.
    """

    def __init__(
        self,
        base: int,
        breaks_before: int,
        invalid: list[InvalidRecord],
        row_breaks: pa.Array | None,
    ) -> None:
        self.base = base  # records numbered before this batch
        self.breaks_before = breaks_before  # line breaks not seen by pyarrow, before it
        self.invalid = invalid  # ascending record numbers
        self.row_breaks = row_breaks  # line breaks inside each valid row (None: none)
        self._cumulative: pa.Array | None = None
        # For invalid_line in O(log n): a file can hold a million ragged rows in one flush.
        self._numbers = [record.number for record in invalid]
        self._invalid_breaks = list(
            itertools.accumulate((record.breaks for record in invalid), initial=0)
        )

    def _before(self, row: int) -> int:
        """Line breaks inside valid rows 0..row-1 of this batch."""
        if self.row_breaks is None or row == 0:
            return 0
        if self._cumulative is None:
            self._cumulative = pc.cumulative_sum(self.row_breaks)
        return int(self._cumulative[row - 1].as_py())

    def lines(self, rows: list[int]) -> list[int]:
        """The lines of these valid rows (positions in the batch)."""
        out = []
        for row in rows:
            number = self.base + 1 + row
            invalid_breaks = 0
            for invalid_number, _, breaks, _ in self.invalid:
                if invalid_number <= number:
                    number += 1
                    invalid_breaks += breaks
                else:
                    break
            out.append(number + self.breaks_before + self._before(row) + invalid_breaks)
        return out

    def invalid_line(self, number: int) -> int:
        """The line of the invalid record pyarrow numbered ``number``."""
        count = bisect.bisect_left(self._numbers, number)  # invalid records before it
        valid_before = number - self.base - 1 - count
        return (
            number + self.breaks_before + self._before(valid_before) + self._invalid_breaks[count]
        )


def line_breaks_in(col: pa.Array) -> bool:
    """Whether any value of ``col`` holds a line break (one look at its data buffer)."""
    bufs = col.buffers()
    if len(bufs) < 3 or bufs[2] is None or len(col) == 0:
        return False
    offsets = pa.Array.from_buffers(pa.int32(), len(col) + 1, [None, bufs[1]], offset=col.offset)
    start, end = offsets[0].as_py(), offsets[len(col)].as_py()
    data = bufs[2].slice(start, end - start).to_pybytes()
    return b"\n" in data or b"\r" in data


def row_breaks(col: pa.Array) -> pa.Array:
    """Line breaks inside each value of ``col`` (CRLF counts once)."""
    lf = pc.count_substring(col, "\n")
    cr = pc.count_substring(col, "\r")
    crlf = pc.count_substring(col, "\r\n")
    return pc.subtract(pc.add(lf, cr), crlf)
