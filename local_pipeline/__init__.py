"""Run the SAM stack's real handlers locally, against an embedded S3 emulator.

No Docker, no AWS account: buckets, notifications and functions come from template.yaml.
"""

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

# The runner reads events with the functions' own parser (pipeline_runtime.events) and
# tells images by their table of file signatures (file_signatures). On Lambda both come
# from the runtime layer; here its folder joins sys.path, last, so that it shadows nothing.
# Function sandboxes build their own sys.path (worker.py).
_RUNTIME_LAYER = str(Path(__file__).resolve().parents[1] / "layers" / "runtime")
if _RUNTIME_LAYER not in sys.path:
    sys.path.append(_RUNTIME_LAYER)


class UsageError(Exception):
    """A mistake in the command line or its files; the message is one line for the user."""


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM: the command stops as after Ctrl-C. A KeyboardInterrupt, so that
    every place that already cleans up after Ctrl-C does the same after SIGTERM."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def reason(self) -> str:
        return "interrupted (Ctrl-C)" if self.signum == signal.SIGINT else "terminated (SIGTERM)"


def exit_status(stop: KeyboardInterrupt) -> int:
    """128 + the signal, as a shell reports a process the signal ended: 130, 143."""
    return 128 + getattr(stop, "signum", signal.SIGINT)


def stop_reason(stop: KeyboardInterrupt) -> str:
    return getattr(stop, "reason", "interrupted (Ctrl-C)")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@contextlib.contextmanager
def reports_uninterrupted() -> Iterator[None]:
    """Ignore Ctrl-C and SIGTERM meanwhile: a second one must not cost the report of the
    first. (Signals reach the main thread only; elsewhere there is nothing to ignore.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
