"""moto's S3/SQS server on loopback, holding one copy of a big upload in memory, not three.

moto (5.x) reads a request body with werkzeug's ``request.data``, which gathers it into a
``bytearray`` and then copies that into ``bytes``; its ``FakeKey`` then writes the body
into an in-memory spool (a ``BytesIO``) before rolling it over to a file on disk. For a
300 MB upload that was 725 MB at the peak, and 2.7 GB for a 1 GB one sent in parts (the
parts are joined in memory, which ``transfer.py`` avoids by sending one PUT). Here:

- a big body is first streamed to a temporary file, and the request reads it from there
  (``wsgi.input_terminated``): one read of a regular file, one ``bytes`` of its size;
- the request's copy of that body is collected once it is answered (moto leaves it in a
  reference cycle, which held it until a later GET of the object made a second copy);
- the spool of a value that cannot stay in memory rolls over to disk before the write.

Everything else is moto's own server (``moto.server.ThreadedMotoServer`` does the same
with moto's app and request handler).
"""

from __future__ import annotations

import gc
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

# Bodies above this go through a file: moto's own spool keeps values up to ~5 MB in memory.
BIG_BODY_BYTES = 8 * 1024 * 1024
_PATCHED = "_local_pipeline_spools_to_disk"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def body_through_a_file(app: WsgiApp) -> WsgiApp:
    """WSGI middleware: a big request body is read once from a temporary file."""

    def wrapped(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length <= BIG_BODY_BYTES:
            return app(environ, start_response)
        with tempfile.TemporaryFile() as body:
            shutil.copyfileobj(_Limited(environ["wsgi.input"], length), body, 1024 * 1024)
            body.seek(0)
            environ["wsgi.input"] = body
            environ["wsgi.input_terminated"] = True  # a file ends; werkzeug may read it whole
            try:
                return list(app(environ, start_response))  # answered before the file closes
            finally:
                # moto's handling leaves the body in a reference cycle, which only the
                # cyclic collector frees, some requests later: the handler's GET of the
                # same object then made a second copy. Collected now, once per big body.
                gc.collect()

    return wrapped


class _Limited:
    """The first ``length`` bytes of a socket stream, read in chunks."""

    def __init__(self, stream: Any, length: int) -> None:
        self.stream = stream
        self.left = length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size) if size else b""
        self.left -= len(data)
        return bytes(data)


def spool_big_values_to_disk() -> None:
    """Patch moto's ``FakeKey.value`` setter (once per process): roll an empty spool over
    to disk before a value that would not stay in memory, so that it is never copied into
    a ``BytesIO`` first."""
    from moto.s3.models import FakeKey

    if getattr(FakeKey, _PATCHED, False):
        return
    original: Any = FakeKey.value
    setter = original.fset

    def set_value(key: Any, new_value: Any) -> None:
        buffer = key._value_buffer
        if len(new_value) > key._max_buffer_size and not getattr(buffer, "_rolled", True):
            buffer.rollover()  # the spool is about to be truncated: nothing is copied
        setter(key, new_value)

    FakeKey.value = property(original.fget, set_value)  # type: ignore[method-assign,assignment]
    setattr(FakeKey, _PATCHED, True)


class LoopbackMotoServer:
    """moto's app on 127.0.0.1 in a thread, with the two changes above."""

    def __init__(self, port: int = 0) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        spool_big_values_to_disk()
        app = body_through_a_file(DomainDispatcherApplication(create_backend_app))
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
