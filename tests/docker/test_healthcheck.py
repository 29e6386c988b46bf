"""docker/healthcheck.py, the hub image's `autohub-healthcheck`, against real sockets and HTTP servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.docker.files import healthcheck_script

check = healthcheck_script()

# /proc/net/tcp as the kernel prints it: local 127.0.0.1:40000 → remote 127.0.0.1:5672 (0x1628) ESTABLISHED (01),
# and a listener on 5432 (0x1538, state 0A) that is not a connection.
PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:9C40 0100007F:1628 01 00000000:00000000 00:00000000 00000000  1000        0 1 1 0
   1: 00000000:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2 1 0
"""


@pytest.fixture
def http_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_url_is_healthy_only_on_2xx(http_server: str) -> None:
    assert check.main(["url", f"{http_server}/healthz"]) == 0
    assert check.main(["url", f"{http_server}/elsewhere"]) == 1
    assert check.main(["url", f"http://127.0.0.1:{_free_port()}/healthz"]) == 1


def test_port_is_healthy_while_something_listens(http_server: str) -> None:
    assert check.main(["port", http_server.rsplit(":", 1)[1]]) == 0
    assert check.main(["port", str(_free_port())]) == 1


def test_established_remote_ports_reads_the_kernel_table() -> None:
    assert check.established_remote_ports([PROC_NET_TCP]) == {5672}
    assert check.established_remote_ports([PROC_NET_TCP.splitlines()[0]]) == set()


def test_connected_sees_this_process_s_open_connection() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        assert check.main(["connected", str(port)]) == 1
        with socket.create_connection(("127.0.0.1", port)), listener.accept()[0]:
            assert check.main(["connected", str(port)]) == 0


@pytest.mark.parametrize("argv", [[], ["url"], ["ping", "8000"], ["url", "http://x", "extra"]])
def test_a_wrong_call_is_unhealthy_not_docker_s_reserved_code(argv: list[str]) -> None:
    assert check.main(argv) == 1
