"""A scheduler can tell a live consumer from a dead one: the consumer writes its counts and a heartbeat while it
runs, and a run whose process died is closed as abandoned. The probe found runs of killed consumers "running" with
zero counts forever, and a live consumer's counts written only when it exited."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pika
import pytest
from sqlalchemy import update

from connectors.dms_amqp import DmsAmqpConfig, DmsConsumer, connect, declare_topology, load_event_batch
from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from store.tables import SyncRun
from tests.faults.hostile import good_lead
from tests.mappings.test_policies import _repair_order

pytestmark = [pytest.mark.faults]


def _run(loader: Loader, run_id: int) -> SyncRun:
    with loader.sessions() as session:
        run = session.get(SyncRun, run_id)
        assert run is not None
        return run


def _publish(config: DmsAmqpConfig, n: int) -> None:
    connection = connect(config)
    channel = connection.channel()
    declare_topology(channel, config)
    channel.confirm_delivery()
    for i in range(n):
        channel.basic_publish(config.exchange, "dms.D31001.lead", json.dumps(good_lead(i), ensure_ascii=False).encode(),
                              pika.BasicProperties(delivery_mode=2, message_id=f"live-{i}"))  # fmt: skip
    connection.close()


@pytest.mark.rabbitmq
def test_a_live_consumer_writes_its_counts_and_a_heartbeat_while_it_runs(
    config: DmsAmqpConfig, store_url: str
) -> None:
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    consumer = DmsConsumer(config.model_copy(update={"progress_every_s": 0.2}), loader)
    thread = threading.Thread(target=consumer.run, kwargs={"idle_exit_s": 60}, daemon=True)
    thread.start()
    _publish(config, 30)
    deadline = time.monotonic() + 20
    while consumer.report is None or _run(loader, consumer.report.run_id).records_in < 30:
        assert time.monotonic() < deadline, "the running consumer's counts never reached the store"
        time.sleep(0.1)
    assert consumer.report is not None
    first = _run(loader, consumer.report.run_id)
    assert (first.status, first.records_mapped) == ("running", 30)
    time.sleep(0.6)  # idle: it still beats
    later = _run(loader, consumer.report.run_id)
    assert first.heartbeat_at is not None
    assert later.heartbeat_at is not None
    assert later.heartbeat_at > first.heartbeat_at
    consumer.stop()
    thread.join(timeout=10)
    assert _run(loader, consumer.report.run_id).status == "succeeded"
    engine.dispose()


def test_a_run_whose_process_died_is_closed_as_abandoned_with_what_it_counted(store_url: str) -> None:
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", abandoned_after_s=60)
    killed = loader.begin("dms")  # … and the process is killed with SIGKILL after its last heartbeat
    killed.records_in = killed.mapped = 7
    loader.checkpoint(killed)
    live = loader.begin("dms")  # a second consumer, beating
    erp = loader.begin("erp")
    with loader.sessions.begin() as session:
        session.execute(update(SyncRun).where(SyncRun.id.in_([killed.run_id, erp.run_id]))
                        .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)))  # fmt: skip
    restarted = loader.begin("dms")
    dead, alive, other = _run(loader, killed.run_id), _run(loader, live.run_id), _run(loader, erp.run_id)
    assert (dead.status, dead.records_in, dead.records_mapped) == ("abandoned", 7, 7)
    assert dead.error_message is not None
    assert "killed" in dead.error_message
    assert dead.finished_at is not None
    assert alive.status == "running", "a run that beats within the limit is left alone"
    assert other.status == "running", "only the starting source's runs are closed"
    assert _run(loader, restarted.run_id).status == "running"
    engine.dispose()


def _leads(first: int, n: int) -> list[tuple[str | None, bytes]]:
    return [(None, json.dumps(good_lead(i), ensure_ascii=False).encode()) for i in range(first, first + n)]


def test_an_abandoned_run_is_closed_with_the_counts_of_what_it_stored(store_url: str) -> None:
    """A consumer killed between two heartbeats had committed records its last heartbeat never counted: the run is
    closed with the counts of what the store holds under its id, not with those of its heartbeat."""
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", abandoned_after_s=60)
    killed = loader.begin("dms")
    load_event_batch(loader, killed, _leads(0, 20))
    load_event_batch(loader, killed, _leads(0, 4))  # redelivered
    loader.checkpoint(killed)  # its last heartbeat
    assert (killed.records_in, killed.unchanged, killed.mapped) == (24, 4, 20)
    # A repair order whose car has a bad VIN (its customer is kept), and a lead with a NUL in its name.
    partly = json.dumps({**_repair_order("LSGPC52U4HFO12346"), "message_id": "ro-1"})
    nul = json.dumps({**good_lead(99), "message_id": "nul"}).replace("Wei", "W\\u0000ei")
    # Committed after the heartbeat, before the process is killed: 15 new leads, 3 again, one partly mapped, one
    # quarantined as a raw record's stand-in, one unreadable (no raw record, only its quarantine entry).
    load_event_batch(loader, killed, _leads(20, 15) + _leads(0, 3) + [(None, partly.encode()), (None, nul.encode()),
                                                                      (None, b"not json")])  # fmt: skip
    assert (killed.mapped, killed.partial, killed.quarantined, killed.unchanged) == (35, 1, 2, 7)
    with loader.sessions.begin() as session:
        session.execute(update(SyncRun).where(SyncRun.id == killed.run_id)
                        .values(heartbeat_at=datetime.now(UTC) - timedelta(minutes=5)))  # fmt: skip
    loader.begin("dms")  # the restarted consumer closes it
    dead = _run(loader, killed.run_id)
    assert dead.status == "abandoned"
    assert (dead.records_mapped, dead.records_partial, dead.records_quarantined) == (35, 1, 2)
    # A record found already stored leaves no row under the run: the unchanged of the heartbeat are all it knows.
    assert dead.records_unchanged == 4
    assert dead.records_in == 4 + 35 + 1 + 2
    engine.dispose()


def test_the_feed_check_fails_on_a_consumer_that_stopped_beating() -> None:
    from jobs.config import OrchestrationConfig
    from jobs.dms_health import QueueHealth

    limits = OrchestrationConfig(dms_max_silence_s=60)
    attached = QueueHealth("q", 0, 1, "dq", 0, consumer_silent_s=3.0, store_checked=True)
    assert attached.problems(limits) == []
    stuck = QueueHealth("q", 0, 1, "dq", 0, consumer_silent_s=300.0, store_checked=True)
    assert stuck.problems(limits) == ["the DMS consumer's last heartbeat was 300 s ago (limit 60 s)"]
    assert "consumer heartbeat 300 s ago" in stuck.describe()


def test_the_feed_check_fails_on_a_matching_backlog_only_where_a_follower_is_expected() -> None:
    from jobs.config import OrchestrationConfig
    from jobs.dms_health import QueueHealth

    behind = QueueHealth("q", 0, 1, "dq", 0, consumer_silent_s=3.0, store_checked=True, match_queued=1200,
                         match_lag_s=900.0)  # fmt: skip
    assert behind.problems(OrchestrationConfig()) == []  # no follower expected: the scheduled run drains it
    assert behind.problems(OrchestrationConfig(match_max_lag_s=60)) == [
        "1,200 record(s) wait for matching, the oldest for 900 s (limit 60 s): is `autohub match follow` running?"
    ]
    assert "1,200 waiting for matching (oldest 900 s)" in behind.describe()
