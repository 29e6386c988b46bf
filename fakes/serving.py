"""What every fake partner shares: a world of generated people to serve, where to listen, a server in a thread."""

from __future__ import annotations

import argparse
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def world_parser(description: str | None, port: int) -> argparse.ArgumentParser:
    """``--people --seed --host --port``: two fakes started with one seed serve the same world (the same people
    in the ERP and at the insurer), as the demo's sources do."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument(
        "--seed", type=int, default=42, help="the generator's seed (the same world in every fake)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (0.0.0.0 in a container)")
    parser.add_argument("--port", type=int, default=port)
    return parser


def serve_in_thread(handler: type[BaseHTTPRequestHandler], host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server answering with ``handler`` from a daemon thread, each request in a daemon thread of its own
    (port 0 picks a free one)."""
    server = ThreadingHTTPServer((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def stop_serving(server: ThreadingHTTPServer | None) -> None:
    """Stop a server ``serve_in_thread`` started, and free its port."""
    if server:
        server.shutdown()
        server.server_close()
