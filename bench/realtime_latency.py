"""Real-time golden records (issue #16): a DMS event published to RabbitMQ → its golden customer in the hub API.

    .venv/bin/python bench/realtime_latency.py [--people 5000] [--rate 200] [--seconds 60] [--burst 100000]
        [--returning 0.3] [--followers 1] [--queue-stats empty|full] [--probe hinted|poll] [--poll-ms 20]
        [--set AUTOHUB_DMS__BATCH_SIZE=20 …] [--plot bench/figures/realtime_burst_lag.png] [--logs DIR]
    .venv/bin/python bench/realtime_latency.py --rate 50 --seconds 20 --burst 5000      # a quick look

Everything runs on this machine as it would in production, each hub part a process of its own: a scratch
PostgreSQL database (``autohub_bench_rt_<random>``, dropped at the end) holding ``--people`` generated people
through the five sources and a full matching run (``autohub match run --full``: the follower needs its key
index); ``autohub dms consume`` on a throw-away exchange and quorum queue (``bench.rt.<random>``, deleted at the
end); ``--followers`` × ``autohub match follow`` (each under its own name); ``autohub serve`` (uvicorn, one
worker). ``--set`` passes hub settings to all of them. ``--queue-stats``: the planner statistics the matching
queue runs with — ``empty`` (default) those autovacuum leaves after the full run emptied it, ``full`` those of
the queue holding the base load, kept (auto-analyze off for that table), which keeps ``match_queue.take`` to
``batch_max`` rows (bench/RESULTS.md says why that matters).

1. **Sustained** (goal: p50 ≤ 300 ms, p99 ≤ 1 s at 200 events/s): DMS events published with confirms at
   ``--rate`` for ``--seconds``; each counts as answered when ``GET /v1/xref/dms/{customer id}`` names its golden
   customer *and* ``GET /v1/customers/{golden id}`` (the 360) lists the event among its recent events — timed from
   the moment just before ``basic_publish``. A share ``--returning`` are known people (a base person's DMS
   customer typed again at another dealer: same name, mobile and gender under a new customer id, so the answer
   is a real match); the rest are the DMS events of people the store has never seen (the generator's people past
   ``--people``), whose later events reuse their dealer's customer id. Events are dated now. The probe asks the
   API from one asyncio thread over plain keep-alive sockets (``bench/loadgen.py``'s reasoning): with
   ``--probe hinted`` (default) it learns from the store every ``--poll-ms`` which waiting events are stored and
   linked (bounded index look-ups, see ``Probe``) and asks the API about those only (2 requests an event, again
   at the next tick if the API does not confirm yet); ``--probe poll`` asks the API about every waiting event
   every ``--poll-ms`` (the naive client: its load grows with the latency itself). The peer floor: a bare pika
   consumer on a queue of its own, publish → delivery at the same rate.
2. Micro-batch throughput per follower (≥ 200 records/s) is ``bench/match_incremental.py --batch 200``.
3. **Burst** (goal: 100 000 events drain): ``--burst`` events published as fast as confirms allow; every second
   the events published and stored (DMS inbox) and the matching queue (``store.match_queue.lag``: rows per
   entity type and the oldest row's age) are sampled until everything is stored and the queue is empty; the lag
   curve and CPU per process go to ``--plot`` (matplotlib). Then every published event is checked: its service
   event stored, its customer cross-referenced to an active golden record, and each returning event's record in
   its known person's golden record.

Printed: events/s, p50/p95/p99/max, where the time goes (publish → stored by the consumer [the service event's
``updated_at``] → seen linked in the store [the hinted probe's tick] → answered by the API), the matching queue,
CPU of each process (from /proc: consumer, follower(s), API, this store's PostgreSQL backends, RabbitMQ, this
process, everything else), what PostgreSQL was busy with (``pg_stat_activity`` at 5 Hz), the probe's own CPU and
requests, the followers' batches (from their logs), peak RSS of each process.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import itertools
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pika
import psycopg
from psycopg import sql
from pydantic import SecretStr

from connectors.dms_amqp import DmsAmqpConfig, connect, declare_topology, delete_topology, routing_key
from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from sample_data import DEFECTS_THAT_QUARANTINE, generate
from store import api_keys, match_queue
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
AUTOHUB = str(Path(sys.executable).parent / "autohub")
PII_KEY = "bench-realtime-pii-key-not-secret"
BEIJING = ZoneInfo("Asia/Shanghai")
CLK_TCK = os.sysconf("SC_CLK_TCK")
WARMUP_EVENTS = 20
TICK_S = 1.0  # lag sampling interval
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in the CLI's log lines

# The hinted probe's two look-ups, both along unique indexes whatever the planner's statistics say. Canonical
# records are inserted by the one consumer only (the follower updates), one transaction at a time: id order is
# commit order, so "ids past the last one seen" is what was stored since the last look.
STORED_SQL = """
SELECT id, entity_type, source, entity_key FROM canonical_record WHERE id > %s ORDER BY id LIMIT 5000
"""
READY_SQL = """
SELECT c.entity_key FROM unnest(%s::text[]) AS m(message_id)
JOIN canonical_record c ON c.source = 'dms' AND c.entity_type = 'service_event' AND c.entity_key = m.message_id
JOIN xref x ON x.source = 'dms' AND x.entity_type = 'party' AND x.entity_key = c.party_key
"""


# --- small helpers ------------------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def spread_ms(values: Sequence[float]) -> str:
    """p50/p95/p99/max of seconds, in ms."""
    if not values:
        return "(none)"
    ms = [v * 1000 for v in values]
    return (f"p50 {percentile(ms, 0.5):,.0f} ms · p95 {percentile(ms, 0.95):,.0f} ms · "
            f"p99 {percentile(ms, 0.99):,.0f} ms · max {max(ms):,.0f} ms")  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chunked(items: Sequence[str], size: int = 20_000) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


# --- the events -----------------------------------------------------------------------------------------------


@dataclass
class Sent:
    """One published event and what the probe learnt about it (times: perf_counter and epoch seconds)."""

    message_id: str
    customer_id: str
    kind: str  # returning | new customer id | known customer id
    original: str | None  # returning: the base customer id it copies
    published: float = 0.0
    wall: float = 0.0
    visible: float | None = None  # hinted probe: the tick the store first showed it linked (perf_counter)
    answered: float | None = None
    golden_id: str | None = None
    linked_at: float | None = None  # the xref link's time as the answer gave it (epoch s)
    stored_at: float | None = None  # the service event's canonical record (epoch s), read at the end


class EventSupply:
    """DMS events to publish: copies of base people's DMS customers under a new id (returning), and the
    events of people the store has never seen (new), in generation order; each dated now, a fresh message id."""

    def __init__(self, returning: list[dict[str, Any]], new: list[dict[str, Any]], share: float, seed: int):
        self.rng = random.Random(seed)
        self.returning = returning
        self.rng.shuffle(self.returning)
        self.new = new
        self.share = share
        self.next_new = self.next_returning = 0
        self.seen: set[str] = set()

    def take(self) -> tuple[dict[str, Any], Sent]:
        now = datetime.now(BEIJING).isoformat()
        if self.returning and (self.next_new >= len(self.new) or self.rng.random() < self.share):
            base = self.returning[self.next_returning % len(self.returning)]
            self.next_returning += 1
            original = str(base["customer"]["dms_customer_id"])
            customer = {
                **base["customer"],
                "dms_customer_id": f"{base['dealer_code']}-RT{self.next_returning:07d}",
            }
            event = {**base, "message_id": str(uuid.uuid4()), "occurred_at": now, "customer": customer}
            kind: str = "returning"
        else:
            if self.next_new >= len(self.new):
                raise RuntimeError("out of generated events: raise --returning or the event budget")
            event = {**self.new[self.next_new], "message_id": str(uuid.uuid4()), "occurred_at": now}
            self.next_new += 1
            original = None
            customer_id = str(event["customer"]["dms_customer_id"])
            kind = "known customer id" if customer_id in self.seen else "new customer id"
        customer_id = str(event["customer"]["dms_customer_id"])
        self.seen.add(customer_id)
        return event, Sent(str(event["message_id"]), customer_id, kind, original)


def load_base(
    url: str, people: int, late_people: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Load the first ``people`` generated people (five sources) into the store; return the clean DMS events of
    those people (to copy as returning customers) and of the ``late_people`` after them (new people)."""
    engine = create_store_engine(url)
    registry = MappingRegistry.load()
    loader = Loader(session_factory(engine), registry, pii_key=PII_KEY.encode(), batch_size=5000)
    base_dms: list[dict[str, Any]] = []
    late_dms: list[dict[str, Any]] = []

    def early() -> Iterator[Any]:
        for g in generate(people + late_people, seed):
            clean_dms = g.source == "dms" and not DEFECTS_THAT_QUARANTINE.intersection(g.defects)
            if g.person_id and int(g.person_id[1:]) > people:
                if clean_dms and g.payload.get("customer", {}).get("dms_customer_id"):
                    late_dms.append(g.payload)
                continue
            if clean_dms and g.payload.get("customer", {}).get("dms_customer_id"):
                base_dms.append(g.payload)
            yield to_source_record(registry[g.source], g.stream, g.payload)

    loader.load(early())
    engine.dispose()
    return base_dms, late_dms


# --- the hub's processes --------------------------------------------------------------------------------------


class Hub:
    """The consumer, the follower and the API as subprocesses of the ``autohub`` CLI, each logging to a file."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, IO[bytes]] = {}

    def run(self, args: list[str], timeout: float) -> str:
        """A one-shot command (``match run --full``): its output, or an error with its tail."""
        out = subprocess.run(  # noqa: S603 — our own CLI, fixed arguments
            [AUTOHUB, *args], env=self.env, cwd=self.folder, capture_output=True, timeout=timeout
        )
        if out.returncode != 0:
            text = (out.stdout + out.stderr).decode("utf-8", "replace")
            raise RuntimeError(f"autohub {' '.join(args)} failed ({out.returncode}):\n{text[-3000:]}")
        return out.stdout.decode("utf-8", "replace")

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> int:
        log = (self.folder / f"{name}.log").open("wb")
        self.logs[name] = log
        proc = subprocess.Popen(  # noqa: S603 — our own CLI, fixed arguments
            [AUTOHUB, *args],
            env=self.env | (env or {}),
            cwd=self.folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs[name] = proc
        return proc.pid

    def check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, chars: int = 3000) -> str:
        path = self.folder / f"{name}.log"
        return path.read_text("utf-8", "replace")[-chars:] if path.exists() else ""

    def peak_rss_mb(self) -> dict[str, float]:
        return {name: peak_rss_mb(proc.pid) for name, proc in self.procs.items() if proc.poll() is None}

    def stop(self) -> None:
        """SIGTERM (each stops after the batch in hand), SIGKILL after 30 s."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for log in self.logs.values():
            log.close()


def wait_for_api(port: int, hub: Hub, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hub.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the API did not answer /healthz within {timeout:.0f} s:\n{hub.tail('api')}")


def peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


# --- CPU accounting from /proc ----------------------------------------------------------------------------------


class CpuMeter:
    """CPU seconds per label since the last call: our processes by pid, the PostgreSQL backends serving our
    database (by their title), the rest of PostgreSQL, RabbitMQ, and the whole machine (``/proc/stat``).
    Per-pid deltas, so a backend that comes and goes between two calls counts from its birth."""

    def __init__(self, pids: dict[int, str], database: str) -> None:
        self.pids = pids
        self.database = f" {database} "
        self.last: dict[int, float] = {}
        self.titles: dict[int, str] = {}
        self.machine_last = self._machine()

    @staticmethod
    def _machine() -> float:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
        user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
        return (user + nice + system + irq + softirq + steal) / CLK_TCK

    def _label(self, pid: int, comm: str) -> str | None:
        if pid in self.pids:
            return self.pids[pid]
        if comm == "beam.smp":
            return "rabbitmq"
        if comm != "postgres":
            return None
        if pid not in self.titles:
            try:
                self.titles[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                return None
        return "postgres" if self.database in self.titles[pid] else "postgres (rest)"

    def delta(self) -> dict[str, float]:
        out: dict[str, float] = {}
        now: dict[int, float] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            pid = int(entry)
            try:
                raw = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            label = self._label(pid, raw[raw.index("(") + 1 : raw.rindex(")")])
            if label is None:
                continue
            rest = raw[raw.rindex(")") + 2 :].split()
            cpu = (int(rest[11]) + int(rest[12])) / CLK_TCK  # utime, stime
            now[pid] = cpu
            out[label] = out.get(label, 0.0) + cpu - self.last.get(pid, 0.0)
        self.last = now
        self.titles = {pid: title for pid, title in self.titles.items() if pid in now}
        machine = self._machine()
        out["machine"] = machine - self.machine_last
        self.machine_last = machine
        return out


# --- sampling the lag -------------------------------------------------------------------------------------------


@dataclass
class Sample:
    t: float  # perf_counter
    published: int
    stored: int  # DMS messages taken in (inbox rows)
    queued: int  # matching queue rows
    oldest_s: float
    failing: int
    cpu: dict[str, float]  # cumulative CPU seconds per label since the sampler started
    by_entity: dict[str, int] = field(default_factory=dict)  # matching queue rows per entity type


class Sampler:
    """Every ``TICK_S``: the broker's ready messages, the DMS inbox, the matching queue's lag, CPU per process."""

    def __init__(self, url: str, config: DmsAmqpConfig, pids: dict[int, str], published: Callable[[], int]):
        self.engine = create_store_engine(url)
        self.sessions = session_factory(self.engine)
        self.config = config
        self.meter = CpuMeter(pids, url.rsplit("/", 1)[1])
        self.published = published
        self.samples: list[Sample] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self.totals: dict[str, float] = {}
        self.error: BaseException | None = None

    def start(self) -> None:
        self.meter.delta()
        self.thread.start()

    def _run(self) -> None:
        from sqlalchemy import text

        try:
            while not self.stop_event.is_set():
                began = time.perf_counter()
                with self.sessions() as session:
                    lag = match_queue.lag(session)
                    stored = session.scalar(text("SELECT count(*) FROM inbox_message WHERE source = 'dms'"))
                for label, seconds in self.meter.delta().items():
                    self.totals[label] = self.totals.get(label, 0.0) + seconds
                self.samples.append(Sample(began, self.published(), int(stored or 0), lag.records,
                                           lag.oldest_seconds(), lag.failing, dict(self.totals),
                                           {k: n for k, (n, _) in lag.by_entity.items()}))  # fmt: skip
                self.stop_event.wait(max(0.0, TICK_S - (time.perf_counter() - began)))
        except BaseException as exc:  # reported by the main thread
            self.error = exc

    def latest(self) -> Sample | None:
        if self.error is not None:
            raise RuntimeError(f"the lag sampler failed: {self.error!r}") from self.error
        return self.samples[-1] if self.samples else None

    def since(self, t: float) -> list[Sample]:
        return [s for s in self.samples if s.t >= t]

    def close(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        self.engine.dispose()


class PgActivity:
    """What PostgreSQL does for this store, five times a second (``pg_stat_activity``): each active backend's
    statement (first characters) and what it waits on (none: on the CPU)."""

    SQL = """
    SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
    FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()
    """
    EVERY_S = 0.2

    def __init__(self, dsn: str, database: str) -> None:
        self.dsn, self.database = dsn, database
        self.samples: list[tuple[float, list[tuple[str, str]]]] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        with suppress(psycopg.Error), psycopg.connect(self.dsn, autocommit=True) as db:
            while not self.stop_event.wait(self.EVERY_S):
                rows = db.execute(self.SQL, (self.database,)).fetchall()
                self.samples.append((time.perf_counter(), [(str(w), str(q)) for w, q in rows]))

    def summary(self, t0: float, t1: float, top: int = 6) -> list[str]:
        """The statements busiest between t0 and t1: average active backends running each (and waiting on what)."""
        window = [rows for t, rows in self.samples if t0 <= t <= t1]
        if not window:
            return []
        counts: dict[tuple[str, str], int] = {}
        for rows in window:
            for wait, query in rows:
                counts[(query, wait)] = counts.get((query, wait), 0) + 1
        busy = sum(counts.values()) / len(window)
        lines = [
            f"PostgreSQL for this store: {busy:.2f} backends active on average ({len(window)} samples); busiest:"
        ]
        for (query, wait), n in sorted(counts.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {n / len(window):.2f} [{wait}] {query}")
        return lines

    def close(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=5)


def cpu_between(samples: list[Sample]) -> tuple[dict[str, float], float]:
    """CPU per label over the samples (cores used on average), and the seconds they span."""
    if len(samples) < 2:
        return {}, 0.0
    first, last = samples[0], samples[-1]
    seconds = last.t - first.t
    labels = set(first.cpu) | set(last.cpu)
    return {k: (last.cpu.get(k, 0.0) - first.cpu.get(k, 0.0)) / seconds for k in labels}, seconds


def queue_line(samples: list[Sample], base: Sample) -> str:
    """The matching queue at its longest (and what it held), the oldest row's age, the consumer's backlog."""
    peak = max(samples, key=lambda s: s.queued)
    held = ", ".join(f"{k} {n:,}" for k, n in sorted(peak.by_entity.items(), key=lambda kv: -kv[1]))
    backlog = max(s.published - s.stored for s in samples) - (base.published - base.stored)
    return (f"matching queue at most {peak.queued:,} rows ({held or 'empty'}) at {peak.t - base.t:,.0f} s, oldest "
            f"row {max(s.oldest_s for s in samples):,.1f} s; published but not yet stored at most {backlog:,}")  # fmt: skip


def cpu_line(cores: dict[str, float]) -> str:
    if not cores:
        return "(too short to sample)"
    named = ("consumer", "follower", "api", "postgres", "rabbitmq", "bench", "postgres (rest)")
    other = cores.get("machine", 0.0) - sum(cores.get(k, 0.0) for k in named)
    parts = [f"{k} {cores.get(k, 0.0):.2f}" for k in named]
    return f"{' · '.join(parts)} · other processes {max(other, 0.0):.2f} · machine {cores.get('machine', 0.0):.2f} of {os.cpu_count()}"


# --- the publisher ----------------------------------------------------------------------------------------------


class Publisher:
    """Persistent messages with publisher confirms, as ``connectors.dms_amqp.publish_events`` sends them; a
    connection the broker drops (another test suite's fault injection, a restart) is opened again and the
    message sent again (the hub's inbox takes a message id once)."""

    def __init__(self, config: DmsAmqpConfig, tally: list[int] | None = None) -> None:
        self.config = config
        self.tally = tally if tally is not None else [0]  # shared by the phases' publishers: events published
        self.reconnects = 0
        self._open()

    def _open(self) -> None:
        self.connection = connect(config=self.config)
        self.channel = self.connection.channel()
        declare_topology(self.channel, self.config)
        self.channel.confirm_delivery()

    def publish(self, event: dict[str, Any]) -> None:
        body = json.dumps(event, ensure_ascii=False).encode("utf-8")
        properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, content_type="application/json",
                                          message_id=str(event["message_id"]), type=str(event.get("event_type", "")))  # fmt: skip
        for attempt in range(8):
            try:
                self.channel.basic_publish(
                    self.config.exchange, routing_key(event), body, properties, mandatory=True
                )
                self.tally[0] += 1
                return
            except Exception:  # pika's connection and channel errors, or connect()'s SourceUnavailable
                if attempt == 7:
                    raise
                self.reconnects += 1
                time.sleep(min(0.2 * 2**attempt, 5.0))
                self.close()
                with suppress(Exception):  # still down: the next attempt waits longer
                    self._open()

    def close(self) -> None:
        """Idle, a blocking connection answers no heartbeats: the broker may have closed it already."""
        try:
            if self.connection.is_open:
                self.connection.close()
        except pika.exceptions.AMQPError:
            pass


def paced(total: int, rate: float) -> Iterator[float]:
    """Yield each slot's due time (perf_counter) at ``rate`` a second, sleeping until it."""
    began = time.perf_counter()
    for n in range(total):
        due = began + n / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield due


def bench_config(label: str, broker: str, tag: str) -> DmsAmqpConfig:
    suffix = f"{label}.{tag}"
    return DmsAmqpConfig(url=SecretStr(broker), exchange=f"bench.rt.{suffix}", queue=f"bench.rt.q.{suffix}",
                         dead_letter_exchange=f"bench.rt.dlx.{suffix}", dead_letter_queue=f"bench.rt.dead.{suffix}")  # fmt: skip


def drop_topology(config: DmsAmqpConfig) -> None:
    connection = connect(config)
    try:
        delete_topology(connection.channel(), config)
    finally:
        connection.close()


def bare_floor(
    broker: str, tag: str, events: list[dict[str, Any]], rate: float, seconds: float
) -> list[float]:
    """Publish → delivery latency of a bare pika consumer (ack each) at ``rate``: the broker's own floor."""
    config = bench_config("floor", broker, tag)
    publisher = Publisher(config)
    sent: dict[str, float] = {}
    latencies: list[float] = []
    done = threading.Event()

    def consume() -> None:
        while not done.is_set() or len(latencies) < len(sent):
            try:
                connection = connect(config)
                channel = connection.channel()
                channel.basic_qos(prefetch_count=config.prefetch)
                for method, properties, _ in channel.consume(config.queue, inactivity_timeout=0.5):
                    if method is None:
                        if done.is_set():
                            break
                        continue
                    latencies.append(time.perf_counter() - sent[properties.message_id])
                    channel.basic_ack(method.delivery_tag)
                channel.cancel()
                connection.close()
                return
            except Exception:  # dropped by the broker (pika's errors, connect()'s SourceUnavailable): again
                time.sleep(0.5)

    consumer = threading.Thread(target=consume, name="bare-consumer")
    consumer.start()
    try:
        for n, _ in enumerate(paced(int(rate * seconds), rate)):
            event = {**events[n % len(events)], "message_id": str(uuid.uuid4())}
            sent[event["message_id"]] = time.perf_counter()
            publisher.publish(event)
    finally:
        done.set()
        consumer.join(timeout=30)
        publisher.close()
        drop_topology(config)
    return latencies


# --- the probe: asks the API whether each event has reached its golden customer --------------------------------------


class HttpConnection:
    """HTTP/1.1 keep-alive GET on asyncio streams: status, headers, body (Content-Length bodies only)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = f"Host: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.writer.write(f"GET {path} HTTP/1.1\r\n{self.head}".encode())
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        length = int(headers.get("content-length", "0"))
        body = await self.reader.readexactly(length) if length else b""
        return int(lines[0][9:12]), headers, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


class Probe:
    """One asyncio thread that confirms, through the API, when each published event has reached its golden
    customer's 360 (``_confirm``: the xref, then the 360 listing the event).

    ``hinted`` keeps the store's side of it cheap and bounded, whatever the backlog: each tick it reads which
    service events were stored since the last tick (ids past the last one seen); a stored event
    of a customer the probe has already seen linked is asked about at once; of the others, the ``HINT_MAX``
    stored longest are looked up (service event joined to its customer's xref) — when the consumer stored more,
    the change feed moved or ``READY_EVERY_S`` passed — and those linked are asked about.
    ``poll`` asks the API about every waiting event every tick (its load grows with the backlog)."""

    HINT_MAX = 200
    READY_EVERY_S = 0.1

    def __init__(self, port: int, token: str, dsn: str, *, poll_s: float, hinted: bool, timeout_s: float,
                 earlier: set[str], connections: int = 8) -> None:  # fmt: skip
        self.port, self.token, self.dsn = port, token, dsn
        self.poll_s, self.hinted, self.timeout_s, self.connections = poll_s, hinted, timeout_s, connections
        self.loop = asyncio.new_event_loop()
        self.waiting: dict[str, Sent] = {}  # in publish order
        self.stored: dict[str, Sent] = {}  # hinted: waiting events the store holds, in the order seen stored
        self.linked_customers: set[str] = set()
        self.last_seq, self.last_ready = 0, 0.0
        self.submitted: set[str] = set()
        self.earlier = earlier  # message ids of the phases before this probe's (skipped)
        self.in_flight: set[str] = set()
        self.answered: list[Sent] = []
        self.timed_out: list[Sent] = []
        self.requests = 0
        self.queries = 0
        self.query_s = 0.0  # wall time of the store look-ups
        self.confirm_s: list[float] = []  # the two requests of each successful confirmation
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self.closing = False
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._thread, name="probe", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, sent: Sent) -> None:
        self.loop.call_soon_threadsafe(self._accept, sent)

    def _accept(self, sent: Sent) -> None:
        self.waiting[sent.message_id] = sent
        self.submitted.add(sent.message_id)

    def finish(self) -> None:
        """Wait until every submitted event is answered or timed out, then stop the thread."""
        self.loop.call_soon_threadsafe(setattr, self, "closing", True)
        self.thread.join()
        if self.error is not None:
            raise RuntimeError(f"the probe failed: {self.error!r}") from self.error

    def _thread(self) -> None:
        began, cpu = time.perf_counter(), time.thread_time()
        try:
            self.loop.run_until_complete(self._main())
        except BaseException as exc:  # reported by finish()
            self.error = exc
        finally:
            self.cpu_s = time.thread_time() - cpu
            self.wall_s = time.perf_counter() - began
            self.loop.close()

    async def _main(self) -> None:
        pool: asyncio.Queue[HttpConnection] = asyncio.Queue()
        for _ in range(self.connections):
            pool.put_nowait(HttpConnection(self.port, self.token))
        db = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True) if self.hinted else None
        if db is not None:  # index look-ups per event, never a scan of every service event the store holds
            await db.execute("SET enable_hashjoin = off")
            await db.execute("SET enable_mergejoin = off")
        watermark = 0
        if db is not None:
            cursor = await db.execute("SELECT coalesce(max(id), 0) FROM canonical_record")
            watermark = int((await cursor.fetchone() or (0,))[0])
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not (self.closing and not self.waiting):
                tick = time.perf_counter()
                self._expire(tick)
                if db is None:
                    ask = [s for m, s in self.waiting.items() if m not in self.in_flight]
                else:
                    ask, watermark = await self._hints(db, watermark)
                for sent in ask:
                    self.in_flight.add(sent.message_id)
                    task = asyncio.create_task(self._confirm(pool, sent))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                await asyncio.sleep(max(0.0, self.poll_s - (time.perf_counter() - tick)))
            if tasks:
                await asyncio.gather(*tasks)
        finally:
            if db is not None:
                await db.close()
            while not pool.empty():
                pool.get_nowait().close()

    def _expire(self, now: float) -> None:
        """Events older than ``timeout_s`` are given up (the oldest are first in publish order)."""
        for message_id, sent in list(itertools.islice(self.waiting.items(), 1000)):
            if now - sent.published <= self.timeout_s:
                return
            if message_id not in self.in_flight:
                self.timed_out.append(self.waiting.pop(message_id))
                self.stored.pop(message_id, None)

    async def _hints(self, db: psycopg.AsyncConnection[Any], watermark: int) -> tuple[list[Sent], int]:
        """The waiting events worth asking the API about now; the last stored id taken in."""
        began = time.perf_counter()
        cursor = await db.execute(STORED_SQL, (watermark,))
        fresh: list[Sent] = []
        for record_id, entity_type, source, message_id in await cursor.fetchall():
            if entity_type != "service_event" or source != "dms":
                watermark = record_id
                continue
            if message_id not in self.submitted and message_id not in self.earlier:
                break  # published, not yet handed over to the probe: look again next tick
            watermark = record_id
            sent = self.waiting.get(message_id)  # None: given up already
            if sent is not None and message_id not in self.stored:
                self.stored[message_id] = sent
                fresh.append(sent)
        cursor = await db.execute("SELECT coalesce(max(seq), 0) FROM change_log")
        seq = int((await cursor.fetchone() or (0,))[0])
        seen = time.perf_counter()
        ask = [s for s in fresh if s.customer_id in self.linked_customers]
        direct = {s.message_id for s in ask}
        look = [m for m in itertools.islice(self.stored, self.HINT_MAX + len(direct))
                if m not in self.in_flight and m not in direct][: self.HINT_MAX]  # fmt: skip
        # The follower's commits nearly always write the change feed; a record joining a golden record whose
        # body stays the same writes none, so look anyway every READY_EVERY_S.
        if look and (fresh or seq != self.last_seq or seen - self.last_ready >= self.READY_EVERY_S):
            self.last_seq, self.last_ready = seq, seen
            cursor = await db.execute(READY_SQL, (look,))
            ready = [self.stored[row[0]] for row in await cursor.fetchall()]
            seen = time.perf_counter()
            ask += ready
            self.queries += 1
        self.queries += 2
        self.query_s += seen - began
        for sent in ask:
            sent.visible = sent.visible or seen
        return ask, watermark

    async def _confirm(self, pool: asyncio.Queue[HttpConnection], sent: Sent) -> None:
        conn = await pool.get()
        try:
            began = time.perf_counter()
            status, _, body = await conn.get(f"/v1/xref/dms/{quote(sent.customer_id, safe='')}")
            self.requests += 1
            if status != 200:
                return
            link = next(x for x in json.loads(body)["links"] if x["entity_type"] == "party")
            path = f"/v1/customers/{link['golden_id']}"
            for _ in range(5):  # a golden id merged away answers 308 to its survivor
                status, headers, body = await conn.get(path)
                self.requests += 1
                if status != 308:
                    break
                path = headers["location"]
            if status != 200:
                return
            view = json.loads(body)
            if any(e["source"] == "dms" and e["source_id"] == sent.message_id for e in view["recent_events"]):
                sent.answered = time.perf_counter()
                sent.golden_id = view["golden_id"]
                sent.linked_at = datetime.fromisoformat(link["linked_at"]).timestamp()
                self.confirm_s.append(sent.answered - began)
                self.linked_customers.add(sent.customer_id)
                self.stored.pop(sent.message_id, None)
                if self.waiting.pop(sent.message_id, None) is not None:
                    self.answered.append(sent)
        except (OSError, asyncio.IncompleteReadError):
            conn.close()
            conn = HttpConnection(self.port, self.token)
        finally:
            self.in_flight.discard(sent.message_id)
            pool.put_nowait(conn)


# --- the phases ---------------------------------------------------------------------------------------------------


def publish_paced(publisher: Publisher, supply: EventSupply, probe: Probe, total: int, rate: float,
                  hub: Hub, log: list[Sent]) -> tuple[float, float]:  # fmt: skip
    """Publish ``total`` events at ``rate``; return (seconds taken, the most a publish fell behind its slot)."""
    behind, began = 0.0, time.perf_counter()
    for n, due in enumerate(paced(total, rate)):
        event, sent = supply.take()
        sent.published, sent.wall = time.perf_counter(), time.time()
        publisher.publish(event)
        probe.submit(sent)
        log.append(sent)
        behind = max(behind, sent.published - due)
        if n % 200 == 0:
            hub.check_alive()
    return time.perf_counter() - began, behind


def read_stored_times(dsn: str, sent: list[Sent]) -> None:
    """The service event's ``updated_at`` (the consumer's batch, just before its commit) for each event."""
    by_id = {s.message_id: s for s in sent}
    with psycopg.connect(dsn) as db:
        for part in chunked(list(by_id)):
            for key, updated in db.execute(
                "SELECT entity_key, updated_at FROM canonical_record WHERE source = 'dms' "
                "AND entity_type = 'service_event' AND entity_key = ANY(%s)", (part,)
            ):  # fmt: skip
                by_id[key].stored_at = updated.timestamp()


@dataclass
class Audit:
    published: int = 0
    stored: int = 0
    linked: int = 0
    missing: list[str] = field(default_factory=list)
    quarantined: dict[str, int] = field(default_factory=dict)
    returning: int = 0
    returning_joined: int = 0


def audit(dsn: str, sent: list[Sent]) -> Audit:
    """Did every published event reach a golden record? Its service event stored, its customer cross-referenced
    to an active golden record (merged ones followed); a returning one in its known person's golden record."""
    result = Audit(published=len(sent))
    customers = sorted({s.customer_id for s in sent} | {s.original for s in sent if s.original})
    stored: set[str] = set()
    golden_of: dict[str, str] = {}
    status: dict[str, str] = {}
    merged_into: dict[str, str | None] = {}
    with psycopg.connect(dsn) as db:
        for part in chunked([s.message_id for s in sent]):
            stored.update(r[0] for r in db.execute(
                "SELECT entity_key FROM canonical_record WHERE source = 'dms' AND entity_type = 'service_event' "
                "AND entity_key = ANY(%s)", (part,)))  # fmt: skip
        for part in chunked(customers):
            golden_of.update((r[0], r[1]) for r in db.execute(
                "SELECT entity_key, golden_id FROM xref WHERE source = 'dms' AND entity_type = 'party' "
                "AND entity_key = ANY(%s)", (part,)))  # fmt: skip
        wanted = set(golden_of.values())
        while wanted:  # the golden records, and the survivors of those merged away
            for part in chunked(sorted(wanted)):
                for gid, state, into in db.execute(
                    "SELECT golden_id, status, merged_into FROM golden_record WHERE golden_id = ANY(%s)", (part,)
                ):  # fmt: skip
                    status[gid], merged_into[gid] = state, into
            wanted = {into for into in merged_into.values() if into and into not in status}
        missing = [s.message_id for s in sent if s.message_id not in stored]
        for part in chunked(missing):
            for reason, count in db.execute(
                "SELECT reason, count(*) FROM quarantine WHERE source = 'dms' AND source_id = ANY(%s) "
                "GROUP BY reason", (part,)
            ):  # fmt: skip
                result.quarantined[str(reason)] = result.quarantined.get(str(reason), 0) + int(count)

    def survivor(gid: str | None) -> str | None:
        for _ in range(20):
            if gid is None or not merged_into.get(gid):
                return gid
            gid = merged_into[gid]
        return gid

    for s in sent:
        gid = survivor(golden_of.get(s.customer_id))
        ok_stored = s.message_id in stored
        ok_linked = gid is not None and status.get(gid) in ("active", "restricted")
        result.stored += ok_stored
        result.linked += ok_linked
        if not (ok_stored and ok_linked):
            result.missing.append(s.message_id)
        if s.original:
            result.returning += 1
            result.returning_joined += gid is not None and gid == survivor(golden_of.get(s.original))
    return result


def plot_burst(samples: list[Sample], base: Sample, path: Path, burst: int, title: str) -> bool:
    """The lag curve: what waits where, the oldest queued row's age, CPU per process — one point a second."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed, so no plot: it is in the dev extra (make install)")
        return False
    xs = [s.t - base.t for s in samples]
    fig, (top, mid, low) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    top.plot(xs, [s.published - base.published for s in samples], label="published", color="tab:gray")
    top.plot(xs, [s.stored - base.stored for s in samples], label="stored by the consumer", color="tab:blue")
    top.plot(xs, [s.published - s.stored - (base.published - base.stored) for s in samples],
             label="published, not yet stored (RabbitMQ + consumer)", color="tab:orange")  # fmt: skip
    top.plot(xs, [s.queued for s in samples], label="matching queue rows (follower's lag)", color="tab:red")
    top.set_ylabel("events / queue rows")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(title, fontsize=10)
    mid.plot(xs, [s.oldest_s for s in samples], color="tab:red", label="oldest matching-queue row")
    mid.set_ylabel("lag (s)")
    mid.legend(loc="upper left", fontsize=8)
    for label, color in (("consumer", "tab:blue"), ("follower", "tab:red"), ("api", "tab:green"),
                         ("postgres", "tab:purple"), ("postgres (rest)", "tab:pink"), ("rabbitmq", "tab:orange"),
                         ("machine", "black")):  # fmt: skip
        cores = [(b.cpu.get(label, 0.0) - a.cpu.get(label, 0.0)) / (b.t - a.t)
                 for a, b in itertools.pairwise([base, *samples])]  # fmt: skip
        low.plot(xs, cores, label=label, color=color, linewidth=1.4 if label == "machine" else 0.9)
    named = ("consumer", "follower", "api", "postgres", "postgres (rest)", "rabbitmq", "bench")
    rest = [(b.cpu.get("machine", 0.0) - a.cpu.get("machine", 0.0) - sum(b.cpu.get(k, 0.0) - a.cpu.get(k, 0.0) for k in named))
            / (b.t - a.t) for a, b in itertools.pairwise([base, *samples])]  # fmt: skip
    low.plot(xs, rest, label="other processes", color="tab:gray", linestyle="--", linewidth=0.9)
    low.set_ylabel("CPU (cores)")
    low.set_xlabel(f"seconds since the burst of {burst:,} events began")
    low.legend(loc="upper right", fontsize=8, ncol=4)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def follower_summary(logs: list[str]) -> str | None:
    """What the followers did, from their logs: the totals each logs as it stops, and the party matching's share
    (each micro-batch logs "incremental party matching finished … records= seconds=")."""
    t: dict[str, float] = {}
    party_s = parties = largest = 0.0
    for text in logs:
        lines = [ANSI.sub("", line) for line in text.splitlines()]
        stopped = [line for line in lines if "matching follower stopped" in line]
        if not stopped:
            continue
        for k, v in re.findall(r"(\w+)=([\d.]+)", stopped[-1]):
            t[k] = t.get(k, 0.0) + float(v)
        largest = max(
            largest, float(dict(re.findall(r"(\w+)=([\d.]+)", stopped[-1])).get("largest_batch", 0))
        )
        for line in lines:
            if "incremental party matching finished" in line:
                fields = dict(re.findall(r"(\w+)=([\d.]+)", line))
                party_s += float(fields.get("seconds", 0))
                parties += int(fields.get("records", 0))
    if not t.get("batches"):
        return None
    busy = max(t["seconds"], 1e-9)
    who = f"{len(logs)} followers" if len(logs) > 1 else "follower"
    return (f"{who}: {t['records']:,.0f} queue rows in {t['batches']:,.0f} batches (mean "
            f"{t['records'] / t['batches']:,.0f} rows, largest {largest:,.0f}; {busy / t['batches']:.2f} s a batch), "
            f"busy {busy:,.0f} s = {t['records'] / busy:,.0f} rows/s while busy; party matching {party_s:,.0f} s "
            f"({parties:,.0f} parties, {party_s / max(parties, 1) * 1000:.1f} ms each), the rest {busy - party_s:,.0f} s "
            f"({t['vehicles']:,.0f} golden vehicles rebuilt, queue claims and deletes)")  # fmt: skip


@dataclass
class Run:
    """What the phases share: the settings, the store, the hub's processes, the queue, the sampler."""

    args: argparse.Namespace
    url: str
    hub: Hub
    supply: EventSupply
    config: DmsAmqpConfig
    tally: list[int]  # events published so far, all phases
    sampler: Sampler
    activity: PgActivity
    port: int
    token: str
    sent: list[Sent] = field(default_factory=list)
    publisher_reconnects: int = 0

    @contextmanager
    def publisher(self) -> Iterator[Publisher]:
        """A connection per phase: one left idle between phases answers no heartbeats and is dropped."""
        publisher = Publisher(self.config, self.tally)
        try:
            yield publisher
        finally:
            publisher.close()
            self.publisher_reconnects += publisher.reconnects

    def probe(self) -> Probe:
        probe = Probe(self.port, self.token, self.url, poll_s=self.args.poll_ms / 1000,
                      hinted=self.args.probe == "hinted", timeout_s=self.args.timeout,
                      earlier={s.message_id for s in self.sent})  # fmt: skip
        probe.start()
        return probe

    def warm_up(self) -> None:
        """The follower compiles its scorer, the API fills its pools: events answered, not counted."""
        probe = self.probe()
        with self.publisher() as publisher:
            publish_paced(publisher, self.supply, probe, WARMUP_EVENTS, 10, self.hub, self.sent)
        probe.finish()
        took = [s.answered - s.published for s in probe.answered if s.answered]
        print(f"warm-up: {len(took)}/{WARMUP_EVENTS} answered, {spread_ms(took)}")

    def sustained(self, floor: list[float]) -> None:
        args = self.args
        probe = self.probe()
        window: list[Sent] = []
        t_start = time.perf_counter()
        with self.publisher() as publisher:
            took, behind = publish_paced(publisher, self.supply, probe, int(args.rate * args.seconds), args.rate,
                                         self.hub, window)  # fmt: skip
        t_end = time.perf_counter()
        probe.finish()
        t_done = time.perf_counter()
        self.sent += window
        read_stored_times(self.url, window)
        answered = [s for s in window if s.answered is not None]
        latency = [s.answered - s.published for s in answered if s.answered is not None]
        in_window = [s for s in self.sampler.samples if t_start <= s.t <= t_end + TICK_S]
        cores, _ = cpu_between(in_window)
        print(f"\nsustained: {len(window):,} events in {took:.1f} s = {len(window) / took:,.1f} events/s (a publish "
              f"fell behind its slot by at most {behind * 1000:,.0f} ms); "
              f"{sum(s.kind == 'returning' for s in window):,} returning")  # fmt: skip
        print(f"  publish → xref + 360 answer ({len(answered):,} of {len(window):,} answered, "
              f"{len(probe.timed_out):,} not within {args.timeout:.0f} s): {spread_ms(latency)}")  # fmt: skip
        for kind in ("returning", "new customer id", "known customer id"):
            of_kind = [s.answered - s.published for s in answered if s.kind == kind and s.answered]
            print(f"    {kind:<18} {len(of_kind):6,}  {spread_ms(of_kind)}")
        if floor and latency:
            print(f"  bare pika publish → delivery: p50 {percentile(floor, 0.5) * 1000:.1f} ms, p99 "
                  f"{percentile(floor, 0.99) * 1000:.1f} ms; hub/bare {percentile(latency, 0.5) / percentile(floor, 0.5):,.0f}× "
                  f"at p50, {percentile(latency, 0.99) / percentile(floor, 0.99):,.0f}× at p99")  # fmt: skip
        self._where_the_time_goes(answered)
        if in_window:
            print(f"  queues in the window: {queue_line(in_window, in_window[0])}")
        print(f"  CPU (cores): {cpu_line(cores)}")
        for line in self.activity.summary(t_start, t_done):
            print(f"  {line}")
        print(f"  probe ({args.probe}, every {args.poll_ms:.0f} ms): {probe.requests:,} requests = "
              f"{probe.requests / probe.wall_s:,.0f} req/s, {probe.cpu_s:.1f} s CPU in {probe.wall_s:.0f} s "
              f"({probe.cpu_s / probe.wall_s * 100:.0f} % of a core), {probe.queries:,} store look-ups taking "
              f"{probe.query_s:.1f} s; xref + 360 round trip {spread_ms(probe.confirm_s)}")  # fmt: skip

    @staticmethod
    def _where_the_time_goes(answered: list[Sent]) -> None:
        """Per stage, from the store's clock (same machine): publish → stored (the consumer's batch) → visible
        linked (the hinted probe's tick that first saw the follower's commit) → answered by the API."""
        print("  where the time goes:")
        for kind in ("returning", "new customer id", "known customer id"):
            of_kind = [s for s in answered if s.kind == kind and s.stored_at and s.answered]
            consumer = [s.stored_at - s.wall for s in of_kind if s.stored_at]
            print(f"    {kind}: publish → stored by the consumer  {spread_ms(consumer)}")
            seen = [s for s in of_kind if s.visible and s.stored_at and s.answered]
            if seen:
                linked = [
                    s.wall + (s.visible - s.published) - s.stored_at
                    for s in seen
                    if s.visible and s.stored_at
                ]
                api = [s.answered - s.visible for s in seen if s.answered and s.visible]
                print(f"    {' ' * len(kind)}  stored → seen linked in the store  {spread_ms(linked)}")
                print(f"    {' ' * len(kind)}  seen → answered by the API         {spread_ms(api)}")

    def burst(self) -> None:
        args = self.args
        base = self.sampler.latest() or Sample(time.perf_counter(), 0, 0, 0, 0.0, 0, {})
        errors: list[BaseException] = []
        burst: list[Sent] = []

        def blast() -> None:
            try:
                with self.publisher() as publisher:
                    for _ in range(args.burst):
                        event, sent = self.supply.take()
                        sent.published, sent.wall = time.perf_counter(), time.time()
                        publisher.publish(event)
                        burst.append(sent)
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)

        t0 = time.perf_counter()
        thread = threading.Thread(target=blast, name="burst")
        thread.start()
        published_s = stored_s = drained_s = math.nan
        stuck_since: float | None = None
        try:
            while True:
                time.sleep(TICK_S)
                self.hub.check_alive()
                if errors:
                    raise RuntimeError(f"the burst's publisher failed: {errors[0]!r}") from errors[0]
                now = self.sampler.latest()
                if now is None or now.t < t0:
                    continue
                elapsed = now.t - t0
                if not thread.is_alive() and math.isnan(published_s):
                    published_s = time.perf_counter() - t0
                if math.isnan(stored_s) and now.stored - base.stored >= args.burst:
                    stored_s = elapsed
                # Drained: all stored and nothing queued, or only rows the follower keeps failing on (parked).
                if not math.isnan(stored_s) and now.queued == now.failing:
                    stuck_since = stuck_since or now.t
                    if now.queued == 0 or now.t - stuck_since > 10:
                        drained_s = elapsed
                        break
                else:
                    stuck_since = None
                if elapsed > args.burst_timeout:
                    print(f"\nburst: not drained after {args.burst_timeout:,.0f} s — stopped waiting")
                    break
        finally:
            thread.join()
            self.sent += burst
        curve = [s for s in self.sampler.samples if s.t >= t0]
        cores, _ = cpu_between([base, *curve])
        print(f"\nburst: {args.burst:,} events published in {published_s:.1f} s "
              f"({args.burst / published_s:,.0f} events/s with confirms)")  # fmt: skip
        print(f"  all stored by the consumer after {stored_s:,.1f} s ({args.burst / stored_s:,.0f} events/s); "
              f"matching queue drained after {drained_s:,.1f} s ({args.burst / drained_s:,.0f} events/s end to end)")  # fmt: skip
        print(
            f"  peak lag: {queue_line(curve, base)}"
            + (f"; {curve[-1].failing:,} rows failing" if curve[-1].failing else "")
        )
        print(f"  CPU (cores): {cpu_line(cores)}")
        for line in self.activity.summary(t0, time.perf_counter()):
            print(f"  {line}")
        title = (f"burst of {args.burst:,} DMS events · base {args.people:,} people · {os.cpu_count()} cores · "
                 f"{args.followers} follower(s) · queue stats {args.queue_stats} · {' '.join(args.set) or 'defaults'}")  # fmt: skip
        if plot_burst(curve, base, args.plot, args.burst, title):
            print(f"  lag curve → {args.plot}")

    def audit(self) -> None:
        result = audit(self.url, self.sent)
        print(f"\nevery event ({result.published:,} published): service event stored {result.stored:,}, customer "
              f"linked to a golden record {result.linked:,}; missing {len(result.missing):,}"
              + (f" (quarantined: {result.quarantined})" if result.quarantined else ""))  # fmt: skip
        if result.missing:
            with psycopg.connect(self.url) as db:
                queued = int((db.execute("SELECT count(*) FROM match_queue").fetchone() or (0,))[0])
            print(f"  first missing message ids: {', '.join(result.missing[:5])}"
                  + (f"; the matching queue still holds {queued:,} rows (not drained): those may be waiting, not lost"
                     if queued else ""))  # fmt: skip
        print(f"  returning events whose record joined their known person's golden record: "
              f"{result.returning_joined:,} of {result.returning:,}")  # fmt: skip


def prepare_store(args: argparse.Namespace, url: str, late_people: int, hub: Hub) -> EventSupply:
    """Base people through the five sources, then the full matching run the follower needs."""
    started = time.perf_counter()
    base_dms, late_dms = load_base(url, args.people, late_people, args.seed)
    loaded = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as db:
        if args.queue_stats == "full":  # statistics of a queue holding the base load's rows, kept
            db.execute("ANALYZE match_queue")
            db.execute("ALTER TABLE match_queue SET (autovacuum_analyze_threshold = 2000000000)")
        summary = hub.run(["match", "run", "--full"], timeout=3600)
        # The planner's view of the loaded store, as autovacuum gives it soon after a load; with "empty" that
        # includes the matching queue the full run has just emptied.
        db.execute(
            "ANALYZE" if args.queue_stats == "empty" else "ANALYZE canonical_record, xref, golden_record"
        )
    print(f"store: {args.people:,} people loaded in {loaded:.0f} s, full match in "
          f"{time.perf_counter() - started - loaded:.0f} s; {len(base_dms):,} DMS events of known people to copy, "
          f"{len(late_dms):,} events of {late_people:,} new people")  # fmt: skip
    for line in summary.strip().splitlines()[-2:]:
        print(f"  {ANSI.sub('', line).strip()[:240]}")
    return EventSupply(base_dms, late_dms, args.returning, args.seed)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=5000, help="base population loaded and matched first")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rate", type=float, default=200, help="sustained events/s")
    parser.add_argument("--seconds", type=float, default=60, help="sustained phase (0: none)")
    parser.add_argument("--burst", type=int, default=100_000, help="burst events (0: none)")
    parser.add_argument(
        "--burst-timeout", type=float, default=1800, help="stop waiting for the drain after this"
    )
    parser.add_argument("--returning", type=float, default=0.3, help="share of events for known people")
    parser.add_argument("--probe", choices=("hinted", "poll"), default="hinted")
    parser.add_argument("--poll-ms", type=float, default=20)
    parser.add_argument("--timeout", type=float, default=600, help="an event unanswered this long is lost")
    parser.add_argument("--floor-seconds", type=float, default=20, help="bare pika floor (0: none)")
    parser.add_argument("--set", action="append", default=[], metavar="AUTOHUB_…=V",
                        help="a hub setting for the consumer, follower and API (repeat)")  # fmt: skip
    parser.add_argument("--followers", type=int, default=1, help="matching followers (each its own name)")
    parser.add_argument("--queue-stats", choices=("empty", "full"), default="empty",
                        help="the planner statistics match_queue runs with: of the emptied queue, as autovacuum "
                        "leaves them (default), or of a full queue, kept (see RESULTS.md: take() and its plan)")  # fmt: skip
    parser.add_argument("--plot", type=Path, default=HERE / "figures" / "realtime_burst_lag.png")
    parser.add_argument("--logs", type=Path, help="keep the processes' logs in this folder")
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432", help="server, no database")
    parser.add_argument("--keep", action="store_true",
                        help="leave the scratch database for a look afterwards (EXPLAIN …); drop it yourself")  # fmt: skip
    args = parser.parse_args()
    if args.burst > 0 and importlib.util.find_spec("matplotlib") is None:
        print(
            "matplotlib is not installed: the burst's lag curve will not be drawn (it is in the dev extra: make install)"
        )

    tag = uuid.uuid4().hex[:8]
    database = f"autohub_bench_rt_{tag}"
    url = f"{args.pg}/{database}"
    config = bench_config("hub", args.broker, tag)
    budget = WARMUP_EVENTS + int(args.rate * args.seconds) + args.burst
    late_people = math.ceil(budget * (1 - args.returning) * 1.15 / 4.5) + 50  # ≈ 5 clean DMS events a person
    print(f"run {tag}: database {database}, queue {config.queue}; {args.followers} follower(s), queue stats "
          f"{args.queue_stats}, settings: {' '.join(args.set) or 'defaults'}")  # fmt: skip

    with ExitStack() as cleanup:
        with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        if args.keep:
            print(f"the database {database} is kept (--keep): DROP DATABASE {database} when done")
        else:
            cleanup.callback(drop_database, args.pg, database)
        folder = args.logs or Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="autohub-rt-")))
        folder.mkdir(parents=True, exist_ok=True)
        upgrade(url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTOHUB_")} | {
            "AUTOHUB_DATABASE_URL": url, "AUTOHUB_PII_HASH_KEY": PII_KEY, "AUTOHUB_DATA_DIR": str(folder),
            "AUTOHUB_LOG_LEVEL": "INFO", "AUTOHUB_DMS__URL": args.broker, "AUTOHUB_DMS__EXCHANGE": config.exchange,
            "AUTOHUB_DMS__QUEUE": config.queue, "AUTOHUB_DMS__DEAD_LETTER_EXCHANGE": config.dead_letter_exchange,
            "AUTOHUB_DMS__DEAD_LETTER_QUEUE": config.dead_letter_queue, "PYTHONPATH": str(ROOT),
        } | dict(item.split("=", 1) for item in args.set)  # fmt: skip
        hub = Hub(env, folder)
        supply = prepare_store(args, url, late_people, hub)
        engine = create_store_engine(url)
        with session_factory(engine).begin() as session:
            _, token = api_keys.create(session, "bench-realtime", ["read"])
        engine.dispose()

        floor: list[float] = []
        if args.floor_seconds > 0 and args.seconds > 0:
            floor = bare_floor(args.broker, tag, supply.new[:5000] or supply.returning[:5000], args.rate,
                               args.floor_seconds)  # fmt: skip
            print(f"bare pika publish → delivery at {args.rate:.0f}/s for {args.floor_seconds:.0f} s "
                  f"({len(floor):,} messages): {spread_ms(floor)}")  # fmt: skip

        Publisher(config).close()  # declares the topology before the consumer starts
        cleanup.callback(drop_topology, config)
        port = free_port()
        cleanup.callback(hub.stop)
        followers = (
            ["follower"] if args.followers == 1 else [f"follower{n + 1}" for n in range(args.followers)]
        )
        pids = {
            hub.start("consumer", ["dms", "consume"]): "consumer",
            **{
                hub.start(
                    name, ["match", "follow"], {"AUTOHUB_MATCHING__FOLLOW__NAME": f"bench-rt-{name}"}
                ): "follower"
                for name in followers
            },
            hub.start("api", ["serve", "--port", str(port)]): "api",
            os.getpid(): "bench",
        }
        wait_for_api(port, hub)
        tally = [0]
        sampler = Sampler(url, config, pids, lambda: tally[0])
        sampler.start()
        cleanup.callback(sampler.close)
        activity = PgActivity(url, database)
        activity.start()
        cleanup.callback(activity.close)
        run = Run(args, url, hub, supply, config, tally, sampler, activity, port, token)
        run.warm_up()
        if args.seconds > 0:
            run.sustained(floor)
        if args.burst > 0:
            run.burst()
        rss = {**hub.peak_rss_mb(), "bench": peak_rss_mb(os.getpid())}
        run.audit()
        hub.stop()  # the follower logs its totals as it stops
        summary = follower_summary([hub.tail(name, 50_000_000) for name in followers])
        if summary:
            print(summary)
        drops = hub.tail("consumer", 50_000_000).count("broker connection lost")
        if drops or run.publisher_reconnects:
            print(f"the broker dropped connections during the run: the consumer reconnected {drops} times, the "
                  f"publisher {run.publisher_reconnects} (another process's fault injection?): figures disturbed")  # fmt: skip
        print("peak RSS: " + " · ".join(f"{k} {v:,.0f} MB" for k, v in rss.items()))


def drop_database(server: str, database: str) -> None:
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


if __name__ == "__main__":
    main()
