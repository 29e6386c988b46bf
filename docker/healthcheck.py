#!/usr/bin/env python3
"""Container health checks for the hub image, in the standard library only (the slim image has no curl).

    autohub-healthcheck url http://127.0.0.1:8000/healthz   healthy when the URL answers 2xx
    autohub-healthcheck port 8081                           healthy when something accepts on 127.0.0.1:8081
    autohub-healthcheck connected 5672                      healthy when this container holds an ESTABLISHED
                                                            TCP connection to a remote port 5672

``connected`` is for the consumers that serve nothing (``autohub dms consume``, ``autohub outbox relay``): each
keeps one AMQP connection open and reconnects when it drops, so "no connection to the broker" is what a
stuck or crash-looping consumer looks like from outside. It reads /proc/net/tcp and /proc/net/tcp6, which
list only this container's sockets (its own network namespace).

Exit 0 healthy, 1 unhealthy (Docker's HEALTHCHECK contract; 2 is reserved); one line on stdout says why.
"""

from __future__ import annotations

import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path

TIMEOUT_S = 4.0
ESTABLISHED = "01"  # the kernel's TCP_ESTABLISHED, as /proc/net/tcp prints it
PROC_TCP = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
KINDS = ("url", "port", "connected")


def check_url(url: str) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:  # noqa: S310 - a fixed local URL
            return 200 <= response.status < 300, f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return False, f"{url} answered {exc.code}"
    except OSError as exc:
        return False, f"{url} unreachable: {exc}"


def check_port(port: int, host: str = "127.0.0.1") -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT_S):
            return True, f"{host}:{port} accepts connections"
    except OSError as exc:
        return False, f"{host}:{port} refuses: {exc}"


def established_remote_ports(tables: Iterable[str]) -> set[int]:
    """Remote ports of the ESTABLISHED connections in /proc/net/tcp-format text (``rem_address`` is IP:PORT hex)."""
    ports = set()
    for table in tables:
        for line in table.splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == ESTABLISHED:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def check_connected(port: int) -> tuple[bool, str]:
    tables = [path.read_text() for path in PROC_TCP if path.exists()]
    if port in established_remote_ports(tables):
        return True, f"connected to a remote port {port}"
    return False, f"no established connection to a remote port {port}"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in KINDS:
        print(__doc__)
        return 1  # Docker reserves 2; a wrong check in a compose file must show as unhealthy
    kind, target = argv
    if kind == "url":
        healthy, why = check_url(target)
    elif kind == "port":
        healthy, why = check_port(int(target))
    else:
        healthy, why = check_connected(int(target))
    print(why)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
