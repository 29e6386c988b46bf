"""One confirmed publish at a time on one long-lived RabbitMQ connection, with pika's errors sorted by kind.

pika's ``BlockingConnection`` only reads the socket while it is called, so a connection left alone between
polls misses its heartbeats and the broker closes it. ``keepalive`` is called before each look at the outbox:
it answers heartbeats, and finds a connection the broker already closed so that it is replaced before a
change is sent — otherwise every quiet spell longer than two heartbeats would cost a failed publish.

With ``confirm_delivery`` on, ``basic_publish`` returns only once the broker confirmed the message (it raises
on a nack), which is what lets the relay mark a change published. Messages are not ``mandatory``: a change
no queue is bound to is confirmed and dropped, as on any topic exchange — the HTTP feed is the replay.
"""

from __future__ import annotations

import contextlib
import json

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import (
    AMQPError,
    ChannelClosedByBroker,
    NackError,
    ProbableAccessDeniedError,
    ProbableAuthenticationError,
    UnroutableError,
)

from core.errors import HubError
from outbox import errors
from outbox.config import OutboxConfig
from store.change_feed import as_event
from store.tables import ChangeLogRow

BROKER_FAILURES = (AMQPError, OSError)  # OSError: a socket refused, reset or timed out under pika


def routing_key(row: ChangeLogRow) -> str:
    return f"{row.entity_type}.{row.change_type}"  # consumers bind e.g. "party.*" or "*.merged"


def properties(row: ChangeLogRow) -> pika.BasicProperties:
    """Persistent JSON; ``message_id`` is the event id consumers dedupe on (delivery is at least once)."""
    return pika.BasicProperties(
        content_type="application/json", delivery_mode=pika.DeliveryMode.Persistent, message_id=row.event_id,
        type=row.change_type, timestamp=int(row.occurred_at.timestamp()),
        headers={"seq": row.seq, "golden_id": row.golden_id},
    )  # fmt: skip


class ChangePublisher:
    """Not thread-safe (pika is not): one publisher belongs to one thread."""

    def __init__(self, config: OutboxConfig) -> None:
        self.config = config
        self._connection: pika.BlockingConnection | None = None
        self._channel: BlockingChannel | None = None

    @property
    def where(self) -> str:
        """host:port/vhost for messages — never the URL, which carries the password."""
        params = pika.URLParameters(self.config.url.get_secret_value())
        return f"{params.host}:{params.port} vhost {params.virtual_host}"

    def keepalive(self) -> None:
        """Answer heartbeats; drop the connection if the broker has closed it (the next publish reconnects)."""
        if self._connection is None:
            return
        try:
            self._connection.process_data_events(time_limit=0)
        except BROKER_FAILURES:
            self.close()

    def publish(self, row: ChangeLogRow) -> None:
        """Publish one change and wait for the broker's confirm; raises an ``outbox.errors`` type if it fails."""
        channel = self._open()
        body = json.dumps(as_event(row), ensure_ascii=False).encode()
        try:
            channel.basic_publish(self.config.exchange, routing_key(row), body, properties(row))
        except BROKER_FAILURES as exc:
            self.close()
            raise self._sorted(exc, record=f"change seq {row.seq}") from exc

    def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(*BROKER_FAILURES):
                connection.close()

    def _open(self) -> BlockingChannel:
        if self._channel is not None and self._channel.is_open:
            return self._channel
        self.close()
        params = pika.URLParameters(self.config.url.get_secret_value())
        params.socket_timeout = params.blocked_connection_timeout = self.config.connect_timeout_s
        params.heartbeat = self.config.heartbeat_s
        try:
            self._connection = pika.BlockingConnection(params)
            channel = self._connection.channel()
            channel.confirm_delivery()
            channel.exchange_declare(self.config.exchange, exchange_type="topic", durable=True)
        except BROKER_FAILURES as exc:
            self.close()
            raise self._sorted(exc) from exc
        self._channel = channel
        return channel

    def _sorted(self, exc: BaseException, record: str | None = None) -> HubError:
        """pika's exception → the outbox error whose class says whether waiting helps."""
        if isinstance(exc, ProbableAuthenticationError):
            return errors.BrokerRefused(f"RabbitMQ at {self.where} refused the login", fix=errors.FIX_LOGIN)
        if isinstance(exc, ProbableAccessDeniedError):
            return errors.BrokerRefused(f"RabbitMQ at {self.where} refused the virtual host",
                                        fix=errors.FIX_VHOST)  # fmt: skip
        if isinstance(exc, ChannelClosedByBroker) and exc.reply_code == 406:  # PRECONDITION_FAILED
            return errors.BrokerRefused(f"exchange {self.config.exchange!r} cannot be used: {exc.reply_text}",
                                        fix=errors.FIX_EXCHANGE)  # fmt: skip
        if isinstance(exc, ChannelClosedByBroker) and exc.reply_code == 403:  # ACCESS_REFUSED
            return errors.BrokerRefused(
                f"RabbitMQ refused access: {exc.reply_text}", fix=errors.FIX_PERMISSION
            )
        if isinstance(exc, NackError | UnroutableError):
            return errors.ChangeNotConfirmed("RabbitMQ did not confirm the change (nack)", record=record,
                                             fix=errors.FIX_NACKED)  # fmt: skip
        # Anything else passes: a refused or dropped socket, a blocked connection, a channel closed under us
        # (say, the exchange deleted while we run — the next connection declares it again).
        detail = exc.reply_text if isinstance(exc, ChannelClosedByBroker) else type(exc).__name__
        return errors.BrokerUnavailable(f"RabbitMQ at {self.where} unreachable or lost: {detail}",
                                        record=record, fix=errors.FIX_UNAVAILABLE)  # fmt: skip
