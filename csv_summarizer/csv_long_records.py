"""Records longer than pyarrow's block, cut out of the byte stream before pyarrow reads it:
each is replaced by one short record that says how long it was."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from csv_long_fields import proven_end

_LINE_BREAKS = (b"\n", b"\r")

# Where a record being dropped is: at a field's start, in an unquoted field (or after a
# closed quoted value), inside a quoted value, or just past a quote inside one.
_FIELD, _UNQUOTED, _QUOTED, _QUOTE_PENDING = range(4)


@dataclass
class _Dropped:
    """The long record being dropped: what is known of it so far."""

    state: int = _FIELD
    raw: int = 0  # bytes as they reached this stage
    long_field_bytes: int = 0  # what the long fields' stand-ins inside it stood for
    breaks: int = 0  # line breaks inside its quoted values (\r\n is one)
    cr: bool = False  # the last byte seen was \r


class LongRecords:
    """Replaces each record longer than ``limit`` bytes with one short stand-in record.

    pyarrow's streaming reader stops for good at a record longer than about its block, and
    ``LongFields`` cuts only fields over the field limit: a record of thousands of small
    fields still stopped it, and every later row was lost. Here such a record is dropped as
    it streams by (never held whole: at most ``limit`` bytes of it are) and replaced with
    ``token`` followed by ``<bytes>:<line breaks>``, one field (two with one column, so that
    it is always a ragged record for pyarrow, handed to the summarizer's invalid-row handler,
    which counts it in ``record_too_large`` and adds its line breaks back).

    Runs after ``LongFields``, on exactly what pyarrow reads. Only the bytes after the last
    record end known for certain are held back. Record ends are found by byte searches,
    each proven by the quote run before it; records are walked (in C-speed regex jumps) only
    where that proof fails and more than ``limit`` bytes are held.
    """

    def __init__(
        self, delimiter: str, quote: str, limit: int, columns: int, field_token: bytes = b""
    ) -> None:
        self.limit = limit
        d = re.escape(delimiter.encode())
        q = re.escape(quote.encode())
        self._quote = quote.encode()
        self._q = self._quote[0]
        self._ends = frozenset((delimiter.encode()[0], 10, 13))
        body = rb"[^" + q + rb"]*+(?:" + q + q + rb"[^" + q + rb"]*+)*+"
        field = (
            rb"(?>" + q + body + q + rb"[^" + d + rb"\r\n]*+"
            rb"|[^" + q + d + rb"\r\n][^" + d + rb"\r\n]*+|)"
        )
        fields = field + rb"(?:" + d + field + rb")*+"
        # Whole records, each with its line break: they stop where the last one begins.
        self._records = re.compile(rb"(?:" + fields + rb"(?:\r\n|\r|\n))*+")
        self._record = re.compile(fields + rb"(?P<end>\r\n|\r|\n)")
        self._body = re.compile(body)
        self._delim = delimiter.encode()[0]
        self._field_stand_in = (
            re.compile(re.escape(field_token) + rb"(\d+):(\d+)") if field_token else None
        )
        self._suffix = delimiter.encode() if columns == 1 else b""
        self.token = ("~longrec-" + secrets.token_hex(8) + "~").encode()
        self.cuts = 0  # stand-ins passed on
        self.long_fields_within = 0  # long fields' stand-ins dropped with their records
        self._held = b""  # from a record's start, not passed on yet
        self._dropped: _Dropped | None = None

    def scan(self, data: bytes, final: bool = False) -> bytes:
        """What to pass on of ``data`` (the bytes after the last ``scan``); ``final``: the
        input ends with it, pass on all that is held."""
        out: list[bytes] = []
        if self._dropped is not None:
            end = self._drop_through(data, 0)
            if end < 0:
                if final:
                    out.append(self._stand_in())
                return b"".join(out)
            out.append(self._stand_in())
            data = data[end:]
        buf = self._held + data if self._held else data
        self._held = b""
        n, limit = len(buf), self.limit
        lo = 0  # buf[lo] starts a record; every record before it is within the limit
        done = 0  # buf[:done] is in ``out``
        while True:
            if n - lo <= limit:
                # No record in what is left can be longer than the limit.
                if not final:
                    last = self._proven_end(buf, lo, n)
                    if last >= 0:
                        lo = last + 1
                    self._held = buf[lo:]
                    n = lo
                break
            last = self._proven_end(buf, lo, lo + limit + 1)
            if last >= 0:
                lo = last + 1
                continue
            at = self._walk(buf, lo)
            if at < 0:  # buf ends inside a record within the limit, at ``-at - 1``
                rest = -at - 1
                if not final:
                    self._held = buf[rest:]
                    n = rest
                break
            out.append(buf[done:at])
            self._dropped = _Dropped()
            end = self._drop_through(buf, at)
            if end < 0:
                if final:
                    out.append(self._stand_in())
                return b"".join(out)
            out.append(self._stand_in())
            # buf[end] is the long record's line break: it ends the stand-in.
            done = lo = end
        if not out and n == len(buf):
            return buf  # most reads: passed on as they are, uncopied
        out.append(buf[done:n])
        return b"".join(out)

    def _proven_end(self, buf: bytes, lo: int, hi: int) -> int:
        """The last line break in ``buf[lo:hi]`` that certainly ends a record (-1: none
        found cheaply); ``buf[lo]`` starts a record."""
        return proven_end(buf, lo, hi, _LINE_BREAKS, self._quote, self._ends)

    def _walk(self, buf: bytes, lo: int) -> int:
        """Records from ``buf[lo]`` (a record start), as pyarrow reads them: the start of
        the first one longer than the limit, or ``-i - 1`` when none is and ``buf[i]``
        starts the record that ``buf`` ends inside.

        Whole records are matched a window of the limit (and a line break) at a time: a
        record that does not end inside the window from its start is longer than the limit.
        One match per record took seconds where every line ended in an empty quoted value.
        """
        n, limit = len(buf), self.limit
        while n - lo > limit:
            e = self._records.match(buf, lo, lo + limit + 2).end()  # type: ignore[union-attr]
            if e == lo:
                return lo
            if e - lo > limit:  # only the window's first record can be one byte too long
                first = self._record.match(buf, lo)
                assert first is not None
                if first.start("end") - lo > limit:
                    return lo
            lo = e
        return -self._records.match(buf, lo).end() - 1  # type: ignore[union-attr]

    def _drop_through(self, data: bytes, i: int) -> int:
        """Drop the long record's bytes from ``data[i]`` on; return where it ends (its line
        break), or -1 if it goes on past ``data``."""
        s = self._dropped
        assert s is not None
        q, n, start, end = self._q, len(data), i, -1
        st = s.state
        nl = cr = -1  # the next \n and \r at or after i (n: none), found again once passed
        while i < n:
            if st == _QUOTE_PENDING:
                st, i = (_QUOTED, i + 1) if data[i] == q else (_UNQUOTED, i)
            elif st == _QUOTED:
                e = self._body.match(data, i).end()  # type: ignore[union-attr]
                if e >= n - 1:  # no closing quote yet (a last quote may start a pair)
                    st, i = (_QUOTE_PENDING if e == n - 1 else _QUOTED), n
                else:
                    st, i = _UNQUOTED, e + 1  # closed: data[e + 1] is not a quote
            elif st == _FIELD and data[i] == q:
                st, i = _QUOTED, i + 1
            else:
                # Outside a quoted value: the record ends at the next line break unless a
                # quote that opens a field (after a delimiter) comes first. memchr scans:
                # a regex stopping at every delimiter took seconds over small fields.
                if nl < i:
                    nl = data.find(b"\n", i) % (n + 1)
                if cr < i:
                    cr = data.find(b"\r", i) % (n + 1)
                stop = min(nl, cr)
                k = data.find(self._quote, i, stop)
                while k >= 0 and not (k > i and data[k - 1] == self._delim):
                    k = data.find(self._quote, k + 1, stop)  # literal inside an unquoted field
                if k >= 0:
                    st, i = _QUOTED, k + 1
                elif stop < n:
                    end = stop
                    break
                else:
                    st = _FIELD if data[n - 1] == self._delim else _UNQUOTED
                    i = n
        s.state = st
        self._count(data, start, n if end < 0 else end)
        return end

    def _count(self, data: bytes, start: int, stop: int) -> None:
        s = self._dropped
        assert s is not None
        if stop <= start:
            return
        span = data[start:stop]
        s.raw += len(span)
        cr = span.count(b"\r")
        s.breaks += span.count(b"\n") + cr - (span.count(b"\r\n") if cr else 0)
        if s.cr and span[0] == 10:
            s.breaks -= 1  # a \r\n split between two reads
        s.cr = span[-1] == 13
        if self._field_stand_in is not None:
            # A long field inside it was cut out already: count what it stood for.
            for m in self._field_stand_in.finditer(span):
                s.long_field_bytes += int(m[1]) - len(m[0])
                s.breaks += int(m[2])
                self.long_fields_within += 1

    def _stand_in(self) -> bytes:
        s = self._dropped
        assert s is not None
        self._dropped = None
        self.cuts += 1
        return self.token + f"{s.raw + s.long_field_bytes}:{s.breaks}".encode() + self._suffix
