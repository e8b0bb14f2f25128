"""Shared by the tests that start real servers (run_embedded, gunicorn): a free port, and waiting
until the server answers."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_http(base: str, *, process=None, seconds: float = 30, name: str = "the server") -> None:
    """Poll ``base``/api/schema/ until it answers; fail with the server's output if it exits first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/schema/", timeout=2)
            return
        except OSError:
            if process is not None and process.poll() is not None:
                output = process.stdout.read()[-3000:] if process.stdout else ""
                pytest.fail(f"{name} exited early:\n{output}")
            time.sleep(0.3)
    pytest.fail(f"{name} never answered")
