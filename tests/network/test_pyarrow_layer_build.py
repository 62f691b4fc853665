"""The pyarrow layer as SAM builds it (aarch64, trimmed) stays within Lambda's size limit."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LAYER = Path(__file__).resolve().parents[2] / "layers" / "pyarrow"
# 250 MB unzipped for function + layers; the Pillow and runtime layers and the function code
# take about 15 MB together, so the pyarrow layer gets the rest minus a safety margin.
PYARROW_BUDGET_MB = 200


def _tree_mb(root: Path) -> float:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6


@pytest.mark.slow
def test_built_layer_is_trimmed_and_small(tmp_path):
    assert shutil.which("make"), "make is needed: SAM builds the layer with its Makefile"
    env = {**os.environ, "ARTIFACTS_DIR": str(tmp_path)}
    subprocess.run(
        ["make", "-s", "-C", str(LAYER), "build-PyarrowLayer", f"PIP={sys.executable} -m pip"],
        env=env,
        check=True,
        capture_output=True,
    )
    site = tmp_path / "python" / "pyarrow"
    assert (site / "_csv.cpython-313-aarch64-linux-gnu.so").exists()
    assert not list(site.glob("libarrow_flight*")) and not (site / "include").exists()
    assert _tree_mb(tmp_path) < PYARROW_BUDGET_MB
