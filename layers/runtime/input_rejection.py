"""The one base class of input that no retry can mend, shared by the cores and the runtime.

The imaging core raises ``ImageRejectedError`` and the CSV core ``CsvRejectedError``, both
subclasses of ``InputRejectedError``; the record loop (``pipeline_runtime.outcomes``) ends
every such record in an error report, whichever core raised it (the map of every exception
to how a record ends is in ``pipeline_runtime.endings``). It is shared pure code: the
standard library only, nothing of ours, so the cores may import it (they may not import the
runtime). It ships in the runtime layer beside ``pipeline_runtime``, as ``file_signatures``
does.
"""

from __future__ import annotations


class InputRejectedError(Exception):
    """The input itself is unusable; retrying cannot help.

    ``reason`` is the error report's reason code (a contract: users and alarms match on
    it); ``message`` says what is wrong and what to do next.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message
