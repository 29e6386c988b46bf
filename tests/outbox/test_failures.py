"""How the relay fails, on the real RabbitMQ: a nack stops the batch in order, a wrong configuration is named
with its fix, an idle connection the broker dropped is replaced without a failed publish, two relays on
PostgreSQL take turns, and the long-running loop stops when asked."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from outbox.config import OutboxConfig
from outbox.relay import OutboxRelay, backoff_s
from store.engine import create_store_engine, session_factory
from store.tables import ChangeLogRow
from tests.outbox.broker import Broker, commit_changes

pytestmark = pytest.mark.rabbitmq


def _attempts(sessions: sessionmaker[Session]) -> list[tuple[bool, int]]:
    """(published?, publish_attempts) per change, in seq order."""
    with sessions() as session:
        rows = session.scalars(select(ChangeLogRow).order_by(ChangeLogRow.seq)).all()
        return [(r.published_at is not None, r.publish_attempts) for r in rows]


def test_a_nack_stops_the_batch_at_that_change_and_it_goes_out_again_first(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    # A queue that holds 3 messages and then makes the broker nack: a real refusal in the middle of a batch.
    full = broker.channel.queue_declare("", exclusive=True,
                                        arguments={"x-max-length": 3, "x-overflow": "reject-publish"})  # fmt: skip
    broker.channel.queue_bind(full.method.queue, broker.config.exchange, routing_key="#")
    events = commit_changes(sessions, 5)
    relay = OutboxRelay(sessions, broker.config)
    report = relay.publish_pending()
    assert (report.published, report.failed, report.remaining) == (3, 1, 2)
    assert "did not confirm" in (report.error or "")
    assert "seq" in (report.error or "")
    assert _attempts(sessions) == [(True, 1)] * 3 + [(False, 1), (False, 0)]  # the 5th was never tried
    broker.channel.queue_purge(full.method.queue)
    assert relay.publish_pending().published == 2
    relay.close()
    seen = [p.message_id for p, _ in broker.received()]
    # At least once: the nacked 4th reached the other queue and came again; deduped, the order is the seq order.
    assert list(dict.fromkeys(seen)) == events
    assert seen.count(events[3]) == 2


def test_an_exchange_of_another_type_is_named_with_its_fix(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    clash = f"{broker.config.exchange}.fanout"
    broker.channel.exchange_declare(clash, exchange_type="fanout")
    commit_changes(sessions, 2)
    try:
        relay = OutboxRelay(sessions, broker.config.model_copy(update={"exchange": clash}))
        report = relay.publish_pending()
    finally:
        broker.channel.exchange_delete(clash)
    assert (report.published, report.failed, report.remaining) == (0, 1, 2)
    assert clash in (report.error or "")
    assert "AUTOHUB_OUTBOX__EXCHANGE" in (report.error or "")
    assert _attempts(sessions) == [(False, 1), (False, 0)]


def test_a_refused_login_is_named_and_the_password_is_not(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    commit_changes(sessions, 1)
    wrong = SecretStr("amqp://guest:s3cret-wrong@127.0.0.1:5672/%2F")
    report = OutboxRelay(sessions, broker.config.model_copy(update={"url": wrong})).publish_pending()
    assert report.failed == 1
    assert "refused the login" in (report.error or "")
    assert "s3cret" not in (report.error or "")


def test_an_idle_connection_the_broker_dropped_costs_no_failed_publish(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    relay = OutboxRelay(sessions, broker.config.model_copy(update={"heartbeat_s": 1}))
    commit_changes(sessions, 1)
    assert relay.publish_pending().published == 1
    time.sleep(4)  # no I/O for several heartbeats: RabbitMQ closes the connection
    events = commit_changes(sessions, 3)
    report = relay.publish_pending()
    relay.close()
    assert (report.published, report.failed, report.error) == (3, 0, None)
    assert [p.message_id for p, _ in broker.received()][-3:] == events[-3:]


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_on_postgres_a_second_relay_waits_while_one_is_publishing(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    events = commit_changes(sessions, 2)
    relay = OutboxRelay(sessions, broker.config)
    with sessions() as other:  # another relay in the middle of a batch
        other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": 0x6F75_7462_6F78})
        report = relay.publish_pending()
        assert (report.published, report.failed, report.remaining, report.busy) == (0, 0, 2, True)
    assert _attempts(sessions) == [(False, 0), (False, 0)]
    assert relay.publish_pending().published == 2  # its batch ended (the lock with it): our turn
    relay.close()
    assert [p.message_id for p, _ in broker.received()] == events


def test_run_forever_publishes_what_is_committed_while_it_runs_and_stops_when_asked(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    relay = OutboxRelay(sessions, broker.config)
    stop, wake = threading.Event(), threading.Event()
    totals: list[int] = []
    runner = threading.Thread(target=lambda: totals.append(relay.run_forever(stop, wake=wake)))
    runner.start()
    events = commit_changes(sessions, 4)
    wake.set()
    got = broker.received(wait_s=2.0)
    stop.set()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert totals == [4]
    assert [p.message_id for p, _ in got] == events


@pytest.mark.parametrize("store_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_run_forever_outlives_its_store_dropping_its_connections(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    """As a PostgreSQL restart does: the relay's connections, used a moment ago (so not pinged), die under it."""
    relay = OutboxRelay(sessions, broker.config.model_copy(update={"poll_interval_s": 0.05}))
    stop, wake = threading.Event(), threading.Event()
    runner = threading.Thread(target=relay.run_forever, args=(stop,), kwargs={"wake": wake})
    runner.start()
    first = commit_changes(sessions, 2)  # every event id so far, in order
    assert [p.message_id for p, _ in broker.received(wait_s=2.0)] == first
    with sessions() as session:
        database = session.scalar(text("SELECT current_database()"))
        session.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = :d AND pid <> pg_backend_pid()"), {"d": database})  # fmt: skip
    time.sleep(0.3)  # a round or two meets the dropped connections
    later = commit_changes(sessions, 3)
    got = broker.received(wait_s=3.0)
    stop.set()
    wake.set()
    runner.join(timeout=10)
    assert not runner.is_alive()
    assert [p.message_id for p, _ in got] == later[len(first) :]
    assert _attempts(sessions) == [(True, 1)] * len(later)


def test_the_backoff_grows_to_its_cap_with_jitter() -> None:
    config = OutboxConfig(poll_interval_s=1.0, max_backoff_s=30.0)
    waits = [backoff_s(n, config) for n in range(1, 10)]
    assert 1.0 <= waits[0] <= 2.0
    assert all(15.0 <= w <= 30.0 for w in waits[5:])


def test_the_cli_says_why_the_broker_failed_and_status_shows_the_wait(
    store_url: str, broker: Broker, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from autohub.cli import app
    from core.settings import get_settings

    engine = create_store_engine(store_url)
    commit_changes(session_factory(engine), 2)
    engine.dispose()
    monkeypatch.setenv("AUTOHUB_DATABASE_URL", store_url)
    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUTOHUB_OUTBOX__EXCHANGE", broker.config.exchange)
    monkeypatch.setenv("AUTOHUB_OUTBOX__URL", "amqp://guest:guest@127.0.0.1:1/%2F")
    get_settings.cache_clear()
    try:
        failed = CliRunner().invoke(app, ["outbox", "relay", "--once"])
        assert failed.exit_code == 1
        assert "0 published · 2 waiting" in failed.output
        assert "unreachable" in failed.output
        shown = CliRunner().invoke(app, ["outbox", "status"])
        assert shown.exit_code == 0, shown.output
        assert "unpublished 2" in shown.output
        assert "s ago" in shown.output
        assert "max attempts 1" in shown.output
    finally:
        get_settings.cache_clear()
