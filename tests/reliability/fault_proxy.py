"""An HTTP proxy on loopback that injects S3 faults between the handlers and the emulator.

The functions reach S3 through it (``AWS_ENDPOINT_URL_S3`` in their environment); the
runner and the tests talk to the emulator directly. On a seeded share of *object* requests
(GET, PUT or HEAD of a key, path-style ``/bucket/key``) it injects one fault:

- ``slowdown_503``: S3's ``503 SlowDown`` error document, the request not forwarded;
- ``internal_500``: S3's ``500 InternalError`` error document, not forwarded;
- ``reset_before``: the connection is reset (RST) before the request is forwarded;
- ``reset_after``: the request is forwarded (a PUT lands) and the connection is reset
  before the response is complete (a GET gets its headers and half of its body);
- ``latency``: the request is forwarded after a delay.

``forced(method, path)`` may name the fault for a given request, whatever the rate: for
example ``internal_500`` on every PUT of one key (an outage no retry survives), or
``reset_after`` on the first PUT of another. Forced faults count as ``forced_<kind>``.

Bucket-level requests and every other service pass untouched. ``injected`` counts the
faults by kind and ``object_requests`` the object requests seen.
"""

from __future__ import annotations

import http.client
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FAULT_KINDS = ("slowdown_503", "internal_500", "reset_before", "reset_after", "latency")
OBJECT_METHODS = frozenset({"GET", "PUT", "HEAD"})
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding"}
)
_ERRORS = {
    "slowdown_503": (503, "SlowDown", "Please reduce your request rate."),
    "internal_500": (500, "InternalError", "We encountered an internal error. Please try again."),
}


def is_object_request(method: str, path: str) -> bool:
    """GET/PUT/HEAD of a key: ``/bucket/key...``, not ``/bucket`` or ``/bucket/?versioning``."""
    bucket, _, key = urlsplit(path).path.lstrip("/").partition("/")
    return method in OBJECT_METHODS and bool(bucket) and bool(key)


def error_document(code: str, message: str, resource: str) -> bytes:
    request_id = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        f"<Resource>{resource}</Resource><RequestId>{request_id}</RequestId></Error>"
    ).encode()


class FaultProxy:
    """``with FaultProxy(upstream, rate=0.2, seed=7) as proxy:`` then use ``proxy.url``."""

    def __init__(
        self,
        upstream: str,
        rate: float,
        seed: int = 0,
        kinds: tuple[str, ...] = FAULT_KINDS,
        latency_s: tuple[float, float] = (0.05, 0.4),
        forced: Callable[[str, str], str | None] | None = None,
    ) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        target = urlsplit(upstream)
        self.upstream = (target.hostname or "127.0.0.1", target.port or 80)
        self.rate = rate
        self.kinds = kinds
        self.latency_s = latency_s
        self.forced = forced
        self.injected: Counter[str] = Counter()
        self.object_requests = 0
        self.passed_through = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def __enter__(self) -> FaultProxy:
        proxy = self

        class Handler(_ProxyHandler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="fault-proxy", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def choose(self, method: str, path: str) -> str | None:
        """The fault to inject into this request, or None; counted."""
        with self._lock:
            if not is_object_request(method, path):
                self.passed_through += 1
                return None
            self.object_requests += 1
            kind = self.forced(method, urlsplit(path).path) if self.forced else None
            if kind:
                if kind not in FAULT_KINDS:
                    raise ValueError(f"unknown fault kind {kind!r}")
                self.injected[f"forced_{kind}"] += 1
                return kind
            if self._rng.random() >= self.rate:
                return None
            kind = self._rng.choice(self.kinds)
            self.injected[kind] += 1
            return kind

    def latency(self) -> float:
        with self._lock:
            return self._rng.uniform(*self.latency_s)

    def summary(self) -> dict[str, Any]:
        return {
            "object_requests": self.object_requests,
            "other_requests": self.passed_through,
            "injected": dict(sorted(self.injected.items())),
            "injected_total": sum(self.injected.values()),
        }


class _ProxyHandler(BaseHTTPRequestHandler):
    owner: FaultProxy
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._relay()

    do_PUT = do_HEAD = do_POST = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # trailers
                pass
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _reset(self) -> None:
        """Abort the connection with a TCP RST (SO_LINGER 0), as a dropped peer does."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        # rfile (a makefile() of the socket) still holds the descriptor: closing it sends
        # the RST now. wfile writes to the socket object itself, which is closed already.
        self.rfile.close()

    def _relay(self) -> None:
        body = self._read_body()
        fault = self.owner.choose(self.command, self.path)
        if fault in _ERRORS:
            status, code, message = _ERRORS[fault]
            document = b"" if self.command == "HEAD" else error_document(code, message, self.path)
            self.send_response(status)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)
            return
        if fault == "reset_before":
            self._reset()
            return
        if fault == "latency":
            time.sleep(self.owner.latency())
        status, reason, headers, payload = self._forward(body)
        if fault == "reset_after" and not payload:
            self._reset()
            return
        self.send_response(status, reason)
        for name, value in headers:
            if name.lower() not in _HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        length = next((v for n, v in headers if n.lower() == "content-length"), None)
        # HEAD answers carry the object's length and no body.
        self.send_header(
            "Content-Length", length if self.command == "HEAD" and length else str(len(payload))
        )
        self.end_headers()
        if fault == "reset_after":  # the headers and half the body, then the connection drops
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._reset()
            return
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _forward(self, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers.pop("Expect", None)  # the proxy already has the whole body
        if body or self.command in ("PUT", "POST"):
            headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self.owner.upstream, timeout=60)
        try:
            connection.request(self.command, self.path, body=body or None, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            return response.status, response.reason, response.getheaders(), payload
        finally:
            connection.close()
