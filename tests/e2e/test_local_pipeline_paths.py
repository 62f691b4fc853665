"""S3 keys become local paths under --out, and never anything outside it.

The mapping (``LocalPaths``) on keys S3 accepts and a filesystem cannot hold as they are;
then ``serve`` on the real emulator, with keys that used to escape the folder and keys that
collide, and a file planted outside that must stay untouched.
"""

from __future__ import annotations

import html
import json
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from local_pipeline.local_paths import RENAMED_FOLDER, LocalPaths
from stack_model.template import ROOT
from tests.e2e.inputs import transparent_png
from tests.e2e.test_local_pipeline_serve import UPLOAD_BUCKET, _wait_for
from tests.emulator import client

HOSTILE_KEYS = {
    "dot-dot": "images/../../../outside/victim.txt",
    "empty-segment": "images//etc/passwd",
    "absolute": "/images/absolute",
    "dot": "images/./x.png",
    "trailing-slash": "images/trailing/",
    "nul": "images/a\x00b.png",
    "overlong-segment": "images/" + "a" * 300 + ".png",
    "only-dot-dot": "..",
    "empty": "",
}


@pytest.mark.parametrize("key", HOSTILE_KEYS.values(), ids=HOSTILE_KEYS.keys())
def test_a_key_that_is_no_safe_path_gets_a_name_inside_out(tmp_path: Path, key: str) -> None:
    out = tmp_path / "out"
    path = LocalPaths(out).path("upload", key)
    assert path.resolve().is_relative_to(out.resolve())
    assert path.is_relative_to(out / RENAMED_FOLDER / "upload")
    assert all(len(part.encode()) <= 255 and "\x00" not in part for part in path.parts)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")  # the filesystem holds it
    assert LocalPaths(out).path("upload", key) == path  # the same name in every run


def test_a_plain_key_keeps_its_own_path(tmp_path: Path) -> None:
    paths = LocalPaths(tmp_path)
    assert paths.path("processed", "a/b c/é.png") == tmp_path / "processed" / "a" / "b c" / "é.png"


def test_a_long_last_segment_keeps_its_extension(tmp_path: Path) -> None:
    path = LocalPaths(tmp_path).path("processed", "x/" + "é" * 200 + "/manifest.json")
    assert path.name == "manifest.json"
    long_name = LocalPaths(tmp_path).path("upload", "images/" + "b" * 400 + ".jpeg")
    assert long_name.suffix == ".jpeg" and len(long_name.name.encode()) <= 255


@pytest.mark.parametrize(
    "keys",
    [
        ("images/holiday", "images/holiday/beach.jpg"),
        ("images/holiday/beach.jpg", "images/holiday"),
        ("images/a\x00b.png", "images/a_b.png"),  # NUL made safe must not meet its look-alike
        ("images/" + "c" * 300 + ".png", "images/" + "c" * 300 + "d.png"),
    ],
    ids=["file-then-folder", "folder-then-file", "nul", "overlong"],
)
def test_colliding_keys_get_distinct_paths_that_all_exist(tmp_path: Path, keys: tuple) -> None:
    paths = LocalPaths(tmp_path / "out")
    first, second = (paths.path("upload", key) for key in keys)
    assert first != second
    for path, body in ((first, b"1"), (second, b"2")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
    assert (first.read_bytes(), second.read_bytes()) == (b"1", b"2")


def test_what_is_on_disk_from_an_earlier_run_is_never_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "upload" / "images" / "holiday").mkdir(parents=True)  # a folder where a file goes
    (out / "upload" / "csv").write_text("a file where a folder goes")
    (tmp_path / "elsewhere").mkdir()
    (out / "upload" / "linked").symlink_to(tmp_path / "elsewhere")
    paths = LocalPaths(out)
    for key in ("images/holiday", "csv/a.csv", "linked/x.png"):
        assert paths.is_renamed(paths.path("upload", key)), key


def _serve(out: Path) -> tuple[subprocess.Popen[str], queue.Queue[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "local_pipeline", "serve", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    assert stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in stdout], daemon=True).start()
    return process, lines


def _everything_outside(folder: Path, out: Path) -> dict[Path, bytes]:
    return {
        path: path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and not path.is_relative_to(out)
    }


def test_serve_keeps_hostile_and_colliding_keys_inside_out(tmp_path: Path) -> None:
    out = tmp_path / "out"
    outside = tmp_path / "outside"
    # Where the outputs of the two hostile keys below used to land.
    victims = [outside / "cat.png" / "manifest.json", outside / "abs.png" / "manifest.json"]
    for victim in victims:
        victim.parent.mkdir(parents=True)
        victim.write_text("planted: must stay as it is")
    (outside / "victim.txt").write_text("planted: must stay as it is")
    before = _everything_outside(tmp_path, out)
    keys = [
        "images/../../outside/cat.png",  # out/processed/../../outside/cat.png/manifest.json
        f"images/{outside / 'abs.png'}",  # images//tmp/...: the output key is absolute
        "images/../../../outside/victim.txt",  # the input itself, downloaded beside the page
        "images/holiday",
        "images/holiday/beach.jpg",
        "images/nul\x00.png",  # no file name holds NUL
        "images/" + "long" * 70 + ".png",  # a segment over 255 bytes
    ]
    process, lines = _serve(out)
    seen: list[str] = []
    try:
        endpoint = _wait_for(lines, r"http://127\.0\.0\.1:\d+", seen)
        _wait_for(lines, r"Handler logs follow", seen)
        s3 = client("s3", endpoint)
        for key in keys:
            s3.put_object(Bucket=UPLOAD_BUCKET, Key=key, Body=transparent_png())
        for key in keys:
            _wait_for(lines, rf">> ImageProcessorFunction {re.escape(key)}: results", seen)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert _everything_outside(tmp_path, out) == before  # nothing written, nothing replaced
    page = (out / "index.html").read_text()
    manifests = {}
    for path in out.rglob("manifest.json"):
        manifests[json.loads(path.read_text())["source"]["key"]] = path
    for key in keys:
        assert key in manifests, (key, sorted(manifests))  # every output came down, inside out
        assert f"<code>{html.escape(key)}</code>" in page  # each card names its real key
    # Every input came down too: each key a file of its own, the colliding pair included.
    folders = (out / "upload", out / RENAMED_FOLDER / "upload")
    originals = [p.read_bytes() for folder in folders for p in folder.rglob("*") if p.is_file()]
    assert originals == [transparent_png()] * len(keys)
