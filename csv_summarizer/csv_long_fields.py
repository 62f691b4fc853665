"""Fields longer than the field-size limit, cut out of the byte stream before pyarrow reads
it: each is replaced by a short stand-in that says how long it was."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass


@dataclass
class _Skipped:
    """The long field being dropped: what is known of it so far."""

    quoted: bool  # it opened with a quote
    inside: bool  # inside its quoted value now
    quote_pending: bool  # the last byte seen was a quote inside the value: doubled, or the close
    raw: int = 0  # bytes as written, quotes included
    escaped: int = 0  # doubled quotes inside the value, counted once
    closed: bool = False
    breaks: int = 0  # line breaks inside it (\r\n is one)
    cr: bool = False  # the last byte seen was \r

    def value_bytes(self) -> int:
        """Bytes of the value pyarrow would have read: no enclosing quotes, doubled once."""
        return self.raw - self.quoted - self.closed - self.escaped


def proven_end(
    buf: bytes,
    lo: int,
    hi: int,
    separators: tuple[bytes, ...],
    quote: bytes,
    field_ends: frozenset[int],
) -> int:
    """The last separator in ``buf[lo:hi]`` that is certainly outside a quoted value, or -1
    if none is found cheaply. ``buf[lo]`` starts a field; ``field_ends`` are the bytes that
    end a field (the delimiter and the line breaks).

    A separator is outside a quoted value if no quote comes between ``lo`` and it, or if the
    last quote run before it is of odd length and follows a byte that ends no field: such a
    run closes a quoted value (pairs first, then the close) or is literal text inside an
    unquoted field (a quote opens a value only at the start of a field); after it, the field
    is unquoted. Shared by ``LongFields`` (fields end at any separator) and
    ``csv_long_records.LongRecords`` (records end at line breaks only).
    """
    q, end = quote[0], hi
    for _ in range(8):
        d = max(buf.rfind(separator, lo, end) for separator in separators)
        if d < 0:
            return -1
        k = buf.rfind(quote, lo, d)
        if k < 0:
            return d
        seg = buf[max(lo, k - 63) : k + 1]
        run = len(seg) - len(seg.rstrip(quote))
        first = k - run + 1
        if run == len(seg) and first > lo:
            return -1  # a run of 64 quotes or more: leave it to the walk
        if run % 2 and first > lo and buf[first - 1] not in field_ends and buf[first - 1] != q:
            return d
        end = first  # try a separator before this run
    return -1


class LongFields:
    """Replaces each field whose value is longer than ``limit`` bytes with a stand-in.

    pyarrow's streaming reader parses whole records, and stops for good at one longer
    than about its block: every later row was lost, and the record was held whole. Here
    such a field is dropped as it streams by (never held: memory stays bounded whatever
    its length) and replaced with ``token`` followed by ``<bytes>:<line breaks>`` (an
    unquoted field, so the record keeps its width). The summarizer counts it in
    ``field_too_large`` and adds its line breaks back into the line numbering.

    Only the bytes after the last field boundary known for certain are held back, and at
    most ``2 * limit + 2`` of them (a quoted value of ``limit`` bytes, every one a doubled
    quote). Boundaries are found a limit apart with C-speed searches, each proven by the
    quote run before it; only where that fails are fields walked one by one.
    """

    def __init__(self, delimiter: str, quote: str, limit: int) -> None:
        self.limit = limit
        d = delimiter.encode()
        q = quote.encode()
        self._delim = d
        self._quote = q
        self._q = q[0]
        # The bytes that end a field outside a quoted value.
        self._ends = frozenset((d[0], 10, 13))
        self._separators = (d, b"\n", b"\r")
        self._end = re.compile(b"[" + re.escape(d) + rb"\r\n]")
        # A quoted value from after its opening quote: up to its closing quote (or the end).
        qe = re.escape(q)
        self._body = re.compile(rb"[^%b]*+(?:%b%b[^%b]*+)*+" % (qe, qe, qe, qe))
        self.token = ("~long-" + secrets.token_hex(8) + "~").encode()
        self.cuts = 0  # stand-ins passed on
        # Not passed on yet, from a field boundary: pieces, joined when they are searched.
        self._held: list[bytes] = []
        self._held_bytes = 0
        self._walked = 0  # bytes held when the field they start with was last walked
        self._skipped: _Skipped | None = None

    def scan(self, data: bytes, final: bool = False) -> bytes:
        """What to pass on of ``data`` (the bytes after the last ``scan``); ``final``: the
        input ends with it, pass on all that is held."""
        out: list[bytes] = []
        if self._skipped is not None:
            end = self._skip_through(data, 0)
            if end < 0:
                if final:
                    out.append(self._stand_in())
                return b"".join(out)
            out.append(self._stand_in())
            data = data[end:]
        if self._walked and not final and self._held_bytes + len(data) < 2 * self._walked:
            # Walked already with half as much held: wait for more, rather than walk (and
            # join) a long quoted value again at every read, quadratic in its length.
            self._held.append(data)
            self._held_bytes += len(data)
            return b""
        buf = b"".join([*self._held, data])
        self._held, self._held_bytes = [], 0
        n, limit = len(buf), self.limit
        lo = 0  # buf[lo] starts a field; everything before it is passed on
        done = 0  # buf[:done] is in ``out``
        while True:
            if n - lo <= limit:
                # No field in what is left can be longer than the limit.
                self._walked = 0
                if not final:
                    last = self._proven_end(buf, lo, n)
                    if last >= 0:
                        lo = last + 1
                    self._hold(buf[lo:])
                    n = lo
                break
            last = self._proven_end(buf, lo, lo + limit + 1)
            if last >= 0:
                lo = last + 1  # every field before it is at most ``limit`` bytes
                continue
            what, at = self._walk(buf, lo)
            self._walked = n - at if what == "more" else 0
            if what == "boundary":
                lo = at
            elif what == "more":
                if not final:
                    self._hold(buf[at:])
                    n = at
                break
            else:  # "long": the field at ``at`` is over the limit
                out.append(buf[done:at])
                quoted = buf[at] == self._q
                self._skipped = _Skipped(quoted=quoted, inside=quoted, quote_pending=False)
                if quoted:
                    self._skipped.raw = 1
                end = self._skip_through(buf, at + quoted)
                if end < 0:
                    if final:
                        out.append(self._stand_in())
                    return b"".join(out)
                out.append(self._stand_in())
                # buf[end] ends the long field: read as an empty field that ends there.
                done = lo = end
        out.append(buf[done:n])
        return b"".join(out)

    def _hold(self, rest: bytes) -> None:
        if rest:
            self._held, self._held_bytes = [rest], len(rest)

    def _proven_end(self, buf: bytes, lo: int, hi: int) -> int:
        """The last byte in ``buf[lo:hi]`` that certainly ends a field (-1: none found
        cheaply); ``buf[lo]`` starts a field."""
        return proven_end(buf, lo, hi, self._separators, self._quote, self._ends)

    def _walk(self, buf: bytes, lo: int) -> tuple[str, int]:
        """Fields one by one from ``buf[lo]`` (a field start), exactly as pyarrow reads them.

        ``("boundary", i)``: ``buf[i]`` starts a field, past ``lo + limit``, and every field
        before it is within the limit; ``("long", i)``: the field at ``i`` is over it;
        ``("more", i)``: ``buf`` ends inside the field at ``i``, within the limit so far.
        """
        q, n, limit = self._q, len(buf), self.limit
        i = lo
        while i < n:
            start = i
            value = 0
            if buf[i] == q:
                e = self._body.match(buf, i + 1).end()  # type: ignore[union-attr]
                value = e - i - 1 - buf.count(self._quote, i + 1, e) // 2
                if e >= n - 1:  # no closing quote yet (a last quote may start a pair)
                    return ("long" if value > limit else "more"), start
                i = e + 1
            m = self._end.search(buf, i)
            if m is None:
                value += n - i
                return ("long" if value > limit else "more"), start
            value += m.start() - i
            if value > limit:
                return "long", start
            i = m.start() + 1
            if i > lo + limit:
                return "boundary", i
        return "more", i

    def _skip_through(self, data: bytes, i: int) -> int:
        """Drop the long field's bytes from ``data[i]`` on; return where the field ends (the
        delimiter or line break after it), or -1 if it goes on past ``data``."""
        s = self._skipped
        assert s is not None
        q, n, start = self._q, len(data), i
        end = -1
        while i < n:
            if s.inside:
                if s.quote_pending:
                    s.quote_pending = False
                    if data[i] == q:
                        s.escaped += 1
                        i += 1
                    else:
                        s.inside, s.closed = False, True
                    continue
                e = self._body.match(data, i).end()  # type: ignore[union-attr]
                s.escaped += data.count(self._quote, i, e) // 2
                if e >= n - 1:
                    s.quote_pending = e == n - 1
                    i = n
                    break
                s.inside, s.closed = False, True
                i = e + 1
                continue
            # Three memchr scans beat one regex search by far over a long field.
            found = [
                e
                for e in (data.find(self._delim, i), data.find(b"\n", i), data.find(b"\r", i))
                if e >= 0
            ]
            if found:
                end = min(found)
            break
        stop = n if end < 0 else end
        self._count(data, start, stop)
        return end

    def _count(self, data: bytes, start: int, stop: int) -> None:
        s = self._skipped
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

    def _stand_in(self) -> bytes:
        s = self._skipped
        assert s is not None
        self._skipped = None
        if s.quote_pending:  # a quote as the last byte of the input closes the value
            s.inside, s.closed = False, True
        self.cuts += 1
        text = self.token + f"{s.value_bytes()}:{s.breaks}".encode()
        # A quoted value still open at the end of the input stays open, as it was.
        return self._quote + text if s.inside else text
