"""The DMS consumer against the real RabbitMQ on this machine: exactly once through crashes and drops."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pika
import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.dms_amqp import DmsAmqpConfig, DmsConsumer, connect, delete_topology, publish_events
from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from store.tables import InboxMessageRow, QuarantineRow, SourceRecordRow
from tests.conftest import PG_ADMIN_URL, _empty_postgres
from tests.connectors.dms_events import dms_events
from tests.connectors.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.rabbitmq
BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


def _events(people: int, seed: int = 11) -> tuple[list[dict[str, Any]], int]:
    """DMS events from the sample data, and how many of them carry a defect that must be dead-lettered (the
    events whose bad car or event alone is quarantined are stored, partly mapped)."""
    found = dms_events(people, seed)
    return found.events, found.dead


@pytest.fixture
def config() -> Iterator[DmsAmqpConfig]:
    suffix = uuid.uuid4().hex[:8]
    cfg = DmsAmqpConfig(url=BROKER, exchange=f"test.dms.{suffix}", queue=f"test.dms.events.{suffix}",  # type: ignore[arg-type]
                        dead_letter_exchange=f"test.dms.dlx.{suffix}", dead_letter_queue=f"test.dms.dead.{suffix}",
                        batch_size=50, batch_wait_s=0.1)  # fmt: skip
    try:
        connect(cfg).close()
    except Exception as exc:
        pytest.skip(f"RabbitMQ not reachable: {exc}")
    yield cfg
    connection = connect(cfg)
    delete_topology(connection.channel(), cfg)
    connection.close()


@pytest.fixture
def store_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    return url


def _loader(url: str) -> Loader:
    return Loader(session_factory(create_store_engine(url)), MappingRegistry.load(), pii_key=b"k")


def _count(url: str, *criteria: Any, table: Any = InboxMessageRow) -> int:
    engine = create_store_engine(url)
    with Session(engine) as session:
        value = session.scalar(select(func.count()).select_from(table).where(*criteria))
    engine.dispose()
    return int(value or 0)


def _queue_depth(cfg: DmsAmqpConfig, queue: str) -> int:
    connection = connect(cfg)
    depth = connection.channel().queue_declare(queue, passive=True).method.message_count
    connection.close()
    return int(depth)


def _publish_raw(cfg: DmsAmqpConfig, body: bytes, message_id: str) -> None:
    connection = connect(cfg)
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(cfg.exchange, "dms.D31001.lead", body,
                          pika.BasicProperties(delivery_mode=2, message_id=message_id))  # fmt: skip
    connection.close()


def test_published_equals_stored_plus_dead_lettered(config: DmsAmqpConfig, store_file: str) -> None:
    events, bad = _events(150)
    entities = dms_events(150, 11).rejected_entities  # the quarantined cars and events of stored events
    assert publish_events(config, events) == len(events)
    assert publish_events(config, events[:5]) == 5  # redelivered by an over-eager dealer system
    _publish_raw(config, b"<xml>not json</xml>", "garbage-1")
    _publish_raw(config, json.dumps({"event_type": "test_drive", "message_id": "x"}).encode(), "garbage-2")
    stats = DmsConsumer(config, _loader(store_file)).run(idle_exit_s=1.0)
    assert stats.consumed == len(events) + 5 + 2
    assert stats.duplicates == 5
    assert stats.stored == len(events) - bad
    assert stats.dead_lettered == bad + 2
    assert stats.reasons.get("not_json") == 1
    assert stats.reasons.get("unknown_event_type") == 1
    assert _queue_depth(config, config.queue) == 0
    assert _queue_depth(config, config.dead_letter_queue) == stats.dead_lettered
    assert _count(store_file, table=QuarantineRow) == stats.dead_lettered + entities
    assert _count(store_file, SourceRecordRow.source == "dms", table=SourceRecordRow) == len(events)


def test_a_consumer_killed_midway_and_restarted_stores_each_event_once(
    config: DmsAmqpConfig, store_file: str, tmp_path: Path
) -> None:
    events, _bad = _events(400, seed=12)
    publish_events(config, events)
    env = {**os.environ, "AUTOHUB_DATABASE_URL": store_file, "AUTOHUB_DMS__URL": BROKER,
           "AUTOHUB_DMS__EXCHANGE": config.exchange, "AUTOHUB_DMS__QUEUE": config.queue,
           "AUTOHUB_DMS__DEAD_LETTER_EXCHANGE": config.dead_letter_exchange,
           "AUTOHUB_DMS__DEAD_LETTER_QUEUE": config.dead_letter_queue, "AUTOHUB_DMS__BATCH_SIZE": "20"}  # fmt: skip
    worker = subprocess.Popen([sys.executable, "-m", "autohub.cli", "dms", "consume", "--idle-exit", "30"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 60
    while _count(store_file) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    taken_before_kill = _count(store_file)
    assert 100 <= taken_before_kill < len(events)
    stats = DmsConsumer(config, _loader(store_file)).run(idle_exit_s=1.5)
    assert _count(store_file) == len(events)  # every message id taken in exactly once
    assert _count(store_file, SourceRecordRow.source == "dms", table=SourceRecordRow) == len(events)
    assert stats.stored + stats.duplicates + stats.dead_lettered == stats.consumed
    assert _queue_depth(config, config.queue) == 0


def test_a_dropped_broker_connection_is_survived(config: DmsAmqpConfig, store_file: str) -> None:
    events, _ = _events(300, seed=13)
    publish_events(config, events)
    proxy = CuttableProxy(("127.0.0.1", 5672))
    through_proxy = config.model_copy(update={"url": SecretStr(f"amqp://guest:guest@127.0.0.1:{proxy.port}/%2F"),
                                              "batch_size": 20})  # fmt: skip
    consumer = DmsConsumer(through_proxy, _loader(store_file))
    runner = threading.Thread(target=consumer.run, kwargs={"idle_exit_s": 2.0})
    runner.start()
    deadline = time.monotonic() + 60
    while _count(store_file) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    proxy.cut()
    runner.join(120)
    proxy.close()
    assert not runner.is_alive()
    assert consumer.stats.reconnects >= 1
    assert _count(store_file) == len(events)
    assert _count(store_file, SourceRecordRow.source == "dms", table=SourceRecordRow) == len(events)


@pytest.mark.postgres
def test_a_store_that_drops_its_connections_under_a_batch_is_survived(
    config: DmsAmqpConfig, postgres_store_url: str
) -> None:
    """As a PostgreSQL restart does to a busy consumer: its connections die between batches (recently used, so
    not pinged) or under one. The batch is taken again, every event is stored once."""
    _empty_postgres(postgres_store_url)
    events, _ = _events(300, seed=14)
    publish_events(config, events)
    engine = create_store_engine(postgres_store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    consumer = DmsConsumer(config.model_copy(update={"batch_size": 20}), loader)
    runner = threading.Thread(target=consumer.run, kwargs={"idle_exit_s": 2.0})
    runner.start()
    deadline = time.monotonic() + 60
    while _count(postgres_store_url) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    database = postgres_store_url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        for _ in range(3):  # a few times, so that one lands under a batch or just before one
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))  # fmt: skip
            time.sleep(0.15)
    runner.join(120)
    engine.dispose()
    assert not runner.is_alive()
    assert consumer.stats.store_losses >= 1
    assert _count(postgres_store_url) == len(events)  # every message id taken in exactly once
    assert _count(postgres_store_url, SourceRecordRow.source == "dms", table=SourceRecordRow) == len(events)
    assert _queue_depth(config, config.queue) == 0


def test_a_second_declared_dealer_network_is_consumed_from_its_own_queue_under_its_own_name(
    config: DmsAmqpConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_cli: Any
) -> None:
    """`autohub dms consume --source dms_north`: its queue, its source name, read with the dms mapping."""
    import yaml

    events, bad = _events(40)
    assert publish_events(config, events) == len(events)
    monkeypatch.setenv("NORTH_BROKER_URL", config.url.get_secret_value())
    queues = {
        k: getattr(config, k) for k in ("exchange", "queue", "dead_letter_exchange", "dead_letter_queue")
    }
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": {"dms_north": {"type": "amqp", "mapping": "dms",
        "settings": {"url": {"env": "NORTH_BROKER_URL"}, **queues, "batch_size": 50, "batch_wait_s": 0.1}}}}),
        encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("AUTOHUB_SOURCES_FILE", str(sources))
    assert hub_cli("db", "upgrade").exit_code == 0
    done = hub_cli("dms", "consume", "--source", "dms_north", "--idle-exit", "1")
    assert done.exit_code == 0, done.output
    assert f"dms_north: {len(events):,} consumed" in done.output
    store = f"sqlite:///{tmp_path}/autohub.db"
    assert _count(store, SourceRecordRow.source == "dms_north", table=SourceRecordRow) == len(events)
    assert _count(store, SourceRecordRow.source == "dms", table=SourceRecordRow) == 0
    assert _queue_depth(config, config.dead_letter_queue) == bad
    wrong = hub_cli("dms", "consume", "--source", "nowhere")
    assert wrong.exit_code != 0
    assert "no source 'nowhere' is declared" in wrong.output


def test_a_steady_stream_is_committed_in_batches_no_older_than_the_max_age(
    config: DmsAmqpConfig, store_file: str
) -> None:
    """Events every 25 ms never leave the consumer idle for its 100 ms: without an age limit each would wait
    for a full batch of 500 (or the stream's end) before it is stored and queued for matching."""
    events, _ = _events(40)
    stream = events[:80]
    config = config.model_copy(update={"batch_size": 500, "batch_wait_s": 0.1, "batch_max_age_s": 0.2})
    ended: list[float] = []

    def steadily() -> Iterator[dict[str, Any]]:
        for event in stream:
            yield event
            time.sleep(0.025)
        ended.append(time.monotonic())

    publisher = threading.Thread(target=publish_events, args=(config, steadily()))
    flushes: list[tuple[float, int]] = []
    consumer = DmsConsumer(config, _loader(store_file),
                           on_progress=lambda n: flushes.append((time.monotonic(), n)))  # fmt: skip
    publisher.start()
    try:
        consumer.run(idle_exit_s=1.0)
    finally:
        publisher.join()
    assert sum(n for _, n in flushes) == len(stream)
    during = [n for at, n in flushes if at < ended[0]]
    # ~2 s of stream, a batch at least every 0.2 s of age: many commits while it still flows, none of them big
    assert len(during) >= 5, flushes
    assert max(n for _, n in flushes) <= 20, flushes
