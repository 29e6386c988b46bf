"""``autohub db``, ``autohub demo`` and ``autohub serve``: setting up the hub store, filling it, serving it.

Why a module of its own: these are the commands that make a store exist and show it — migrate its schema,
fill a fresh one with the demo's five sources, put the API in front of it — as against the commands that
work on a store already there.
"""

from __future__ import annotations

import os
from typing import Annotated

import typer

from autohub.cli.errors import FAILED, hub_errors
from autohub.cli.output import console, err_console
from core.settings import get_settings
from jobs.store_access import shown_url

db_app = typer.Typer(help="The hub store's schema (Alembic migrations).", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Migrate the store at AUTOHUB_DATABASE_URL (default: an SQLite file in AUTOHUB_DATA_DIR) to a revision."""
    from store.migrate import current_revision, upgrade

    url = get_settings().effective_database_url
    with hub_errors("db upgrade"):
        upgrade(url, revision)
    console.print(f"store {shown_url(url)} at revision [bold]{current_revision(url)}[/bold]")


@db_app.command("current")
def db_current() -> None:
    """Show the store's revision and the newest one this version of AutoHub knows."""
    from store.migrate import current_revision, head_revision

    url = get_settings().effective_database_url
    with hub_errors("db current"):
        current, head = current_revision(url), head_revision()
    console.print(f"store {shown_url(url)}: revision {current or 'none (empty)'}; head {head}")
    if current != head:
        err_console.print("the store is behind: run `autohub db upgrade`")
        raise typer.Exit(FAILED)


def demo(
    people: Annotated[
        int | None, typer.Option(help="people to generate (default AUTOHUB_DEMO_PEOPLE)")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="random seed (default AUTOHUB_DEMO_SEED)")] = None,
    fresh: Annotated[
        bool, typer.Option(help="start from an empty SQLite store (server databases are kept)")
    ] = True,
    dms: Annotated[
        str, typer.Option(help="auto: RabbitMQ when reachable, else the event file; or rabbitmq / file")
    ] = "auto",
) -> None:
    """Generate sample data, serve it from fake sources and sync all five through the connectors; summarise."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from autohub.demo import run_demo
    from autohub.demo_report import print_demo_report

    settings = get_settings()
    if (
        "AUTOHUB_LOG_LEVEL" not in os.environ
    ):  # the demo's tables say it all; per-sync log lines only on request
        from core.logging import configure

        configure("WARNING", settings.log_format)
    people = people or settings.demo_people
    seed = settings.demo_seed if seed is None else seed
    console.rule("[bold]AutoHub demo")
    console.print(f"store {shown_url(settings.effective_database_url)} · {people:,} people · seed {seed}")
    if dms not in ("auto", "rabbitmq", "file"):
        raise typer.BadParameter("choose auto, rabbitmq or file", param_hint="--dms")
    columns = (TextColumn("syncing records"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with hub_errors("demo"), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("sync", total=None)
        result = run_demo(
            settings, people=people, seed=seed, fresh=fresh, dms=dms,  # type: ignore[arg-type]
            on_progress=lambda n: progress.advance(task, n),
            on_total=lambda n: progress.update(task, total=n),
        )  # fmt: skip
    print_demo_report(console, result)
    if result.clean_but_quarantined or not all(r.balanced for r in result.reconciliation):
        raise typer.Exit(FAILED)


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the hub API (store from AUTOHUB_DATABASE_URL; migrate it first with `autohub db upgrade`)."""
    import uvicorn

    settings = get_settings()
    console.print(f"AutoHub API on http://{host}:{port} · store {shown_url(settings.effective_database_url)}")
    with hub_errors("serve"):
        uvicorn.run("hub_api.app:create_app", factory=True, host=host, port=port, workers=workers,
                    log_level=settings.log_level.lower(), access_log=False, log_config=None)  # fmt: skip
