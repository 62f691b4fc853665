"""How the read ended: whole, cut at a limit, or stopped by the reader mid-file."""

from __future__ import annotations

from csv_feed import Utf8Feed
from csv_source import GZIP_ERRORS


class Ending:
    """Whether the summary covers less than the whole input, and why."""

    def __init__(self) -> None:
        self.truncated = False
        self.parse_error: str | None = None
        self.unterminated: dict[str, int] | None = None

    def reader_stopped(self, exc: BaseException, feed: Utf8Feed, line: int) -> None:
        """The reader gave up mid-file, near ``line``: keep what was summarized, say where
        and why."""
        self.truncated = True
        try:
            while feed.read(1 << 20):
                pass
        except GZIP_ERRORS as gz:
            self.parse_error = f"gzip stream is corrupt: {gz}"
            return
        if isinstance(exc, GZIP_ERRORS):
            self.parse_error = f"gzip stream is corrupt: {exc}"
        elif feed.scan.quotes % 2:
            self.unterminated = {"line": line, "lines_swallowed": -1}
            self.parse_error = "unterminated quote"
        else:
            self.parse_error = f"CSV reader stopped near line {line}: {exc}"

    def finish(self, feed: Utf8Feed, last_line: int, last_breaks: int) -> None:
        """After the read, stopped or not: a quote left open swallowed the last record's
        line breaks (``last_breaks``, from ``last_line``) unless the reader said so already;
        the feed may have stopped at a limit."""
        if feed.scan.quotes % 2 and self.parse_error is None and last_breaks:
            self.unterminated = {"line": last_line, "lines_swallowed": last_breaks}
            self.truncated = True
        if feed.source.truncated:
            self.truncated = True
