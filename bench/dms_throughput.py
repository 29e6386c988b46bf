"""DMS consumer throughput against the local RabbitMQ, next to a bare pika consumer that only acks.

    .venv/bin/python bench/dms_throughput.py --events 20000 [--database-url postgresql://…]

The ratio hub/bare is the figure that matters: it says what storing, mapping and exactly-once cost.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import uuid
from itertools import cycle, islice
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.dms_amqp import (
    DmsAmqpConfig,
    DmsConsumer,
    connect,
    declare_topology,
    delete_topology,
    publish_events,
)
from mappings import MappingRegistry
from pipeline import Loader
from sample_data import DEFECTS_THAT_QUARANTINE, generate
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade


def _events(count: int) -> list[dict[str, Any]]:
    clean = [r.payload for r in generate(max(100, count // 8), 3)
             if r.source == "dms" and not DEFECTS_THAT_QUARANTINE.intersection(r.defects)]  # fmt: skip
    return [{**event, "message_id": str(uuid.uuid4())} for event in islice(cycle(clean), count)]


def _config(label: str, url: str) -> DmsAmqpConfig:
    suffix = f"{label}.{uuid.uuid4().hex[:6]}"
    return DmsAmqpConfig(url=SecretStr(url), exchange=f"bench.dms.{suffix}", queue=f"bench.q.{suffix}",
                         dead_letter_exchange=f"bench.dlx.{suffix}", dead_letter_queue=f"bench.dead.{suffix}")  # fmt: skip


def _drop(config: DmsAmqpConfig) -> None:
    connection = connect(config)
    delete_topology(connection.channel(), config)
    connection.close()


def bare(config: DmsAmqpConfig, count: int) -> float:
    connection = connect(config)
    channel = connection.channel()
    declare_topology(channel, config)
    channel.basic_qos(prefetch_count=config.prefetch)
    started, taken = time.perf_counter(), 0
    for method, _, _ in channel.consume(config.queue, inactivity_timeout=1.0):
        if method is None:
            break
        taken += 1
        if taken % 500 == 0 or taken == count:
            channel.basic_ack(method.delivery_tag, multiple=True)
        if taken == count:
            break
    elapsed = time.perf_counter() - started
    channel.cancel()
    connection.close()
    return taken / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--broker", default="amqp://guest:guest@127.0.0.1:5672/%2F")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    events = _events(args.events)

    bare_config = _config("bare", args.broker)
    publish_events(bare_config, events)
    bare_rate = bare(bare_config, len(events))
    _drop(bare_config)

    hub_config = _config("hub", args.broker)
    publish_events(hub_config, events)
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)
        engine = create_store_engine(url)
        consumer = DmsConsumer(
            hub_config, Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"b")
        )
        started = time.perf_counter()
        stats = consumer.run(idle_exit_s=1.0)
        hub_elapsed = time.perf_counter() - started - 1.0  # the idle wait at the end is not work
        engine.dispose()
    _drop(hub_config)
    hub_rate = stats.consumed / hub_elapsed
    print(f"bare pika consumer (ack only): {bare_rate:,.0f} msg/s")
    print(f"hub consumer ({engine.dialect.name}, batch {hub_config.batch_size}): {hub_rate:,.0f} msg/s "
          f"({stats.stored:,} stored, {stats.duplicates:,} duplicates, {stats.dead_lettered:,} dead-lettered)")  # fmt: skip
    print(f"ratio hub/bare: {hub_rate / bare_rate:.2f}")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
