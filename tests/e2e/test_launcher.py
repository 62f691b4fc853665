"""`bin/local-pipeline`: the one way to run the local pipeline, as the docs paste it."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from local_pipeline.cli import _parser
from stack_model.template import ROOT
from tests.e2e.inputs import mixed_csv

LAUNCHER = ROOT / "bin" / "local-pipeline"
DOCS = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]


def _documented_commands() -> list[str]:
    """Every `bin/local-pipeline ...` line of a code block, or in backticks, in the docs."""
    commands = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        commands += re.findall(r"^bin/local-pipeline ([^#\n]*)", text, re.MULTILINE)
        commands += re.findall(r"`bin/local-pipeline ([^`]*)`", text)
    return [command.strip() for command in commands]


def test_the_docs_use_the_launcher() -> None:
    commands = _documented_commands()
    assert len(commands) >= 6, commands
    assert "python -m local_pipeline" not in (ROOT / "docs" / "LOCAL_PIPELINE.md").read_text()


@pytest.mark.parametrize("command", _documented_commands())
def test_every_documented_command_parses(command: str) -> None:
    """Placeholders in capitals (URL, PATH) stand for the user's own values."""
    args = shlex.split(command.replace("URL", "http://127.0.0.1:4566"))
    parsed = _parser().parse_args(args)
    assert parsed.command is not None


def test_help_names_the_launcher_from_any_folder(tmp_path: Path) -> None:
    completed = subprocess.run(
        [str(LAUNCHER), "--help"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: bin/local-pipeline ")
    assert "python -m" not in completed.stdout


def test_paths_stay_the_callers(tmp_path: Path) -> None:
    (tmp_path / "t.csv").write_bytes(mixed_csv(3))
    completed = subprocess.run(
        [str(LAUNCHER), "run", "t.csv", "--out", "here"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert b'"rows": 3' in (tmp_path / "here" / "upload" / "summaries" / "t.csv.json").read_bytes()


def test_a_python_without_the_dependencies_gets_one_line() -> None:
    """-S leaves site-packages out: boto3 cannot be imported, as with a system python."""
    completed = subprocess.run(
        [sys.executable, "-S", "-m", "local_pipeline", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 2
    assert completed.stdout == ""
    assert completed.stderr == (
        f"error: {sys.executable} lacks the project's dependencies (boto3); use "
        "bin/local-pipeline, which runs the project's venv (`make demo` creates it)\n"
    )
