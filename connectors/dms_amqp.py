"""Dealer DMS events over RabbitMQ (pika): topology, a publisher with confirms, and the hub's consumer.

Data safety is the broker's three promises used together: persistent messages with publisher confirms,
a durable quorum queue, and manual acks sent only after the database commit. The queue has a deliberate
``x-delivery-limit`` and a dead-letter exchange (over the limit without a DLX, RabbitMQ drops the message).
Redeliveries after a crash are harmless: each ``message_id`` is claimed in an inbox table in the same
transaction that stores the event, and a repeat is acknowledged without storing anything.

The consumer reads with ``channel.consume(inactivity_timeout=…)`` on the connection's own thread and works
in batches: a batch commit takes milliseconds, so heartbeats are never starved and no cross-thread ack
(``add_callback_threadsafe``) is needed. Poison messages (not JSON, unknown event type, failing the
mapping) are quarantined and copied to the dead-letter queue with an ``x-autohub-reason`` header, then
acknowledged — they never block the queue. A copy the broker confirmed is recorded on the message's inbox claim
before the ack, so a batch redelivered after a crash between copy and ack is not copied twice, and one
redelivered before its copy was made is refused again and copied then.
"""

from __future__ import annotations

import hashlib
import json
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pika
import structlog
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPChannelError, AMQPConnectionError
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from canonical_model.entities.source import SourceRecord
from core.errors import DataError, FatalError, SourceUnavailable
from pipeline import Loader, LoadReport, to_source_record
from pipeline.screen import parse_json, safe_text
from store.engine import STORE_UNAVAILABLE

log = structlog.get_logger(__name__)
EVENT_TYPES = ("lead", "delivery", "repair_order")


class DmsAmqpConfig(BaseModel):
    """``AUTOHUB_DMS__URL`` etc. The URL carries the broker password: a secret, never logged."""

    model_config = ConfigDict(extra="forbid")  # a misspelt ``queue_name`` would consume the shipped queue

    url: SecretStr = SecretStr("amqp://guest:guest@127.0.0.1:5672/%2F")
    exchange: str = "autohub.dms"
    queue: str = "autohub.dms.events"
    dead_letter_exchange: str = "autohub.dms.dlx"
    dead_letter_queue: str = "autohub.dms.dead"
    delivery_limit: int = Field(default=5, ge=1, description="redeliveries before RabbitMQ dead-letters")
    prefetch: int = Field(default=1000, ge=1)
    batch_size: int = Field(default=500, ge=1)
    batch_wait_s: float = Field(default=0.2, gt=0, description="commit a partial batch after this idle time")
    batch_max_age_s: float = Field(
        default=0.2,
        gt=0,
        description="commit a batch once its first event has waited this long, even while "
        "events keep coming (a steady stream never goes idle: without it an event waits for a full batch)",
    )
    heartbeat_s: int = 30
    progress_every_s: float = Field(
        default=5.0, gt=0, description="write the run's counts and a heartbeat this often, idle or not"
    )
    reconnect_attempts: int = 10
    reconnect_max_wait_s: float = 30.0


def connect(config: DmsAmqpConfig) -> pika.BlockingConnection:
    params = pika.URLParameters(config.url.get_secret_value())
    params.heartbeat = config.heartbeat_s
    params.blocked_connection_timeout = 60
    try:
        return pika.BlockingConnection(params)
    except AMQPConnectionError as exc:
        raise SourceUnavailable(f"RabbitMQ unreachable: {type(exc).__name__}",
                                fix="check the broker; the consumer reconnects with backoff") from exc  # fmt: skip


def declare_topology(channel: BlockingChannel, config: DmsAmqpConfig) -> None:
    """Idempotent: exchange, quorum queue with delivery limit and DLX, dead-letter queue, bindings."""
    channel.exchange_declare(config.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(config.dead_letter_exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(config.dead_letter_queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(config.dead_letter_queue, config.dead_letter_exchange)
    channel.queue_declare(config.queue, durable=True, arguments={
        "x-queue-type": "quorum",
        "x-delivery-limit": config.delivery_limit,
        "x-dead-letter-exchange": config.dead_letter_exchange,
    })  # fmt: skip
    channel.queue_bind(config.queue, config.exchange, routing_key="dms.*.*")


def delete_topology(channel: BlockingChannel, config: DmsAmqpConfig) -> None:
    """Remove what ``declare_topology`` made (tests and benchmarks use throw-away names)."""
    for queue in (config.queue, config.dead_letter_queue):
        channel.queue_delete(queue)
    for exchange in (config.exchange, config.dead_letter_exchange):
        channel.exchange_delete(exchange)


def routing_key(event: dict[str, Any]) -> str:
    return f"dms.{event.get('dealer_code', 'unknown')}.{event.get('event_type', 'unknown')}"


def publish_events(config: DmsAmqpConfig, events: Iterable[dict[str, Any]]) -> int:
    """Publish events persistently with publisher confirms; returns how many the broker confirmed."""
    connection = connect(config)
    sent = 0
    try:
        channel = connection.channel()
        declare_topology(channel, config)
        channel.confirm_delivery()
        for event in events:
            body = json.dumps(event, ensure_ascii=False).encode("utf-8")
            message_id = str(event.get("message_id") or hashlib.sha256(body).hexdigest())
            channel.basic_publish(
                config.exchange, routing_key(event), body,
                pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, message_id=message_id,
                                     content_type="application/json", type=str(event.get("event_type", ""))),
                mandatory=True,
            )  # fmt: skip
            sent += 1
        return sent
    except (AMQPConnectionError, AMQPChannelError) as exc:
        raise SourceUnavailable(
            f"RabbitMQ connection lost after {sent:,} confirmed events: {type(exc).__name__}",
            fix="publish again once the broker is back; events are deduplicated by message id",
        ) from exc
    finally:
        if (
            connection.is_open
        ):  # closing a dropped connection raises ConnectionWrongStateError, hiding the cause
            connection.close()


@dataclass
class BatchOutcome:
    stored: int = 0
    duplicates: int = 0
    poison: list[tuple[int, str, str]] = field(default_factory=list)  # (index in the batch, reason, message)
    poison_ids: dict[int, str] = field(default_factory=dict)  # index in the batch → its message id


def load_event_batch(loader: Loader, report: Any, batch: list[tuple[str | None, bytes]]) -> BatchOutcome:
    """Store a batch of event bodies exactly once per message id; say which ones are poison and why.

    Shared by the broker consumer and the file loader, so an event read from a file and one read from
    RabbitMQ take the same path: inbox claim, raw, mapping, canonical, quarantine — one transaction.
    Unreadable bodies (not JSON, unknown event type) are quarantined here; the caller dead-letters them.
    """
    mapper = loader.registry[report.source]
    outcome = BatchOutcome()
    messages: list[tuple[str, SourceRecord]] = []
    index_of: dict[str, int] = {}
    unreadable: list[tuple[str, str]] = []
    unreadable_ids: list[str] = []
    for index, (given_id, body) in enumerate(batch):
        event, unparsed = parse_json(body)
        # The broker's message id, else the event's own (a file line), else the body's hash.
        own_id = event.get("message_id") if isinstance(event, dict) else None
        message_id = given_id or (str(own_id) if own_id else hashlib.sha256(body).hexdigest())
        stream = event.get("event_type") if isinstance(event, dict) else None
        if not isinstance(stream, str) or stream not in EVENT_TYPES:
            reason = unparsed or ("not_json" if not isinstance(event, dict) else "unknown_event_type")
            message = (
                f"message body is not a JSON object ({reason})"
                if not isinstance(event, dict)
                else f"event_type {safe_text(str(stream))[:80]!r} is not one of {EVENT_TYPES}"
            )
            outcome.poison.append((index, reason, message))
            outcome.poison_ids[index] = message_id
            unreadable.append((reason, body.decode("utf-8", "replace")))
            unreadable_ids.append(message_id)
            continue
        if message_id in index_of:  # the same message twice in one batch (a redelivery): count, skip
            outcome.duplicates += 1
            continue
        messages.append((message_id, to_source_record(mapper, stream, event, fallback_id=message_id)))
        index_of[message_id] = index
    results = loader.load_messages(report, messages) if messages else {}
    if unreadable:
        loader.quarantine_unreadable(report, "events", unreadable, message_ids=unreadable_ids)
    for message_id, result in results.items():
        if result == "stored":
            outcome.stored += 1
        elif result == "duplicate":
            outcome.duplicates += 1
        elif isinstance(result, DataError):
            outcome.poison.append((index_of[message_id], result.reason, str(result)))
            outcome.poison_ids[index_of[message_id]] = message_id
    # Poison whose dead-letter copy a crash before the ack did not stop: acknowledged, not copied again.
    copied = loader.dead_lettered(report.source, list(outcome.poison_ids.values()))
    if copied:
        outcome.duplicates += sum(1 for i, _, _ in outcome.poison if outcome.poison_ids[i] in copied)
        outcome.poison = [p for p in outcome.poison if outcome.poison_ids[p[0]] not in copied]
        outcome.poison_ids = {i: m for i, m in outcome.poison_ids.items() if m not in copied}
    return outcome


def load_event_file(
    loader: Loader, path: Path, *, batch_size: int = 500, on_progress: Callable[[int], None] | None = None,
    source: str = "dms",
) -> tuple[LoadReport, ConsumerStats]:  # fmt: skip
    """Load a JSON-lines file of DMS events (the format ``autohub dms publish`` sends) without a broker.

    Poison lines are quarantined (there is no dead-letter queue to copy them to); ``dead_lettered`` counts them.
    """
    stats = ConsumerStats()
    with loader.run(source) as report, path.open("rb") as lines:
        batch: list[tuple[str | None, bytes]] = []
        for line in lines:
            if line.strip():
                batch.append((None, line.rstrip(b"\r\n")))
            if len(batch) >= batch_size:
                _count(stats, load_event_batch(loader, report, batch), len(batch), on_progress)
                batch = []
        if batch:
            _count(stats, load_event_batch(loader, report, batch), len(batch), on_progress)
    return report, stats


def _count(
    stats: ConsumerStats, outcome: BatchOutcome, consumed: int, on_progress: Callable[[int], None] | None
) -> None:
    if on_progress:
        on_progress(consumed)
    stats.consumed += consumed
    stats.stored += outcome.stored
    stats.duplicates += outcome.duplicates
    stats.dead_lettered += len(outcome.poison)
    for _, reason, _ in outcome.poison:
        stats.reasons[reason] = stats.reasons.get(reason, 0) + 1


@dataclass
class ConsumerStats:
    consumed: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    reconnects: int = 0
    store_losses: int = 0  # batches the store failed under (restart, fail-over): redelivered, taken again
    reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Delivery:
    tag: int
    properties: pika.BasicProperties
    body: bytes


class DmsConsumer:
    """The long-running consumer behind ``autohub dms consume``."""

    def __init__(
        self, config: DmsAmqpConfig, loader: Loader, *, on_progress: Callable[[int], None] | None = None,
        source: str = "dms",
    ):  # fmt: skip
        self.config = config
        self.source = source  # the declared source its events are stored under (a second dealer network's)
        self.loader = loader
        self.on_progress = on_progress
        self.stats = ConsumerStats()
        self.report: LoadReport | None = None
        self._stopping = False
        self._connected = False  # a connection came up since the last loss (resets the reconnect count)

    def stop(self, *_: Any) -> None:
        """Finish the current batch, acknowledge it and leave (SIGTERM/SIGINT)."""
        self._stopping = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self, *, idle_exit_s: float | None = None, max_messages: int | None = None) -> ConsumerStats:
        """Consume until stopped, idle for ``idle_exit_s`` or ``max_messages`` taken; reconnects on loss of the
        broker or of the store."""
        failures = store_failures = 0
        settled_at_loss = -1
        self._connected = False
        with self.loader.run(self.source) as report:
            self.report = report
            while not self._stopping:
                try:
                    self._consume(report, idle_exit_s, max_messages)
                    break
                except STORE_UNAVAILABLE as exc:
                    # The store went away under a batch (restart, fail-over; pooled connections are pinged only
                    # when idle, store/engine.py): nothing of it was acknowledged, and the broker connection
                    # that just closed hands it back to be taken again. In a row: no batch settled since.
                    settled = self.stats.stored + self.stats.duplicates + self.stats.dead_lettered
                    store_failures = 1 if settled != settled_at_loss else store_failures + 1
                    settled_at_loss = settled
                    if store_failures > self.config.reconnect_attempts:
                        raise
                    self.stats.store_losses += 1
                    self._back_off(
                        store_failures, "store unreachable under a batch; taking it again", type(exc).__name__
                    )
                except (AMQPConnectionError, AMQPChannelError, SourceUnavailable) as exc:
                    # Losses count "in a row" only until a connection is up again: a consumer that lives for
                    # months loses its broker now and then, and each of those is a first loss.
                    failures = 1 if self._connected else failures + 1
                    self._connected = False
                    if failures > self.config.reconnect_attempts:
                        raise SourceUnavailable(f"RabbitMQ lost {failures} times in a row: {exc!r}") from exc
                    self.stats.reconnects += 1
                    self._back_off(failures, "broker connection lost; reconnecting", repr(exc))
        return self.stats

    def _back_off(self, failures: int, message: str, error: str) -> None:
        """``error``: the store's only by its type — a driver's text may quote the data."""
        wait = min(self.config.reconnect_max_wait_s, 0.2 * 2**failures)
        log.warning(message, error=error, wait_s=wait)
        time.sleep(wait)

    def _consume(self, report: Any, idle_exit_s: float | None, max_messages: int | None) -> None:
        connection = connect(self.config)
        try:
            channel = connection.channel()
            declare_topology(channel, self.config)
            channel.basic_qos(prefetch_count=self.config.prefetch)
            channel.confirm_delivery()  # dead-letter copies are confirmed before the original is acked
            self._connected = True
            batch: list[_Delivery] = []
            idle_since = beat = started = time.monotonic()
            # Woken at least every max age too, so that a batch's last event never waits out the idle time.
            wake_s = min(self.config.batch_wait_s, self.config.batch_max_age_s)
            for method, properties, body in channel.consume(self.config.queue, inactivity_timeout=wake_s):
                now = time.monotonic()
                if method is not None:
                    if not batch:
                        started = now
                    batch.append(_Delivery(method.delivery_tag, properties, body))
                    self.stats.consumed += 1
                    idle_since = now
                full = len(batch) >= self.config.batch_size
                done = max_messages is not None and self.stats.consumed >= max_messages
                idle = method is None and now - idle_since >= self.config.batch_wait_s
                aged = now - started >= self.config.batch_max_age_s
                if batch and (full or done or idle or aged or self._stopping):
                    self._flush(channel, report, batch)
                    batch = []
                if time.monotonic() - beat >= self.config.progress_every_s:  # live counts, and "still alive"
                    self.loader.checkpoint(report)
                    beat = time.monotonic()
                idle_over = (
                    method is None
                    and idle_exit_s is not None
                    and time.monotonic() - idle_since >= idle_exit_s
                )
                if done or self._stopping or idle_over:
                    break
            channel.cancel()
        finally:
            if connection.is_open:
                connection.close()

    def _flush(self, channel: BlockingChannel, report: Any, batch: list[_Delivery]) -> None:
        outcome = load_event_batch(self.loader, report, [(d.properties.message_id, d.body) for d in batch])
        self.stats.stored += outcome.stored
        self.stats.duplicates += outcome.duplicates
        for index, reason, message in outcome.poison:
            self._dead_letter(channel, batch[index], reason, message)
        # The copies are confirmed (confirm_delivery): remembered, so that a redelivery does not copy again.
        self.loader.mark_dead_lettered(report.source, [outcome.poison_ids[i] for i, _, _ in outcome.poison])
        channel.basic_ack(batch[-1].tag, multiple=True)  # only now: everything above is committed
        if self.on_progress:
            self.on_progress(len(batch))

    def _dead_letter(self, channel: BlockingChannel, delivery: _Delivery, reason: str, message: str) -> None:
        headers = dict(delivery.properties.headers or {})
        headers.update({"x-autohub-reason": reason, "x-autohub-message": message[:500]})
        properties = pika.BasicProperties(delivery_mode=pika.DeliveryMode.Persistent, headers=headers,
                                          message_id=delivery.properties.message_id,
                                          content_type=delivery.properties.content_type)  # fmt: skip
        channel.basic_publish(self.config.dead_letter_exchange, "", delivery.body, properties)
        self.stats.dead_lettered += 1
        self.stats.reasons[reason] = self.stats.reasons.get(reason, 0) + 1


class QueueMissing(FatalError):
    """A queue the declaration names does not exist on the broker (no consumer has declared it yet)."""


def queue_depths(config: DmsAmqpConfig, queues: Sequence[str]) -> list[tuple[int, int]]:
    """(messages ready, consumers) of each queue, read by passive declares on a throw-away channel each —
    without taking a message (a health check or ``autohub sources check`` must not count as a delivery)."""
    from pika.exceptions import ChannelClosedByBroker

    connection = connect(config)
    depths = []
    try:
        for queue in queues:
            try:
                answer = connection.channel().queue_declare(queue=queue, passive=True)
            except ChannelClosedByBroker as exc:
                raise QueueMissing(f"queue {queue!r} does not exist on the broker ({exc.reply_text})",
                                   fix="start the DMS consumer once (`autohub dms consume`); it declares the queues") from exc  # fmt: skip
            depths.append((int(answer.method.message_count), int(answer.method.consumer_count)))
    finally:
        if connection.is_open:
            connection.close()
    return depths
