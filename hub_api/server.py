"""Serve the API from a thread on a free loopback port: for the demo and the tests, which speak real HTTP to it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from core.settings import Settings
from hub_api.app import create_app


@contextmanager
def api_in_thread(settings: Settings, *, start_timeout_s: float = 10.0) -> Iterator[str]:
    """Yields the base URL (``http://127.0.0.1:<port>``); the server stops when the block ends."""
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, configure_logs=False),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            log_config=None,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True, name="autohub-api")
    thread.start()
    deadline = time.monotonic() + start_timeout_s
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the hub API did not start; see the log above")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
