"""Publish the change feed to RabbitMQ: exchange ``autohub.golden``, routing key ``<entity>.<change>``.

The changes are rows of ``change_log`` written in the same transaction as the golden records, so a rolled-back
transaction leaves nothing to publish and a committed one cannot lose its event. The relay reads unpublished
rows in ``seq`` order, publishes them with publisher confirms, and marks them published only after the broker
confirmed — so delivery is at least once (a crash between confirm and commit re-publishes), and each message
carries ``message_id = event_id`` for consumers to drop what they already have. Order is kept: a failure
stops the batch, and nothing after the failed change is published before it.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pika
import structlog
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from autohub.errors import SourceUnavailable
from outbox.config import OutboxConfig
from store.change_feed import as_event
from store.tables import ChangeLogRow

log = structlog.get_logger(__name__)


class BrokerUnavailable(SourceUnavailable):
    """RabbitMQ refused or dropped the connection, or did not confirm a change."""


@dataclass(frozen=True)
class RelayReport:
    published: int
    failed: int  # changes whose publish failed in this call (tried again next time)
    remaining: int  # unpublished changes left in the outbox
    error: str | None = None


@dataclass(frozen=True)
class OutboxStatus:
    unpublished: int
    oldest_unpublished: datetime | None
    max_attempts: int


def status(session: Session) -> OutboxStatus:
    c = ChangeLogRow
    count, oldest, attempts = session.execute(
        select(func.count(), func.min(c.occurred_at), func.max(c.publish_attempts)).where(
            c.published_at.is_(None)
        )
    ).one()
    return OutboxStatus(int(count), oldest, int(attempts or 0))


class OutboxRelay:
    def __init__(self, sessions: sessionmaker[Session], config: OutboxConfig) -> None:
        self.sessions, self.config = sessions, config
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        params = pika.URLParameters(self.config.url.get_secret_value())
        params.socket_timeout = params.blocked_connection_timeout = self.config.connect_timeout_s
        try:
            self._connection = pika.BlockingConnection(params)
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.config.exchange, exchange_type="topic", durable=True)
        except (AMQPError, OSError) as exc:
            self.close()
            raise BrokerUnavailable(f"RabbitMQ unreachable: {type(exc).__name__}",
                                    fix="check AUTOHUB_OUTBOX__URL and the broker; changes wait in the outbox") from exc  # fmt: skip
        self._channel = channel
        return channel

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(AMQPError):
                connection.close()

    def _publish(self, channel: BlockingChannel, row: ChangeLogRow) -> None:
        event = as_event(row)
        properties = pika.BasicProperties(
            content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent, message_id=row.event_id,
            type=row.change_type, timestamp=int(row.occurred_at.timestamp()),
            headers={"seq": row.seq, "golden_id": row.golden_id},
        )  # fmt: skip
        body = json.dumps(event, ensure_ascii=False).encode()
        # With confirms on, basic_publish returns once the broker confirmed, and raises if it nacked/returned.
        channel.basic_publish(self.config.exchange, f"{row.entity_type}.{row.change_type}", body, properties)

    def publish_pending(self, limit: int | None = None) -> RelayReport:
        """Publish unpublished changes in order, up to ``limit``; never raises for a broker failure."""
        published = failed = 0
        error: str | None = None
        wanted = limit if limit is not None else float("inf")
        while published < wanted:
            size = int(min(self.config.batch_size, wanted - published))
            with self.sessions() as session:
                rows = session.scalars(select(ChangeLogRow).where(ChangeLogRow.published_at.is_(None))
                                       .order_by(ChangeLogRow.seq).limit(size)).all()  # fmt: skip
                if not rows:
                    break
                done: list[int] = []
                try:
                    channel = self._open()
                    for row in rows:
                        self._publish(channel, row)
                        done.append(row.seq)
                except (BrokerUnavailable, AMQPError, OSError) as exc:
                    failed_seq = rows[len(done)].seq
                    session.execute(update(ChangeLogRow).where(ChangeLogRow.seq == failed_seq)
                                    .values(publish_attempts=ChangeLogRow.publish_attempts + 1))  # fmt: skip
                    error = str(exc) or type(exc).__name__
                    failed = 1
                    self.close()
                self._mark(session, done)
                session.commit()
                published += len(done)
                if error:
                    break
        with self.sessions() as session:
            remaining = status(session).unpublished
        if published or error:
            log.info("outbox relay", published=published, failed=failed, remaining=remaining, error=error)
        return RelayReport(published, failed, remaining, error)

    @staticmethod
    def _mark(session: Session, seqs: list[int]) -> None:
        now = datetime.now(UTC)
        for start in range(0, len(seqs), 1_000):
            chunk = seqs[start : start + 1_000]
            session.execute(update(ChangeLogRow).where(ChangeLogRow.seq.in_(chunk))
                            .values(published_at=now, publish_attempts=ChangeLogRow.publish_attempts + 1))  # fmt: skip

    def run_forever(self, stop: threading.Event | None = None, *, idle_exit_s: float | None = None,
                    wake: threading.Event | None = None) -> int:  # fmt: skip
        """Relay until ``stop`` is set (or nothing arrived for ``idle_exit_s``); back off while the broker is down.

        ``wake`` lets a writer in the same process say "committed just now" so the change goes out at once
        instead of at the next poll.
        """
        stop = stop or threading.Event()
        wake = wake or threading.Event()
        total, backoff, idle_since = 0, self.config.poll_interval_s, time.monotonic()
        while not stop.is_set():
            report = self.publish_pending()
            total += report.published
            if report.published:
                idle_since = time.monotonic()
            if idle_exit_s is not None and time.monotonic() - idle_since > idle_exit_s:
                break
            backoff = (
                min(backoff * 2, self.config.max_backoff_s) if report.error else self.config.poll_interval_s
            )
            if wake.wait(backoff):
                wake.clear()
        self.close()
        return total


class RelayThread:
    """The relay inside another process (the API): started and stopped with it, woken after each commit."""

    def __init__(self, relay: OutboxRelay) -> None:
        self.relay, self.stop, self.wake = relay, threading.Event(), threading.Event()
        self.thread = threading.Thread(target=self._run, name="autohub-outbox", daemon=True)

    def _run(self) -> None:
        self.relay.run_forever(self.stop, wake=self.wake)

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.wake.set()
        self.thread.join(timeout=10)
