"""Every user mistake gets one clear line and a non-zero exit, before anything starts."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from local_pipeline.cli import main
from tests.e2e.cli import local_pipeline


def _fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Run the CLI; it must exit 2 with exactly one line on stderr and nothing uploaded."""
    status = main(list(argv))
    captured = capsys.readouterr()
    assert status == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "S3 emulator at" not in captured.out  # refused before the emulator started
    return lines[0]


@pytest.fixture
def inputs(tmp_path: Path) -> Path:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "t.csv").write_text("a,b\n1,2\n")
    return folder


def test_a_path_that_does_not_exist(capsys, inputs):
    missing = inputs / "nope.jpg"
    assert _fails(capsys, "run", str(missing)) == f"error: {missing}: no such file or folder"


def test_the_same_input_twice(capsys, inputs):
    line = _fails(capsys, "run", str(inputs), str(inputs))
    assert line == f"error: {inputs} is given twice (also as {inputs})"


def test_a_file_inside_a_folder_also_given(capsys, inputs):
    line = _fails(capsys, "run", str(inputs), str(inputs / "t.csv"))
    assert line == f"error: {inputs / 't.csv'} and {inputs} overlap: give one of them"


def test_out_naming_a_file(capsys, inputs, tmp_path):
    (tmp_path / "file").write_text("x")
    line = _fails(capsys, "run", str(inputs), "--out", str(tmp_path / "file"))
    assert line == f"error: --out {tmp_path / 'file'}: is a file; give a folder for the outputs"


def test_report_naming_a_folder(capsys, inputs, tmp_path):
    line = _fails(capsys, "run", str(inputs), "--report", str(tmp_path))
    assert line == f"error: --report {tmp_path}: is a folder; give a file, e.g. report.json"


def test_parameter_override_without_a_value(capsys, inputs):
    line = _fails(capsys, "run", str(inputs), "--parameter-overrides", "ThumbnailSize")
    assert line == "error: --parameter-overrides: 'ThumbnailSize' is not Key=Value"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("ThumbnailSize=5", "parameter ThumbnailSize=5 is outside its range 16..4096"),
        ("ThumbnailSize=abc", "parameter ThumbnailSize must be a number, got 'abc'"),
        ("LogRetentionDays=2", "parameter LogRetentionDays='2' must be one of: 1, 3, 5, 7,"),
        ("JpegBackground=blue", "parameter JpegBackground='blue' does not match"),
        ("Bogus=1", "parameter 'Bogus' is not in template.yaml; it has "),
    ],
)
def test_parameter_overrides_are_checked_against_the_template(capsys, inputs, override, message):
    line = _fails(capsys, "run", str(inputs), "--parameter-overrides", override)
    assert line.startswith(f"error: {message}"), line


def test_a_missing_env_vars_file(capsys, inputs):
    line = _fails(capsys, "run", str(inputs), "--env-vars", str(inputs / "env.json"))
    assert line == f"error: --env-vars {inputs / 'env.json'}: no such file"


def test_an_env_vars_file_of_the_wrong_shape(capsys, inputs):
    (inputs / "env.json").write_text('{"ImageProcessorFunction": 3}')
    line = _fails(capsys, "run", str(inputs), "--env-vars", str(inputs / "env.json"))
    assert line.startswith(f"error: --env-vars {inputs / 'env.json'}: expected an object like")


def test_a_missing_event_file(capsys, tmp_path):
    line = _fails(capsys, "invoke", "CsvSummarizerFunction", "-e", str(tmp_path / "e.json"))
    assert line == f"error: event file {tmp_path / 'e.json'}: no such file"


def test_an_event_file_that_is_not_json(capsys, tmp_path):
    (tmp_path / "e.json").write_text("Records: yes")
    line = _fails(capsys, "invoke", "CsvSummarizerFunction", "-e", str(tmp_path / "e.json"))
    assert line.startswith(f"error: event file {tmp_path / 'e.json'}: not JSON (Expecting value")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ("[1, 2]", "a JSON list, expected an S3 event"),
        ('"Records"', "a JSON str, expected an S3 event"),
    ],
)
def test_an_event_file_of_the_wrong_shape(capsys, tmp_path, body, detail):
    (tmp_path / "e.json").write_text(body)
    line = _fails(capsys, "invoke", "CsvSummarizerFunction", "-e", str(tmp_path / "e.json"))
    assert line.startswith(f"error: event file {tmp_path / 'e.json'}: {detail}"), line


def test_serve_on_a_port_in_use_fails_at_once():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        completed = local_pipeline("serve", "--port", str(port), timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.strip() == (
        f"error: port {port} on 127.0.0.1 is in use (Address already in use); "
        "choose another with --port, or omit it for a free one"
    )
    assert "Traceback" not in completed.stdout + completed.stderr


def test_an_input_no_event_fires_for_is_listed_with_its_outcome(tmp_path):
    """S3's suffix filters are case-sensitive: DATA.CSV triggers nothing, and says so."""
    (tmp_path / "DATA.CSV").write_text("a\n1\n")
    (tmp_path / "ok.csv").write_text("a\n1\n")
    out = tmp_path / "out"
    status = main(["run", str(tmp_path), "--out", str(out), "--report", str(out / "r.json")])
    report = json.loads((out / "r.json").read_text())
    by_key = {entry["key"]: entry for entry in report["inputs"]}
    assert status == 0
    assert by_key["csv/DATA.CSV"]["outcome"] == "not_triggered"
    assert "filters are case-sensitive" in by_key["csv/DATA.CSV"]["error"]
    assert by_key["csv/ok.csv"]["outcome"] == "results"
    # The run's own output folder, inside the input folder, is never uploaded.
    assert not [key for key in by_key if "/out/" in key]
    assert main(["run", str(tmp_path), "--out", str(out), "--report", str(out / "r.json")]) == 0
    again = json.loads((out / "r.json").read_text())
    assert sorted(e["key"] for e in again["inputs"]) == sorted(by_key)


def test_an_unreadable_file_fails_alone(tmp_path):
    (tmp_path / "good.csv").write_text("a\n1\n")
    (tmp_path / "broken.csv").symlink_to(tmp_path / "missing.csv")
    out = tmp_path / "out"
    status = main(["run", str(tmp_path), "--out", str(out), "--report", str(out / "r.json")])
    report = json.loads((out / "r.json").read_text())
    outcomes = {Path(entry["path"]).name: entry["outcome"] for entry in report["inputs"]}
    assert status == 1
    assert outcomes == {"good.csv": "results", "broken.csv": "not_uploaded"}
    assert report["unfinished"] == 1
