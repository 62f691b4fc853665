"""Run ``python -m local_pipeline`` as a user would: a child process from the repository root."""

from __future__ import annotations

import subprocess
import sys

from stack_model.template import ROOT


def local_pipeline(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """The finished command, its output captured as text; a non-zero exit does not raise."""
    return subprocess.run(
        [sys.executable, "-m", "local_pipeline", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
