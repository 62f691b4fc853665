"""Hostile-input fuzzing of the imaging and CSV cores (atheris harnesses and shared checks).

``seeds`` builds small valid inputs, ``mutations`` breaks them in format-aware ways,
``invariants`` states what every input must lead to. The hypothesis properties in
``tests/fuzz`` and the atheris harnesses here share all three.
"""

import sys
from pathlib import Path

# The cores import each other by module name (as on Lambda, where each CodeUri is the root),
# and the shared file-signature table from the runtime layer's folder (/opt/python there).
_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "csv_summarizer", _ROOT / "image_processor", _ROOT / "layers" / "runtime"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))
