"""A wrong --endpoint-url is one line at once: nothing listening, or something not S3.

No timings are asserted: the probe makes one request with no retry, so a dead port fails
on the refused connection and an HTTP server on its first answer.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_pipeline.cli import main

EVENT = Path(__file__).resolve().parents[2] / "events" / "image_put.json"


@pytest.fixture
def dead_endpoint() -> str:
    """A port of 127.0.0.1 that was free a moment ago and has no listener."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class _NotS3(http.server.BaseHTTPRequestHandler):
    """Answers every request 501, as a plain web server does to what it does not serve."""

    def log_message(self, *_: object) -> None:  # keep the test's output clean
        pass


@pytest.fixture
def web_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotS3)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _commands(tmp_path: Path) -> dict[str, list[str]]:
    (tmp_path / "t.csv").write_text("a,b\n1,2\n")
    return {
        "run": ["run", str(tmp_path / "t.csv"), "--out", str(tmp_path / "out")],
        "serve": ["serve", "--out", str(tmp_path / "out")],
        "invoke": ["invoke", "ImageProcessorFunction", "-e", str(EVENT)],
        "backfill": ["backfill", "--out", str(tmp_path / "out")],
    }


@pytest.mark.parametrize("command", ["run", "serve", "invoke", "backfill"])
def test_nothing_listening_is_one_line(command, dead_endpoint, tmp_path, capsys):
    argv = [*_commands(tmp_path)[command], "--endpoint-url", dead_endpoint]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: --endpoint-url {dead_endpoint}: nothing listens there; start one "
        "(`serve` prints its URL), or leave --endpoint-url out\n"
    )
    assert not (tmp_path / "out").exists()  # nothing was written for a run that never began


@pytest.mark.parametrize("command", ["run", "serve", "invoke", "backfill"])
def test_a_web_server_that_is_not_s3_is_one_line(command, web_server, tmp_path, capsys):
    argv = [*_commands(tmp_path)[command], "--endpoint-url", web_server]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == (
        f"error: --endpoint-url {web_server}: it is no S3 endpoint (its answer to ListBuckets "
        "is not S3's, HTTP 501); give the URL that `serve` prints\n"
    )
    assert "not_settled" not in captured.out
    assert not (tmp_path / "out").exists()


def test_a_url_without_a_scheme_is_one_line(tmp_path, capsys):
    argv = [*_commands(tmp_path)["run"], "--endpoint-url", "127.0.0.1:5000"]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        "error: --endpoint-url 127.0.0.1:5000: not a URL (e.g. http://127.0.0.1:5000)\n"
    )
