"""``autohub dms``: the dealer networks' DMS events over RabbitMQ — consume, publish, check the feed.

Why a module of its own: a dealer network pushes its events to a queue rather than being pulled like the
other sources, so it has its own worker (the consumer), its own test tool (publish) and its own health check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from autohub.cli.errors import hub_errors
from autohub.cli.output import console
from core.settings import get_settings

dms_app = typer.Typer(help="Dealer DMS events over RabbitMQ.", no_args_is_help=True)


@dms_app.command("consume")
def dms_consume(
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many idle seconds (default: run)")
    ] = None,
    source: Annotated[
        str, typer.Option(help="the declared amqp source (a second dealer network's queue)")
    ] = "dms",
) -> None:
    """Consume DMS events into the store until SIGTERM (acks after commit, exactly once per message_id)."""
    from connectors.dms_amqp import DmsAmqpConfig, DmsConsumer
    from connectors.sources import declared_source
    from core.errors import ConfigError
    from jobs.store_access import store_loader

    settings = get_settings()
    with hub_errors(f"dms consume --source {source}"):
        declared = declared_source(settings, source)
        if not isinstance(declared.config, DmsAmqpConfig):
            raise ConfigError(f"source {source!r} is of type {declared.kind.name}, not amqp", field="--source",
                              fix="name a source declared with type: amqp (autohub sources list)")  # fmt: skip
        config = declared.config
        with store_loader(settings, {source: declared.mapping}) as loader:
            consumer = DmsConsumer(config, loader, source=source)
            consumer.install_signal_handlers()
            console.print(f"consuming {config.queue} into {source} (SIGTERM to stop)")
            stats = consumer.run(idle_exit_s=idle_exit)
    console.print(
        f"{source}: {stats.consumed:,} consumed · {stats.stored:,} stored · {stats.duplicates:,} duplicates · "
        f"{stats.dead_lettered:,} dead-lettered · {stats.reconnects} reconnects · {stats.store_losses} batches "
        "taken again after a store outage"
    )


@dms_app.command("publish")
def dms_publish(
    file: Annotated[
        Path, typer.Argument(help="JSON lines, one DMS event per line", exists=True, dir_okay=False)
    ],
    source: Annotated[str, typer.Option(help="the dealer network (a declared amqp source)")] = "dms",
) -> None:
    """Publish DMS events from a file with publisher confirms (for the demo and dealers' testing)."""
    from connectors.dms_amqp import DmsAmqpConfig, publish_events
    from connectors.sources import declared_source

    with hub_errors(f"dms publish --source {source}"):
        config = declared_source(get_settings(), source).config_as(DmsAmqpConfig)
        lines = file.read_text(encoding="utf-8").splitlines()
        events = [json.loads(line) for line in lines if line.strip()]
        sent = publish_events(config, events)
    console.print(f"published {sent:,} events to {config.exchange} (confirmed)")


@dms_app.command("health")
def dms_health(
    source: Annotated[
        str | None, typer.Argument(help="one dealer network (a declared amqp source); default: every one")
    ] = None,
) -> None:
    """Check each dealer network's feed on RabbitMQ: events waiting, dead letters, consumers, and what waits for
    matching (limits: AUTOHUB_ORCHESTRATION__DMS_*, …MATCH_MAX_LAG_S)."""
    from jobs.dms_health import check_networks
    from jobs.store_access import store_sessions

    settings = get_settings()
    with hub_errors("DMS feed check"), store_sessions(settings) as sessions:
        healths = check_networks(settings, sessions, source)
    for name, health in healths.items():
        console.print(f"{name}: {health.describe()}")
