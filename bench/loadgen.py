"""A small HTTP/1.1 load generator on asyncio streams, for the API benchmarks.

Two modes:
- ``closed``: each of N keep-alive connections sends its next request when the previous answer arrived —
  the most the server can do (requests/s);
- ``open``: requests are *scheduled* at a fixed rate and the latency is counted from the scheduled time, not
  from when a connection was free, so a server that falls behind shows it in p99 (no coordinated omission).

Plain sockets rather than an HTTP library: at a thousand requests a second on a two-core machine the client
must cost less than the server it measures.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def line(self, label: str) -> str:
        return (f"{label:<34} {self.rps:8.0f} req/s   p50 {self.percentile(50):6.2f} ms   "
                f"p99 {self.percentile(99):6.2f} ms   max {max(self.latencies_ms, default=0):7.2f} ms   "
                f"statuses {dict(sorted(self.statuses.items()))}")  # fmt: skip


class _Connection:
    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n{self.extra}\r\n".encode())
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def _closed(host: str, port: int, paths: Sequence[str], headers: dict[str, str], connections: int,
                  seconds: float) -> LoadResult:  # fmt: skip
    result = LoadResult()
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        conn = _Connection(host, port, headers)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                status = await conn.get(random.choice(paths))
                result.latencies_ms.append((time.perf_counter() - started) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.seconds = time.perf_counter() - began
    return result


async def _open(host: str, port: int, paths: Sequence[str], headers: dict[str, str], connections: int,
                rate: float, seconds: float) -> LoadResult:  # fmt: skip
    result = LoadResult()
    queue: asyncio.Queue[float | None] = asyncio.Queue()

    async def worker() -> None:
        conn = _Connection(host, port, headers)
        try:
            while (scheduled := await queue.get()) is not None:
                status = await conn.get(random.choice(paths))
                result.latencies_ms.append((time.perf_counter() - scheduled) * 1000)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            conn.close()

    workers = [asyncio.create_task(worker()) for _ in range(connections)]
    began = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = began + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        queue.put_nowait(scheduled)
    for _ in workers:
        queue.put_nowait(None)
    await asyncio.gather(*workers)
    result.seconds = time.perf_counter() - began
    return result


def closed_loop(host: str, port: int, paths: Sequence[str], headers: dict[str, str], *, connections: int = 16,
                seconds: float = 10.0) -> LoadResult:  # fmt: skip
    return asyncio.run(_closed(host, port, paths, headers, connections, seconds))


def open_loop(host: str, port: int, paths: Sequence[str], headers: dict[str, str], *, rate: float,
              connections: int = 32, seconds: float = 10.0) -> LoadResult:  # fmt: skip
    return asyncio.run(_open(host, port, paths, headers, connections, rate, seconds))
