"""Delimiter, quote character, header and column names, sniffed from the sample."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from csv_errors import CsvRejectedError
from csv_formats import kind_of

DELIMITERS = (",", ";", "\t", "|")


@dataclass
class Dialect:
    delimiter: str
    quotechar: str
    line_terminator: str
    header: bool
    header_names: list[str]  # as written (padded to the column count)
    names: list[str]  # unique, non-blank
    skip_lines: int  # physical lines before the first data record
    duplicate_headers: list[dict[str, object]] = field(default_factory=list)
    blank_headers: list[int] = field(default_factory=list)
    header_field_count: int | None = None


def mean_field_chars(text: str, delimiter: str) -> float:
    """About how many characters a field of ``text`` takes, its delimiter or line break
    included (quoted delimiters counted as fields: an estimate for the reader's block)."""
    fields = text.count(delimiter) + max(1, text.count("\n") or text.count("\r"))
    return len(text) / fields


def _cell_kind(cell: str, nulls: frozenset[str]) -> str:
    s = cell.strip()
    if s in nulls or not s:
        return "null"
    return kind_of(cell)


def _line_terminator(text: str) -> str:
    crlf = text.count("\r\n")
    cr = text.count("\r") - crlf
    lf = text.count("\n") - crlf
    best = max((crlf, "\r\n"), (lf, "\n"), (cr, "\r"))
    return best[1] if best[0] else "\n"


def _records(text: str, delimiter: str, quotechar: str, limit: int) -> list[tuple[list[str], int]]:
    """First ``limit`` records with the physical line count consumed after each."""
    reader = csv.reader(
        io.StringIO(text, newline=""), delimiter=delimiter, quotechar=quotechar, strict=False
    )
    out: list[tuple[list[str], int]] = []
    try:
        for row in reader:
            out.append((row, reader.line_num))
            if len(out) >= limit:
                break
    except csv.Error:
        pass
    return out


def _complete_part(text: str, at_eof: bool) -> str:
    if at_eof:
        return text
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut >= 0 else text


def sniff_dialect(text: str, at_eof: bool, null_tokens: frozenset[str]) -> Dialect:
    body = _complete_part(text, at_eof)
    best: tuple[tuple[float, ...], str, str] | None = None
    candidates = [(d, '"') for d in DELIMITERS]
    if "'" in body and '"' not in body:
        candidates += [(d, "'") for d in DELIMITERS]
    for rank, (delim, quote) in enumerate(candidates):
        if delim not in body:
            continue
        rows = [r for r, _ in _records(body, delim, quote, 200) if r and any(c.strip() for c in r)]
        if not rows:
            continue
        counts: dict[int, int] = {}
        for r in rows:
            counts[len(r)] = counts.get(len(r), 0) + 1
        mode, freq = max(counts.items(), key=lambda kv: (kv[1], kv[0]))
        if mode < 2:
            continue
        score = (freq / len(rows), float(mode), -float(rank))
        if best is None or score > best[0]:
            best = (score, delim, quote)
    delimiter, quotechar = (best[1], best[2]) if best else (",", '"')
    return _header(body, delimiter, quotechar, _line_terminator(body), null_tokens)


def _header(
    body: str,
    delimiter: str,
    quotechar: str,
    terminator: str,
    nulls: frozenset[str],
) -> Dialect:
    recs = _records(body, delimiter, quotechar, 300)
    leading_blank = 0
    while leading_blank < len(recs) and not any(c.strip() for c in recs[leading_blank][0]):
        leading_blank += 1
    recs_lines = recs[leading_blank:]
    lines_before = recs[leading_blank - 1][1] if leading_blank else 0
    if not recs_lines:
        raise CsvRejectedError("empty", "the file holds no records (only blank lines)")
    first, first_end = recs_lines[0]
    data = [r for r, _ in recs_lines[1:] if any(c.strip() for c in r)]
    counts: dict[int, int] = {}
    for r in data:
        counts[len(r)] = counts.get(len(r), 0) + 1
    # The most common width of the records that follow; on a tie the first record's (the
    # header's) width wins, so that the row that matches the header is never the ragged one.
    width = (
        max(counts.items(), key=lambda kv: (kv[1], kv[0] == len(first), kv[0]))[0]
        if counts
        else len(first)
    )
    header = _looks_like_header(first, data, nulls)
    if header:
        written = list(first)
        header_field_count = len(first)
        if len(written) < width:
            written += [""] * (width - len(written))
        written = written[:width]
        skip = first_end
    else:
        written = [""] * width
        header_field_count = None
        skip = lines_before
    names, dups, blanks = _unique_names(written, header)
    return Dialect(
        delimiter=delimiter,
        quotechar=quotechar,
        line_terminator=terminator,
        header=header,
        header_names=written,
        names=names,
        skip_lines=skip,
        duplicate_headers=dups,
        blank_headers=blanks,
        header_field_count=header_field_count,
    )


def _looks_like_header(first: list[str], data: list[list[str]], nulls: frozenset[str]) -> bool:
    if not data:
        return True  # a lone record is read as a header (header-only file)
    yes = no = 0
    for j, cell in enumerate(first):
        kinds: dict[str, int] = {}
        for r in data[:100]:
            if j < len(r):
                k = _cell_kind(r[j], nulls)
                if k != "null":
                    kinds[k] = kinds.get(k, 0) + 1
        if not kinds:
            continue
        main = max(kinds.items(), key=lambda kv: kv[1])[0]
        head = _cell_kind(cell, nulls)
        if main != "string":
            if head == main:
                no += 1
            elif head == "string":
                yes += 1
    if yes:
        return True
    if no:
        return False
    # Every column is text: a header unless a first-row value recurs in its column.
    for j, cell in enumerate(first):
        if cell.strip() and any(j < len(r) and r[j] == cell for r in data):
            return False
    return True


def _unique_names(
    written: list[str], header: bool
) -> tuple[list[str], list[dict[str, object]], list[int]]:
    names: list[str] = []
    taken: set[str] = set()
    positions: dict[str, list[int]] = {}
    blanks: list[int] = []
    base = [w.strip() for w in written]
    reserved = set(base)
    for i, name in enumerate(base, start=1):
        if not name:
            if header:
                blanks.append(i)
            name = f"column_{i}"
        positions.setdefault(name, []).append(i)
        candidate, k = name, 1
        while candidate in taken or (k > 1 and candidate in reserved):
            k += 1
            candidate = f"{name}_{k}"
        taken.add(candidate)
        names.append(candidate)
    dups: list[dict[str, object]] = [
        {"name": n, "positions": p} for n, p in positions.items() if len(p) > 1 and header
    ]
    return names, dups, blanks
