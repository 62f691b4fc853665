"""Run the SAM stack's real handlers locally, against an embedded S3 emulator.

No Docker, no AWS account: buckets, notifications and functions come from template.yaml.
"""

import sys
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
