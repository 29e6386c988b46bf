"""Latency and throughput of ``GET /v1/customers/{id}`` against a bare Starlette handler on the same database.

    python bench/api_latency.py [--goldens 100000] [--people 10000] [--rate 1000] [--seconds 15] [--reuse]

Builds a PostgreSQL store (database ``autohub_bench``): ``--people`` generated people through every source,
matched, then copied in SQL until it holds ``--goldens`` golden customers (each copy with its own members,
relationships, consents, policies and events, so each 360 gathers as much as a real one). Both servers run as
separate uvicorn processes with one worker; the load generator (bench/loadgen.py) runs in this process on
loopback. Printed: closed-loop maximum req/s of each (the ratio is the figure, goal ≥ 0.5) and open-loop
p50/p99 at ``--rate`` req/s (goal p99 ≤ 10 ms at 1 000 req/s) with the server's CPU per request (/proc), and the hub
again on the real-time bench's mix (a DMS id's cross-reference, then its customer's 360).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import func, select, text

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from loadgen import closed_loop, open_loop  # noqa: E402

from mappings import MappingRegistry  # noqa: E402
from matching.config import MatchingConfig  # noqa: E402
from matching.run import run_party_matching  # noqa: E402
from matching.vehicles import build_golden_vehicles  # noqa: E402
from pipeline import Loader, to_source_record  # noqa: E402
from sample_data import generate  # noqa: E402
from store import api_keys  # noqa: E402
from store.engine import create_store_engine, session_factory  # noqa: E402
from store.migrate import upgrade  # noqa: E402
from store.tables import GoldenRecordRow, XrefRow  # noqa: E402

DATABASE = "autohub_bench"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
STORE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"

COPY_CANONICAL = """
INSERT INTO canonical_record (source, entity_type, entity_key, source_record_id, body, warnings, mapping_version,
                              updated_at, party_key)
SELECT source, entity_type, entity_key || :tag, source_record_id, body, warnings, mapping_version, updated_at,
       party_key || :tag
FROM canonical_record WHERE entity_key NOT LIKE '%#%' AND entity_type <> 'vehicle'
"""
COPY_GOLDEN = """
INSERT INTO golden_record (golden_id, entity_type, status, merged_into, body, version, created_at, updated_at)
SELECT golden_id || :gtag, entity_type, status, NULL, body, version, created_at, updated_at
FROM golden_record WHERE entity_type = 'party' AND status = 'active' AND golden_id NOT LIKE '%#%'
"""
COPY_XREF = """
INSERT INTO xref (source, entity_type, entity_key, golden_id, canonical_record_id, method, match_weight, linked_at)
SELECT x.source, x.entity_type, x.entity_key || :tag, x.golden_id || :gtag, c.id, x.method, x.match_weight, x.linked_at
FROM xref x JOIN canonical_record c
  ON c.source = x.source AND c.entity_type = x.entity_type AND c.entity_key = x.entity_key || :tag
JOIN golden_record g ON g.golden_id = x.golden_id AND g.status = 'active'
WHERE x.entity_type = 'party' AND x.entity_key NOT LIKE '%#%'
"""


def build_store(people: int, goldens: int) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    upgrade(STORE_URL)
    engine = create_store_engine(STORE_URL)
    sessions = session_factory(engine)
    registry = MappingRegistry.load()
    loader = Loader(sessions, registry, pii_key=b"bench-key", batch_size=5000)
    started = time.perf_counter()
    loader.load(to_source_record(registry[g.source], g.stream, g.payload) for g in generate(people, seed=7))
    run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    with sessions() as session:
        base = session.scalar(select(func.count()).select_from(GoldenRecordRow).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active")) or 1  # fmt: skip
    print(f"store: {people:,} people → {base:,} golden customers in {time.perf_counter() - started:.0f} s")
    copies = max(0, -(-goldens // base) - 1)
    with engine.begin() as conn:
        for n in range(1, copies + 1):
            tags = {"tag": f"#{n}", "gtag": f"#{n}"}
            conn.execute(text(COPY_CANONICAL), tags)
            conn.execute(text(COPY_GOLDEN), tags)
            conn.execute(text(COPY_XREF), tags)
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print(f"store: copied {copies}× → {base * (copies + 1):,} golden customers")


WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
local auth = os.getenv("BENCH_AUTH")
request = function()
  local headers = {}
  if auth ~= "" then headers["Authorization"] = auth end
  return wrk.format("GET", paths[math.random(#paths)], headers)
end
"""


def wrk_max(
    port: int, paths: list[str], headers: dict[str, str], connections: int, seconds: float
) -> str | None:
    """Closed-loop maximum with wrk (C, one thread: leaves the CPU to the server), if it is installed."""
    if shutil.which("wrk") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / "paths").write_text("\n".join(paths))
        (Path(folder) / "random.lua").write_text(WRK_SCRIPT)
        env = os.environ | {"BENCH_PATHS": f"{folder}/paths", "BENCH_AUTH": headers.get("Authorization", "")}
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "-s",  # noqa: S603, S607
                              f"{folder}/random.lua", f"http://127.0.0.1:{port}"], env=env, capture_output=True,
                             text=True, check=True).stdout  # fmt: skip
    return out


def wrk_rps(report: str) -> float:
    line = next(line for line in report.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split(":")[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used so far (/proc), to put a server's CPU per request beside its latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(args: list[str], port: int, probe: str, cwd: Path) -> Iterator[int]:
    env = os.environ | {"AUTOHUB_DATABASE_URL": STORE_URL, "AUTOHUB_LOG_LEVEL": "WARNING",
                        "PYTHONPATH": str(HERE.parent)}  # fmt: skip
    process = subprocess.Popen(args, cwd=cwd, env=env)  # noqa: S603 — our own servers, fixed arguments
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=1).status_code < 500:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"server {args} did not start")
            time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--goldens", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--rate", type=float, nargs="+", default=[100, 1000], help="open-loop rates (req/s)")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--reuse", action="store_true", help="keep the store of the previous run")
    parser.add_argument("--build-only", action="store_true", help="build the store and stop")
    args = parser.parse_args()
    if not args.reuse:
        build_store(args.people, args.goldens)
    if args.build_only:
        return
    engine = create_store_engine(STORE_URL)
    with session_factory(engine).begin() as session:
        ids = list(session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active")))  # fmt: skip
        _, token = api_keys.create(session, "bench", ["read"])
        xrefs = session.execute(select(XrefRow.entity_key, XrefRow.golden_id).join(
            GoldenRecordRow, GoldenRecordRow.golden_id == XrefRow.golden_id).where(
            XrefRow.source == "dms", XrefRow.entity_type == "party", GoldenRecordRow.status == "active")
            .limit(20_000)).all()  # fmt: skip
    engine.dispose()
    sample = random.Random(1).sample(ids, min(20_000, len(ids)))
    print(f"{len(ids):,} golden customers; requests pick from {len(sample):,} of them at random")
    auth = {"Authorization": f"Bearer {token}"}
    hub_port, bare_port = free_port(), free_port()
    hub_cmd = [str(Path(sys.executable).parent / "autohub"), "serve", "--port", str(hub_port)]
    bare_cmd = [sys.executable, "-m", "uvicorn", "bare_starlette:app", "--port", str(bare_port),
                "--log-level", "warning", "--no-access-log"]  # fmt: skip
    results: dict[str, float] = {}
    for name, cmd, port, prefix, headers in (
        ("bare Starlette", bare_cmd, bare_port, "/customers/", {}),
        ("hub GET /v1/customers/{id}", hub_cmd, hub_port, "/v1/customers/", auth),
    ):
        paths = [prefix + i for i in sample]
        with server(cmd, port, "/healthz" if prefix.startswith("/v1") else paths[0], HERE) as pid:
            closed_loop("127.0.0.1", port, paths[:200], headers, connections=4, seconds=3)  # warm-up
            report = wrk_max(port, paths, headers, args.connections, args.seconds)
            if report is not None:
                rps = wrk_rps(report)
                latency = [
                    line.strip() for line in report.splitlines() if line.strip().startswith(("50%", "99%"))
                ]
                print(f"{name + ' (max, wrk)':<34} {rps:8.0f} req/s   {'   '.join(latency)}")
            else:
                peak = closed_loop(
                    "127.0.0.1", port, paths, headers, connections=args.connections, seconds=args.seconds
                )
                rps = peak.rps
                print(peak.line(f"{name} (max)"))
            # the real-time bench's mix too: a source system's id looked up, then that customer's 360
            mixes = [(name, paths)] + ([("hub xref + 360", [p for k, i in xrefs for p in (
                f"/v1/xref/dms/{k}", prefix + i)])] if prefix.startswith("/v1") else [])  # fmt: skip
            for label, mix in mixes:
                for rate in args.rate:
                    used = cpu_seconds(pid)
                    load = open_loop("127.0.0.1", port, mix, headers, rate=rate, seconds=args.seconds)
                    per_request = (cpu_seconds(pid) - used) / max(1, len(load.latencies_ms)) * 1000
                    print(f"{load.line(f'{label} @ {rate:.0f}/s')}   server CPU {per_request:.2f} ms/req")
        results[name] = rps
    bare, hub = results["bare Starlette"], results["hub GET /v1/customers/{id}"]
    print(f"ratio hub/bare (max req/s): {hub / bare:.2f}  (goal ≥ 0.5)")


if __name__ == "__main__":
    main()
