"""Runs of empty lines, outside quoted values, folded into one marker line (a quote-state
machine over the byte stream)."""

from __future__ import annotations

import re
import secrets


class BlankLines:
    """Replaces each run of empty lines (outside quoted values) with one marker line.

    pyarrow turns an empty line into a row of ``column_count`` empty cells: 1 byte of input
    became ~5 bytes per column, so a 1,000-column header followed by a megabyte of line
    breaks took gigabytes. A marker line (one field, so a ragged record for pyarrow, skipped
    by the summarizer's invalid-row handler) says how many lines it stands for; the
    summarizer counts them as blank lines and adds them back into the line numbering.

    The quote state follows pyarrow's parser exactly (quote char opens a quoted value only
    at the start of a field; doubled inside; literal after the closing quote), in C-speed
    regex jumps: whole non-empty records at a time, one step per field only in a record
    split across reads. Only for two columns or more: with one, a marker would be a row.
    """

    LS, FS, UNQ, Q, QQ = range(5)

    def __init__(self, delimiter: str, quote: str) -> None:
        d = re.escape(delimiter.encode())
        q = re.escape(quote.encode())
        t = rb"(?:\r\n|\r(?!\n)|\n)"
        body = rb"[^" + q + rb"]*+(?:" + q + q + rb"[^" + q + rb"]*+)*+"
        field = (
            rb"(?:" + q + body + q + rb"[^" + d + rb"\r\n]*+"
            rb"|[^" + q + d + rb"\r\n][^" + d + rb"\r\n]*+|)"
        )
        self._records = re.compile(
            rb"(?>(?=[^\r\n])" + field + rb"(?:" + d + field + rb")*" + t + rb")*+"
        )
        self._run = re.compile(t + rb"++")
        self._body = re.compile(body)
        self._outside = re.compile(d + q + rb"|[\r\n]")
        # Quoted values as quote pairs, each opening quote at a field start (or doubling
        # the quote before it): where it holds, the parity of the quotes is the state.
        self._pairs = re.compile(
            rb"(?:[^"
            + q
            + rb"]*+(?<=["
            + d
            + rb"\r\n"
            + q
            + rb"])"
            + q
            + rb"[^"
            + q
            + rb"]*+"
            + q
            + rb")*+"
        )
        self._delim = delimiter.encode()[0]
        self._quote = quote.encode()[0]
        self.marker = ("~blank-" + secrets.token_hex(8) + "~").encode()
        self.state = self.LS
        self.cr: str | None = None  # a read ended in \r: "keep" or "drop" a \n that follows

    def scan(self, data: bytes) -> bytes:
        if not data:
            return data
        # Fast path, most reads of most files: no two line breaks in a row anywhere, and
        # none at the start of a line: nothing to replace, only the quote state to follow.
        if not (
            b"\n\n" in data
            or (b"\r" in data and (b"\r\r" in data or b"\n\r" in data))
            or ((self.state == self.LS or self.cr) and data[0] in (10, 13))
        ):
            self.cr = None
            self._follow(data)
            return data
        return self._scan(data)

    def _follow(self, data: bytes) -> None:
        """The state after ``data``, which holds no empty line."""
        n, q, st, i = len(data), self._quote, self.state, 0
        if st == self.QQ:
            st, i = (self.Q, 1) if data[0] == q else (self.UNQ, 0)
        elif st in (self.LS, self.FS) and data[0] == q:
            st, i = self.Q, 1
        elif st == self.UNQ and data[0] == q:
            self._walk(data)  # a literal quote: the pairs below would take it for a close
            return
        if st == self.Q:
            m = self._body.match(data, i)
            e = m.end() if m is not None else i
            if e >= n - 1:
                self.state = self.Q if e >= n else self.QQ
                return
            i = e + 1  # closed; data[i] is not a quote
        # Outside a quoted value at i, and data[i] is not a quote. With no quote left (most
        # files), there is no pair to match, and the match would still scan every byte.
        m = self._pairs.match(data, i) if data.find(q, i) >= 0 else None
        e = m.end() if m is not None else i
        if e == n:
            self.state = self.QQ  # the last byte closes a pair, or starts a doubled quote
            return
        j = data.find(q, e)
        if j < 0:
            c = data[-1]
            if c == self._delim:
                self.state = self.FS
            elif c in (10, 13):
                self.state = self.LS
                self.cr = "keep" if c == 13 else None
            else:
                self.state = self.UNQ
            return
        if data.find(q, j + 1) < 0 and data[j - 1] in (self._delim, 10, 13, q):
            self.state = self.Q  # one quote left, and it opens a quoted value
            return
        self._walk(data)  # a quote inside an unquoted field: follow it exactly

    def _walk(self, data: bytes) -> None:
        """The state after ``data``, which holds no empty line: one step per quote."""
        n, q, st, i = len(data), self._quote, self.state, 0
        find = data.find
        while True:
            if st == self.Q:
                j = find(q, i)
                if j < 0:
                    break
                if j + 1 == n:
                    st = self.QQ
                    break
                if data[j + 1] == q:
                    i = j + 2  # doubled: still inside
                    continue
                st, i = self.UNQ, j + 1
                continue
            if st == self.QQ:
                if data[i] == q:
                    st, i = self.Q, i + 1
                    continue
                st = self.UNQ
            # Outside a quoted value: the next quote that starts a field opens one.
            j = find(q, i)
            while j >= 0 and not (
                (j == i and st in (self.LS, self.FS))
                or (j > i and data[j - 1] in (self._delim, 10, 13))
            ):
                j = find(q, j + 1)
            if j >= 0:
                st, i = self.Q, j + 1
                if i == n:
                    break
                continue
            if i < n:
                c = data[n - 1]
                if c == self._delim:
                    st = self.FS
                elif c in (10, 13):
                    st = self.LS
                    if c == 13:
                        self.cr = "keep"
                else:
                    st = self.UNQ
            break
        self.state = st

    def _scan(self, data: bytes) -> bytes:
        n = len(data)
        out: list[bytes] = []
        i = last = 0
        cr, self.cr = self.cr, None
        if cr and n and data[0] == 10:  # the \n of a \r\n split across reads
            i = 1
            if cr == "drop":
                last = 1
        st = self.state
        while i < n:
            if st == self.LS:
                if data[i] in (10, 13):
                    m = self._run.match(data, i)
                    assert m is not None
                    e = m.end()
                    run = data[i:e]
                    k = run.count(b"\n") + run.count(b"\r") - run.count(b"\r\n")
                    out.append(data[last:i])
                    out.append(self.marker + str(k).encode() + b"\n")
                    last = i = e
                    if data[e - 1] == 13 and e == n:
                        self.cr = "drop"
                    continue
                m = self._records.match(data, i)
                i = m.end() if m is not None else i
                if i == n:
                    if data[n - 1] == 13:
                        self.cr = "keep"
                    break
                if data[i] in (10, 13):
                    continue
                st = self.FS
            elif st == self.FS:
                if data[i] == self._quote:
                    st, i = self.Q, i + 1
                else:
                    st = self.UNQ
            elif st == self.UNQ:
                m = self._outside.search(data, i)
                if m is None:
                    st = self.FS if data[n - 1] == self._delim else self.UNQ
                    i = n
                elif data[m.start()] == self._delim:
                    st, i = self.Q, m.end()
                else:
                    j = m.start()
                    if data[j] == 13 and j + 1 < n and data[j + 1] == 10:
                        i = j + 2
                    else:
                        i = j + 1
                        if data[j] == 13 and i == n:
                            self.cr = "keep"
                    st = self.LS
            elif st == self.Q:
                m = self._body.match(data, i)
                e = m.end() if m is not None else i
                if e >= n:
                    i = n
                elif e + 1 == n:
                    st, i = self.QQ, n
                else:
                    st, i = self.UNQ, e + 1  # data[e + 1] is not a quote: closed
            else:  # QQ: a quote ended the last read inside a quoted value
                if data[i] == self._quote:
                    st, i = self.Q, i + 1
                else:
                    st = self.UNQ
        self.state = st
        if not out:
            return data[last:]
        out.append(data[last:])
        return b"".join(out)
