"""The outbox relay against the real RabbitMQ: committed changes arrive in order after commit, rolled-back ones
never, a broker outage is survived and made good, and the CLI relays."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from outbox.relay import OutboxRelay, status
from store.engine import create_store_engine, session_factory
from store.golden import record_change
from store.tables import ChangeLogRow
from tests.outbox.broker import Broker, commit_changes

pytestmark = pytest.mark.rabbitmq


def test_committed_changes_arrive_in_order_once_and_are_marked(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    events = commit_changes(sessions, 7)
    relay = OutboxRelay(sessions, broker.config.model_copy(update={"batch_size": 3}))
    report = relay.publish_pending()
    assert (report.published, report.failed, report.remaining) == (7, 0, 0)
    got = broker.received()
    assert [p.message_id for p, _ in got] == events
    assert [b["event_id"] for _, b in got] == events
    assert [b["seq"] for _, b in got] == sorted(b["seq"] for _, b in got)
    first = got[0][1]
    assert first["golden_id"] == "P-TEST0000"
    assert first["change_type"] == "created"
    assert first["payload"] == {"version": 0}
    assert got[0][0].type == "created"
    assert got[0][0].delivery_mode == 2
    assert got[0][0].headers["seq"] == first["seq"]
    with sessions() as session:
        assert all(r.published_at is not None for r in session.scalars(select(ChangeLogRow)))
    assert relay.publish_pending().published == 0
    assert broker.received(wait_s=0.5) == []
    relay.close()


def test_a_rolled_back_transaction_publishes_nothing(sessions: sessionmaker[Session], broker: Broker) -> None:
    session = sessions()
    record_change(session, "P-ROLLEDBACK", "party", "created", {"version": 1})
    session.flush()
    session.rollback()
    session.close()
    relay = OutboxRelay(sessions, broker.config)
    assert relay.publish_pending().published == 0
    assert broker.received(wait_s=1.0) == []
    with sessions() as session:
        assert session.scalars(select(ChangeLogRow)).all() == []
    relay.close()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_broker_outage_leaves_changes_waiting_and_they_are_published_later(
    sessions: sessionmaker[Session], broker: Broker
) -> None:
    events = commit_changes(sessions, 4)
    down = broker.config.model_copy(update={"url": SecretStr(f"amqp://guest:guest@127.0.0.1:{_closed_port()}/%2F"),
                                            "connect_timeout_s": 1.0})  # fmt: skip
    failing = OutboxRelay(sessions, down)
    for _ in range(2):
        report = failing.publish_pending()
        assert (report.published, report.failed, report.remaining) == (0, 1, 4)
        assert "unreachable" in (report.error or "")
    with sessions() as session:
        now = status(session)
        first = session.scalars(select(ChangeLogRow).order_by(ChangeLogRow.seq)).first()
    assert now.unpublished == 4
    assert now.max_attempts == 2
    assert first is not None
    assert first.publish_attempts == 2
    recovered = OutboxRelay(sessions, broker.config)
    assert recovered.publish_pending().published == 4
    assert [p.message_id for p, _ in broker.received()] == events
    recovered.close()


def test_the_cli_relays_what_is_waiting(store_url: str, broker: Broker, monkeypatch: pytest.MonkeyPatch,
                                        tmp_path: Path) -> None:  # fmt: skip
    from autohub.cli import app
    from core.settings import get_settings

    engine = create_store_engine(store_url)
    events = commit_changes(session_factory(engine), 3)
    engine.dispose()
    monkeypatch.setenv("AUTOHUB_DATABASE_URL", store_url)
    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("AUTOHUB_OUTBOX__EXCHANGE", broker.config.exchange)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["outbox", "relay", "--once"])
        assert result.exit_code == 0, result.output
        assert "3 published" in result.output
        assert [p.message_id for p, _ in broker.received()] == events
        shown = CliRunner().invoke(app, ["outbox", "status"])
        assert "unpublished 0" in shown.output
    finally:
        get_settings.cache_clear()
