"""The DMS consumer on the real RabbitMQ with hostile messages in its batches, on SQLite and PostgreSQL (where a
NUL once failed the whole batch's commit and 499 of 1 500 good events went to the dead-letter queue)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator

import pika
import pytest
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPConnectionError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.dms_amqp import DmsAmqpConfig, DmsConsumer, connect, publish_events
from core.errors import SourceUnavailable
from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, QuarantineRow
from tests.connectors.test_dms_amqp import _queue_depth
from tests.faults.hostile import good_lead, hostile_dms_bodies, reason_matches

pytestmark = [pytest.mark.faults, pytest.mark.rabbitmq]


def _dead_letters(cfg: DmsAmqpConfig) -> dict[str, str]:
    """message id → x-autohub-reason of everything in the dead-letter queue."""
    connection = connect(cfg)
    channel = connection.channel()
    found: dict[str, str] = {}
    while True:
        method, properties, _ = channel.basic_get(cfg.dead_letter_queue, auto_ack=True)
        if method is None:
            break
        found[properties.message_id] = (properties.headers or {}).get("x-autohub-reason", "")
    connection.close()
    return found


def test_hostile_messages_are_dead_lettered_alone_and_every_good_one_is_stored(
    config: DmsAmqpConfig,
    store_url: str,
) -> None:
    hostile = {f"hostile-{n}": case for n, case in enumerate(hostile_dms_bodies())}
    connection = connect(config)
    channel = connection.channel()
    from connectors.dms_amqp import declare_topology

    declare_topology(channel, config)
    channel.confirm_delivery()
    spread = iter(hostile.items())
    goods = 600
    for n in range(goods):
        body = json.dumps(good_lead(n), ensure_ascii=False).encode()
        # A broker message id longer than the inbox column is still a good event: claimed by its short form.
        message_id = f"good-{n}" if n != 100 else "good-long-" + "x" * 240
        channel.basic_publish(config.exchange, "dms.D31001.lead", body,
                              pika.BasicProperties(delivery_mode=2, message_id=message_id))  # fmt: skip
        if n % 30 == 7 and (item := next(spread, None)):
            channel.basic_publish(config.exchange, "dms.D31001.lead", item[1].body,
                                  pika.BasicProperties(delivery_mode=2, message_id=item[0]))  # fmt: skip
    assert next(spread, None) is None, "every hostile message was published"
    connection.close()

    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", batch_size=100)
    stats = DmsConsumer(config.model_copy(update={"batch_size": 100}), loader).run(idle_exit_s=1.5)

    assert stats.stored == goods
    assert stats.dead_lettered == len(hostile)
    assert _queue_depth(config, config.queue) == 0
    dead = _dead_letters(config)
    assert set(dead) == set(hostile)
    for message_id, reason in dead.items():
        assert reason_matches(reason, hostile[message_id].reason), (hostile[message_id].name, reason)
    with Session(engine) as session:
        parties = session.scalar(select(func.count()).select_from(CanonicalRecordRow)
                                 .where(CanonicalRecordRow.entity_type == "party"))  # fmt: skip
        quarantined = session.scalar(select(func.count()).select_from(QuarantineRow))
    engine.dispose()
    assert parties == goods
    assert quarantined == len(hostile)


def test_a_broker_that_drops_during_publish_reports_the_loss_not_a_wrong_state(config: DmsAmqpConfig) -> None:
    """``autohub dms publish`` used to end in ConnectionWrongStateError (closing a dropped connection), which
    hid the loss and how far it got. The broker drops every connection here, as a restart would."""
    rabbitmqctl = shutil.which("rabbitmqctl")
    if rabbitmqctl is None:
        pytest.fail("rabbitmqctl (RabbitMQ's own CLI) is needed to drop the broker's connections")

    def events() -> Iterator[dict[str, object]]:
        for n in range(50):
            if n == 5:
                subprocess.run([rabbitmqctl, "close_all_connections", "fault suite: broker drop"],
                               check=True, capture_output=True, timeout=60)  # fmt: skip
                time.sleep(0.5)
            yield {"message_id": f"drop-{n}", "event_type": "lead", "dealer_code": "d31001"}

    with pytest.raises(SourceUnavailable, match=r"connection lost after \d+ confirmed events"):
        publish_events(config, events())


def test_a_crash_between_the_dead_letter_copy_and_the_ack_copies_nothing_twice(
    config: DmsAmqpConfig, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is lost after the batch committed and its poison was copied to the dead-letter queue, before
    the ack: RabbitMQ redelivers the batch. The good events are duplicates; the poison — unreadable and invalid
    alike — was copied once and is not copied again (before: a second copy of each)."""
    from connectors.dms_amqp import declare_topology

    hostile = {f"hostile-{n}": case for n, case in enumerate(list(hostile_dms_bodies())[:4] + [
        h for h in hostile_dms_bodies() if h.reason in ("not_json", "missing_required")][:3])}  # fmt: skip
    connection = connect(config)
    channel = connection.channel()
    declare_topology(channel, config)
    channel.confirm_delivery()
    for n in range(40):
        channel.basic_publish(config.exchange, "dms.D31001.lead", json.dumps(good_lead(n), ensure_ascii=False).encode(),
                              pika.BasicProperties(delivery_mode=2, message_id=f"good-{n}"))  # fmt: skip
    for message_id, case in hostile.items():
        channel.basic_publish(config.exchange, "dms.D31001.lead", case.body,
                              pika.BasicProperties(delivery_mode=2, message_id=message_id))  # fmt: skip
    connection.close()

    acked = BlockingChannel.basic_ack
    lost: list[int] = []

    def lost_before_the_first_ack(channel: BlockingChannel, *args: object, **kwargs: object) -> None:
        if not lost:
            lost.append(1)
            raise AMQPConnectionError("connection lost before the ack")
        acked(channel, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(BlockingChannel, "basic_ack", lost_before_the_first_ack)
    engine = create_store_engine(store_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k", batch_size=100)
    stats = DmsConsumer(config.model_copy(update={"batch_size": 200}), loader).run(idle_exit_s=1.5)
    engine.dispose()

    assert lost, "the first ack was lost"
    assert stats.reconnects == 1
    assert stats.stored == 40
    assert _queue_depth(config, config.queue) == 0
    copies = _dead_letter_ids(config)
    assert sorted(copies) == sorted(hostile), "every poison message copied exactly once"


def _dead_letter_ids(cfg: DmsAmqpConfig) -> list[str]:
    """The message id of every copy in the dead-letter queue, repeats included."""
    connection = connect(cfg)
    channel = connection.channel()
    found: list[str] = []
    while True:
        method, properties, _ = channel.basic_get(cfg.dead_letter_queue, auto_ack=True)
        if method is None:
            break
        found.append(properties.message_id)
    connection.close()
    return found
