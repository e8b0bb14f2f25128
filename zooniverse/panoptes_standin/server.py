"""Serving the stand-in on a loopback port from a background thread."""

from __future__ import annotations

import threading
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from .app import PanoptesStandin
from .state import StandinState


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class StandinServer:
    """The stand-in on a loopback port, served from a background thread."""

    def __init__(self, state: StandinState | None = None, host: str = "127.0.0.1", port: int = 0):
        self.state = state or StandinState()
        self.app = PanoptesStandin(self.state)
        self.httpd = make_server(host, port, self.app, server_class=_ThreadingServer, handler_class=_QuietHandler)
        self.url = f"http://{host}:{self.httpd.server_port}"
        self.app.base_url = self.url
        self._thread: threading.Thread | None = None

    def start(self) -> StandinServer:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="panoptes-standin", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
