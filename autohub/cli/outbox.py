"""``autohub outbox``: the change feed's relay from the store's outbox to RabbitMQ, and its backlog.

Why a module of its own: the outbox is the hub's way out — golden-record changes published at least once to
the exchange downstream systems read — with a long-running worker of its own and a status for whoever
watches it.
"""

from __future__ import annotations

from typing import Annotated

import typer

from autohub.cli.errors import FAILED, hub_errors
from autohub.cli.output import console, err_console
from autohub.cli.workers import stop_on_signals
from core.settings import get_settings
from outbox.config import outbox_config

outbox_app = typer.Typer(help="The change feed's outbox: publish golden-record changes to RabbitMQ.",
                         no_args_is_help=True)  # fmt: skip


@outbox_app.command("relay")
def outbox_relay(
    once: Annotated[bool, typer.Option(help="publish what is waiting, then stop")] = False,
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many idle seconds (default: run)")
    ] = None,
) -> None:
    """Publish committed changes to the exchange (publisher confirms; at least once, dedupe by event_id)."""
    from jobs.store_access import store_sessions
    from outbox.relay import OutboxRelay

    settings = get_settings()
    with hub_errors("outbox relay"), store_sessions(settings) as sessions:
        relay = OutboxRelay(sessions, outbox_config(settings))
        if once:
            report = relay.publish_pending()
            relay.close()
            console.print(f"outbox: {report.published:,} published · {report.remaining:,} waiting"
                          + (" · another relay is publishing" if report.busy else ""))  # fmt: skip
            if report.error:
                err_console.print(f"[red]outbox: broker failed[/red]: {report.error}")
                raise typer.Exit(FAILED)
            return
        console.print(f"relaying to exchange {outbox_config(settings).exchange} (Ctrl-C or SIGTERM to stop)")
        with stop_on_signals() as stop:
            total = relay.run_forever(stop, idle_exit_s=idle_exit)
    console.print(f"outbox: {total:,} published")


@outbox_app.command("status")
def outbox_status() -> None:
    """How many changes wait for the broker, how long the oldest has waited, the most attempts any one took."""
    from datetime import UTC, datetime

    from jobs.store_access import store_sessions
    from outbox.relay import status

    with hub_errors("outbox status"), store_sessions(get_settings()) as sessions, sessions() as session:
        now = status(session)
    oldest = "-"
    if now.oldest_unpublished is not None:
        age = (datetime.now(UTC) - now.oldest_unpublished).total_seconds()
        oldest = f"{age:,.0f} s ago ({now.oldest_unpublished.isoformat(timespec='seconds')})"
    console.print(f"unpublished {now.unpublished:,} · oldest {oldest} · max attempts {now.max_attempts}")
