"""A test exchange on the real RabbitMQ with a queue bound to everything published to it, and changes to send."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from outbox.config import OutboxConfig
from store.golden import record_change
from store.tables import ChangeLogRow

BROKER = "amqp://guest:guest@127.0.0.1:5672/%2F"


@dataclass
class Broker:
    config: OutboxConfig
    channel: BlockingChannel
    queue: str

    def received(self, wait_s: float = 2.0) -> list[tuple[Any, dict[str, Any]]]:
        """Everything on the test queue until it has been quiet for ``wait_s``."""
        out: list[tuple[Any, dict[str, Any]]] = []
        for method, properties, body in self.channel.consume(
            self.queue, inactivity_timeout=wait_s, auto_ack=True
        ):
            if method is None:
                break
            out.append((properties, json.loads(body)))
        self.channel.cancel()
        return out


@contextmanager
def scratch_exchange() -> Iterator[Broker]:
    config = OutboxConfig(url=BROKER, exchange=f"test.golden.{uuid.uuid4().hex[:8]}", poll_interval_s=0.1)  # type: ignore[arg-type]
    try:
        connection = pika.BlockingConnection(pika.URLParameters(BROKER))
    except Exception as exc:
        pytest.skip(f"RabbitMQ not reachable: {exc}")
    channel = connection.channel()
    channel.exchange_declare(config.exchange, exchange_type="topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, config.exchange, routing_key="#")
    yield Broker(config, channel, queue)
    channel.exchange_delete(config.exchange)
    connection.close()


def commit_changes(sessions: sessionmaker[Session], n: int) -> list[str]:
    """``n`` more committed changes, the way golden-record writers add them; every event id so far, in seq order."""
    with sessions.begin() as session:
        for i in range(n):
            record_change(
                session, f"P-TEST{i:04d}", "party", "created" if i % 2 == 0 else "updated", {"version": i}
            )
    with sessions() as session:
        return list(session.scalars(select(ChangeLogRow.event_id).order_by(ChangeLogRow.seq)))
