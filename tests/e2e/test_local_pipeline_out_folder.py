"""`--out` describes exactly one run, and an earlier run's output folder is never an input."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from local_pipeline.cli import main
from local_pipeline.run_folder import MARKER
from tests.e2e.inputs import mixed_csv, rotated_jpeg


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _report(path: Path) -> dict[str, dict]:
    return {entry["key"]: entry for entry in json.loads(path.read_text())["inputs"]}


def test_an_earlier_output_folder_is_named_once_and_never_uploaded(tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "beach.jpg").write_bytes(rotated_jpeg())
    assert main(["run", str(photos), "--out", str(photos / "out")]) == 0
    capsys.readouterr()

    other = tmp_path / "other"
    argv = ["run", str(photos), "--out", str(other), "--report", str(other / "r.json")]
    assert main(argv) == 0
    stdout = capsys.readouterr().out
    assert f"not uploaded: {photos / 'out'}/ holds the outputs of an earlier run\n" in stdout
    assert stdout.count("not uploaded") == 1  # one line for the folder, none per file
    assert list(_report(other / "r.json")) == ["images/beach.jpg"]  # one event, not six


def test_a_reused_out_holds_the_last_run_only(tmp_path, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "a.csv").write_bytes(mixed_csv(3))
    (first / "a.jpg").write_bytes(rotated_jpeg())
    (second / "b.csv").write_bytes(mixed_csv(4))
    out = tmp_path / "out"
    (tmp_path / "keep.txt").write_text("not the runner's")
    assert main(["run", str(first), "--out", str(out), "--report", str(out / "r.json")]) == 0
    (out / "notes.txt").write_text("the user's own file in the folder")
    assert main(["run", str(second), "--out", str(out), "--report", str(out / "r.json")]) == 0
    capsys.readouterr()

    files = set(_snapshot(out))
    assert files == {
        MARKER,
        "notes.txt",  # not the runner's: left alone
        "index.html",
        "r.json",
        "logs/CsvSummarizerFunction.log",
        "logs/ImageProcessorFunction.log",
        "upload/summaries/b.csv.json",
    }
    assert list(_report(out / "r.json")) == ["csv/b.csv"]
    page = (out / "index.html").read_text()
    assert "b.csv" in page and "a.csv" not in page and "a.jpg" not in page
    assert "a.jpg" not in (out / "logs" / "ImageProcessorFunction.log").read_text()  # fresh


def test_a_run_that_fails_before_any_event_leaves_out_as_it_was(tmp_path, capsys):
    (tmp_path / "a.csv").write_bytes(mixed_csv(3))
    out = tmp_path / "out"
    argv = ["run", str(tmp_path / "a.csv"), "--out", str(out), "--report", str(out / "r.json")]
    assert main(argv) == 0
    before = _snapshot(out)
    with socket.socket() as probe:  # a port with no listener
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    capsys.readouterr()
    assert main([*argv, "--endpoint-url", dead]) == 2
    assert capsys.readouterr().err.startswith(f"error: --endpoint-url {dead}: nothing listens")
    assert _snapshot(out) == before


@pytest.mark.parametrize("given_as", ["the folder", "a folder above it"])
def test_an_output_folder_given_as_input_uploads_nothing(tmp_path, capsys, given_as):
    (tmp_path / "a.csv").write_bytes(mixed_csv(3))
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "a.csv"), "--out", str(out)]) == 0
    capsys.readouterr()
    path = out if given_as == "the folder" else tmp_path
    argv = ["run", str(path), "--out", str(tmp_path / "again")]
    if given_as == "the folder":
        assert main(argv) == 2
        assert capsys.readouterr().out == (
            f"not uploaded: {out}/ holds the outputs of an earlier run\nnothing to upload\n"
        )
    else:
        assert main(argv) == 0
        assert (
            f"not uploaded: {out}/ holds the outputs of an earlier run" in capsys.readouterr().out
        )
