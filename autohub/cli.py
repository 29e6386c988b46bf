"""The ``autohub`` command line. The CLI and the Airflow DAGs call the same library functions."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from canonical_model.identifiers import InvalidIdentifier, mobile, plate, resident_id, uscc, vin
from core.settings import get_settings
from jobs.config import orchestration_config
from jobs.store_access import StoreNotMigrated, shown_url
from matching.config import matching_config
from outbox.config import outbox_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from jobs.quarantine_replay import ReplayReport
    from pipeline import Loader

app = typer.Typer(
    help="AutoHub: one customer, one car, across ERP, finance, insurance, dealers and the portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _configure_logging() -> None:
    """Every command logs through one configuration: level and format from the settings, PII masked, stderr."""
    from autohub.blocks import check_blocks
    from core.errors import ConfigError
    from core.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    try:
        check_blocks(settings)  # a wrong AUTOHUB_<BLOCK>__… fails the command now, not mid-job
    except ConfigError as exc:
        err_console.print(f"[red]configuration error[/red]: {escape(str(exc))}")
        raise typer.Exit(2) from None


class IdKind(StrEnum):
    VIN = "vin"
    RIC = "ric"  # resident identity card number
    USCC = "uscc"
    MOBILE = "mobile"
    PLATE = "plate"


def _parse(kind: IdKind, value: str) -> tuple[str, Any, tuple[str, ...]]:
    """Normalised value, the parsed object and its warnings, for each identifier kind."""
    if kind is IdKind.VIN:
        v = vin.parse(value)
        return v.value, v, v.warnings
    if kind is IdKind.RIC:
        r = resident_id.parse(value)
        return r.value, r, ()
    if kind is IdKind.USCC:
        u = uscc.parse(value)
        return u.value, u, u.warnings
    if kind is IdKind.MOBILE:
        m = mobile.parse(value)
        warnings = m.warnings + (("placeholder number: not a way to reach anyone",) if m.placeholder else ())
        return m.e164, m, warnings
    p = plate.parse(value)
    return p.value, p, ()


@app.command()
def validate(
    kind: Annotated[IdKind, typer.Argument(help="vin | ric (resident ID) | uscc | mobile | plate")],
    value: Annotated[str, typer.Argument(help="the value as received")],
    details: Annotated[
        bool, typer.Option("--details", help="print what the identifier encodes as JSON")
    ] = False,
) -> None:
    """Check an identifier: prints the normalised value (exit 0) or says what is wrong (exit 1)."""
    try:
        normalised, parsed, warnings = _parse(kind, value)
    except InvalidIdentifier as exc:
        err_console.print(f"[red]invalid[/red] {exc} [dim](reason: {exc.reason})[/dim]")
        raise typer.Exit(1) from None
    print(normalised)  # plain stdout so that scripts can capture it
    for warning in warnings:
        err_console.print(f"[yellow]warning[/yellow] {warning}")
    if details and is_dataclass(parsed):
        print(json.dumps(asdict(parsed), default=str, ensure_ascii=False))  # type: ignore[arg-type]


@app.command()
def schema(
    entity: Annotated[str | None, typer.Option(help="only this entity, e.g. Party")] = None,
) -> None:
    """Print the JSON Schema of the canonical model (the contract downstream teams code against)."""
    from canonical_model.schema import canonical_json_schema

    document = canonical_json_schema(entity)
    print(json.dumps(document, indent=2, ensure_ascii=False))


@app.command()
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
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("sync", total=None)
        result = run_demo(
            settings, people=people, seed=seed, fresh=fresh, dms=dms,  # type: ignore[arg-type]
            on_progress=lambda n: progress.advance(task, n),
            on_total=lambda n: progress.update(task, total=n),
        )  # fmt: skip
    print_demo_report(console, result)
    if result.clean_but_quarantined or not all(r.balanced for r in result.reconciliation):
        raise typer.Exit(1)


@contextmanager
def _job(what: str) -> Iterator[None]:
    """A job's failure as the terminal shows it: a store behind the schema exits 2, any other hub error 1."""
    from core.errors import HubError

    try:
        with _migrated_store_only():
            yield
    except HubError as exc:
        err_console.print(f"[red]{what} failed[/red]: {escape(str(exc))}")  # a path in brackets is no markup
        raise typer.Exit(1) from exc


@contextmanager
def _migrated_store_only() -> Iterator[None]:
    """A store behind the code's schema is refused with exit code 2 and the command that fixes it."""
    try:
        yield
    except StoreNotMigrated as exc:
        err_console.print(str(exc))
        raise typer.Exit(2) from exc


@contextmanager
def _store_sessions() -> Iterator[sessionmaker[Session]]:
    """Sessions on the configured store (refusing one behind the newest schema, exit 2); disposed after."""
    from jobs.store_access import store_sessions

    with _migrated_store_only(), store_sessions(get_settings()) as sessions:
        yield sessions


@contextmanager
def _store_loader(aliases: dict[str, str] | None = None) -> Iterator[Loader]:
    """A Loader on the configured store, for the consume commands (``aliases``: declared source → mapping)."""
    from jobs.store_access import store_loader

    with _migrated_store_only(), store_loader(get_settings(), aliases) as loader:
        yield loader


@app.command()
def sync(
    source: Annotated[str, typer.Argument(help="a declared pull source, e.g. erp (autohub sources list)")],
) -> None:
    """Sync one source into the store from its saved watermarks (incremental, idempotent, retried)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from jobs.sync import describe, sync_source

    columns = (SpinnerColumn(), TextColumn(f"syncing {source}"), TextColumn("{task.completed:,} records"),
               TimeElapsedColumn())  # fmt: skip
    with _job(f"sync {source}"), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("sync", total=None)
        report = sync_source(source, get_settings(), on_progress=lambda n: progress.advance(task, n))
    console.print(describe(report))


sources_app = typer.Typer(help="The declared sources (AUTOHUB_SOURCES_FILE, default core/sources.yaml).",
                          no_args_is_help=True)  # fmt: skip
app.add_typer(sources_app, name="sources")


@sources_app.command("list")
def sources_list() -> None:
    """Every declared source: its type, mapping, schedule; the file is checked whole (types, settings, secrets)."""
    from rich.table import Table

    from connectors.sources import declared_sources
    from jobs.config import declared_pull_sources

    settings = get_settings()
    with _job("sources list"):
        sources = declared_sources(settings)
    schedules = declared_pull_sources(orchestration_config(settings))
    table = Table("source", "type", "pulled or pushed", "mapping", "schedule", "description")
    for name, source in sources.items():
        schedule = (schedules.get(name) or "manual") if source.pull else "—"
        table.add_row(name, source.kind.name, source.kind.mode, source.mapping, schedule, source.description)
    console.print(table)


@sources_app.command("check")
def sources_check(
    source: Annotated[str, typer.Argument(help="a declared source")],
) -> None:
    """Connect, read one page, map it and print the reconciliation — nothing is written to the store (a pushed
    source: its mapping and its receiving end — queue depths, signing secret — nothing taken from a queue)."""
    from rich.table import Table

    from jobs.source_check import check_source

    with _job(f"sources check {source}"):
        result = check_source(source, get_settings())
    if result.notes:
        console.print("\n".join(f"{source}: {escape(note)}" for note in result.notes))
        return
    table = Table("stream", "records read", "mapped", "partly mapped", "quarantined", "top reasons")
    for stream in result.streams:
        reasons = ", ".join(f"{k} {n:,}" for k, n in stream.reasons.most_common(3))
        table.add_row(stream.stream, f"{stream.records:,}", f"{stream.mapped:,}", f"{stream.partial:,}",
                      f"{stream.quarantined:,}", reasons)  # fmt: skip
    console.print(table)
    console.print(f"{source}: one page per stream read and mapped; nothing stored.")


@app.command()
def load(
    source: Annotated[str, typer.Argument(help="the source whose mapping reads the files, e.g. erp or fleet")],
    files: Annotated[list[Path], typer.Argument(help="CSV, TSV, JSON Lines or Excel files", exists=True, dir_okay=False)],
    stream: Annotated[str | None, typer.Option(help="the mapping's stream (default: the only one, or the one the file name contains)")] = None,
    encoding: Annotated[str, typer.Option(help="text files' encoding, e.g. gbk for older dealer tools")] = "utf-8",
    sheet: Annotated[str | None, typer.Option(help="Excel: the sheet (default: the first)")] = None,
) -> None:  # fmt: skip
    """Load extract files through a source's mapping (one sync run per file) and print the reconciliation.

    A file that cannot be read as a whole (two encodings, a header without the id column) is refused with one
    message and nothing of it stored; the other files are loaded, and the command exits 1."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from connectors.file_lines import FileReadLimits, UnreadableFile
    from connectors.file_rows import count_rows
    from jobs.file_load import load_file

    limits = get_settings().section("files", FileReadLimits)
    table = Table(
        "file", "stream", "rows in", "unchanged", "mapped", "partly mapped", "quarantined", "top reasons"
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tallies: list[str] = []
    refused: list[str] = []
    with (
        _job(f"load {source}"),
        _store_loader() as loader,
        Progress(*columns, console=console, transient=True) as bar,
    ):
        for path in files:
            task = bar.add_task(path.name, total=count_rows(path))

            def advance(rows: int, task: TaskID = task) -> None:
                bar.advance(task, rows)

            try:
                done = load_file(loader, source, path, stream=stream, encoding=encoding, sheet=sheet,
                                 limits=limits, on_rows=advance)  # fmt: skip
            except UnreadableFile as exc:
                refused.append(f"[red]{escape(path.name)} refused[/red]: {escape(str(exc))}")
                continue
            r = done.report
            reasons = ", ".join(f"{k} {n:,}" for k, n in r.reasons.most_common(3))
            table.add_row(path.name, done.stream, f"{r.records_in:,}", f"{r.unchanged:,}", f"{r.mapped:,}",
                          f"{r.partial:,}", f"{r.quarantined:,}", reasons)  # fmt: skip
            if done.lines.physical:
                tallies.append(f"{path.name}: {done.lines.describe()}")
    console.print(table)
    console.print("\n".join(escape(t) for t in tallies))
    console.print("Quarantined rows: autohub quarantine counts / GET /v1/quarantine; then autohub match run.")
    if refused:
        err_console.print("\n".join(refused))
        raise typer.Exit(1)


quarantine_app = typer.Typer(help="Quarantined records: what waits, and replaying it after a mapping fix.",
                             no_args_is_help=True)  # fmt: skip
app.add_typer(quarantine_app, name="quarantine")


@quarantine_app.command("counts")
def quarantine_counts(
    source: Annotated[str | None, typer.Option(help="only this source, e.g. dms")] = None,
) -> None:
    """Unresolved quarantine entries by source and reason, most frequent first (as GET /v1/quarantine/counts)."""
    from rich.table import Table

    from store.reports import quarantine_by_reason

    with _store_sessions() as sessions, sessions() as session:
        rows = quarantine_by_reason(session, source)
    table = Table("source", "reason", "entries", title="Unresolved quarantine")
    for src, reason, n in rows:
        table.add_row(src, reason, f"{n:,}")
    console.print(table)
    console.print(
        "After fixing a mapping: autohub quarantine replay --source … / --reason … (--dry-run first)."
    )


def _user() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in a bare container
        return "cli"


@quarantine_app.command("replay")
def quarantine_replay(
    source: Annotated[str | None, typer.Option(help="only this source's entries, e.g. dms")] = None,
    reason: Annotated[str | None, typer.Option(help="an exact reason code, or a family ending in '.', e.g. invalid_vin.")] = None,
    stream: Annotated[str | None, typer.Option(help="only this stream, e.g. repair_order")] = None,
    since: Annotated[str | None, typer.Option(help="only entries created at or after this ISO date/time (no zone: UTC)")] = None,
    all_entries: Annotated[bool, typer.Option("--all", help="every unresolved entry (needed without --source and --reason)")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="map again and report what would be recovered; write nothing")] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="at most this many records (run again for the rest)")] = None,
    match: Annotated[bool, typer.Option("--match", help="then match the recovered records (incremental; full on a new store)")] = False,
    actor: Annotated[str | None, typer.Option(help="who asks, kept in each resolved entry (default cli:<login>)")] = None,
) -> None:  # fmt: skip
    """Map quarantined records again from the raw store through the mappings as they are now (after a fix).

    What maps now becomes canonical and its entries are resolved; what still fails waits with its new reason.
    One sync run per source; batches commit one by one, so an interrupted replay is simply run again.
    """
    from pydantic import ValidationError
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from jobs.quarantine_replay import ReplaySelection, replay

    try:
        selection = ReplaySelection.model_validate({"source": source, "reason": reason, "stream": stream, "since": since,
                                                    "all": all_entries, "dry_run": dry_run, "limit": limit})  # fmt: skip
    except ValidationError as exc:
        first = exc.errors()[0]
        raise typer.BadParameter(first["msg"], param_hint=f"--{first['loc'][0]}".replace("_", "-")) from exc
    settings = get_settings()
    columns = (
        TextColumn("replaying quarantined records"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with _job("quarantine replay"), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=None)
        report = replay(settings, selection, actor=actor or _user(),
                        on_start=lambda n: progress.update(task, total=n),
                        on_progress=lambda n: progress.advance(task, n))  # fmt: skip
    _print_replay(report)
    if match and not report.entities:
        console.print("nothing to match: the replay wrote no canonical records")
    elif match:
        from jobs import matching as matching_job

        with _job("matching"), console.status("matching the recovered records"):
            result = matching_job.match(settings, "auto")
        console.print(matching_job.describe(result))


def _print_replay(report: ReplayReport) -> None:
    from rich.table import Table

    title = "Quarantine replay" + (" — dry run: nothing written" if report.dry_run else "")
    table = Table("source", "reason", "selected", "recovered", "partly recovered", "still quarantined",
                  "waiting now as", "not replayable", title=title)  # fmt: skip
    for row in report.by_reason:
        waiting = ", ".join(f"{r} {n:,}" for r, n in sorted(row.waiting_as.items(), key=lambda kv: -kv[1]))
        table.add_row(row.source, row.reason, f"{row.selected:,}", f"{row.recovered:,}", f"{row.partly_recovered:,}",
                      f"{row.still_quarantined:,}", waiting, f"{row.not_replayable:,}")  # fmt: skip
    t = report.totals
    table.add_row("all", "", f"{t.selected:,}", f"{t.recovered:,}", f"{t.partly_recovered:,}",
                  f"{t.still_quarantined:,}", "", f"{t.not_replayable:,}", style="bold")  # fmt: skip
    console.print(table)
    if t.refused:
        console.print(
            f"[yellow]{t.refused:,} records refused by the store[/yellow], left as they were (see the log)"
        )
    if report.runs:
        runs = ", ".join(f"{source} run {run_id}" for source, run_id in report.runs.items())
        entities = ", ".join(f"{n:,} {kind}" for kind, n in report.entities.items()) or "none"
        console.print(f"sync runs: {runs} · canonical entities mapped: {entities} "
                      f"({report.older_than_stored:,} left in place: a newer version is stored)", soft_wrap=True)  # fmt: skip
    if report.next_step:
        console.print(escape(report.next_step), soft_wrap=True)


dms_app = typer.Typer(help="Dealer DMS events over RabbitMQ.", no_args_is_help=True)
app.add_typer(dms_app, name="dms")


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

    with _job(f"dms consume --source {source}"):
        declared = declared_source(get_settings(), source)
        if not isinstance(declared.config, DmsAmqpConfig):
            raise ConfigError(f"source {source!r} is of type {declared.kind.name}, not amqp", field="--source",
                              fix="name a source declared with type: amqp (autohub sources list)")  # fmt: skip
    config = declared.config
    with _store_loader({source: declared.mapping}) as loader:
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

    config = declared_source(get_settings(), source).config_as(DmsAmqpConfig)
    lines = file.read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    sent = publish_events(config, events)
    console.print(f"published {sent:,} events to {config.exchange} (confirmed)")


outbox_app = typer.Typer(help="The change feed's outbox: publish golden-record changes to RabbitMQ.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("relay")
def outbox_relay(
    once: Annotated[bool, typer.Option(help="publish what is waiting, then stop")] = False,
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many idle seconds (default: run)")
    ] = None,
) -> None:
    """Publish committed changes to the exchange (publisher confirms; at least once, dedupe by event_id)."""
    from outbox.relay import OutboxRelay

    settings = get_settings()
    with _store_sessions() as sessions:
        relay = OutboxRelay(sessions, outbox_config(settings))
        if once:
            report = relay.publish_pending()
            relay.close()
            console.print(f"outbox: {report.published:,} published · {report.remaining:,} waiting"
                          + (" · another relay is publishing" if report.busy else ""))  # fmt: skip
            if report.error:
                err_console.print(f"[red]outbox: broker failed[/red]: {report.error}")
                raise typer.Exit(1)
            return
        console.print(f"relaying to exchange {outbox_config(settings).exchange} (Ctrl-C or SIGTERM to stop)")
        with _stop_on_signals() as stop:
            total = relay.run_forever(stop, idle_exit_s=idle_exit)
    console.print(f"outbox: {total:,} published")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM end the relay after its current batch is committed, not in the middle of it (which would
    only re-publish, but needlessly). The previous handlers come back afterwards."""
    import signal

    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@outbox_app.command("status")
def outbox_status() -> None:
    """How many changes wait for the broker, how long the oldest has waited, the most attempts any one took."""
    from datetime import UTC, datetime

    from outbox.relay import status

    with _store_sessions() as sessions, sessions() as session:
        now = status(session)
    oldest = "-"
    if now.oldest_unpublished is not None:
        age = (datetime.now(UTC) - now.oldest_unpublished).total_seconds()
        oldest = f"{age:,.0f} s ago ({now.oldest_unpublished.isoformat(timespec='seconds')})"
    console.print(f"unpublished {now.unpublished:,} · oldest {oldest} · max attempts {now.max_attempts}")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Serve the hub API (store from AUTOHUB_DATABASE_URL; migrate it first with `autohub db upgrade`)."""
    import uvicorn

    settings = get_settings()
    console.print(f"AutoHub API on http://{host}:{port} · store {shown_url(settings.effective_database_url)}")
    uvicorn.run("hub_api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower(), access_log=False, log_config=None)  # fmt: skip


match_app = typer.Typer(help="Golden-record matching: train the model, run it, review the grey band.",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(match_app, name="match")


@match_app.command("train")
def match_train(
    out: Annotated[
        Path | None, typer.Option(help="where to save the model JSON (default <data_dir>/models/party.json)")
    ] = None,
) -> None:
    """Train the party model (unsupervised: EM + u by random sampling) on the store's parties and save it."""
    from matching.run import train_party_model

    settings = get_settings()
    target = out or settings.data_dir / "models" / "party.json"
    with _store_sessions() as sessions, console.status("training the party model"):
        summary = train_party_model(sessions, matching_config(settings), target)
    console.print(f"trained on {summary['records']:,} parties → {target}\n"
                  f"use it with AUTOHUB_MATCHING__MODEL_PATH={target}")  # fmt: skip


@match_app.command("run")
def match_run(
    full: Annotated[
        bool,
        typer.Option(
            "--full/--incremental", help="full re-run, or only the parties written since the last run"
        ),
    ] = True,
) -> None:
    """Match parties into golden records (stable ids, steward decisions obeyed) and report what changed."""
    from jobs.matching import describe_full, match_full

    if not full:
        _match_incremental()
        return
    with _job("matching"), console.status("matching") as status:
        result = match_full(get_settings(), on_step=lambda s: status.update(s))
    console.print(describe_full(result))


def _match_incremental() -> None:
    from rich.progress import Progress

    from jobs.matching import describe_incremental, match_incremental
    from matching.incremental import IndexNotBuilt

    with _job("incremental matching"), Progress(console=err_console, transient=True) as progress:
        task = progress.add_task("matching new and changed parties", total=None)
        try:
            report = match_incremental(get_settings(), on_start=lambda n: progress.update(task, total=n),
                                       on_record=lambda _: progress.advance(task))  # fmt: skip
        except IndexNotBuilt as exc:
            err_console.print(f"[red]incremental matching refused[/red]: {exc}")
            raise typer.Exit(1) from exc
    console.print(describe_incremental(report))


@match_app.command("follow")
def match_follow(
    idle_exit: Annotated[
        float | None, typer.Option(help="stop after this many seconds with nothing queued (default: run)")
    ] = None,
) -> None:
    """Match new and changed records as the loaders commit them (a long-running worker; several may follow one
    PostgreSQL store, each under its own AUTOHUB_MATCHING__FOLLOW__NAME).

    Woken by PostgreSQL's NOTIFY, or polling an SQLite store; SIGTERM/SIGINT stop it after the batch in hand.
    Before the first `autohub match run --full` it waits for the key index, and says so."""
    from jobs.matching import follow

    settings = get_settings()
    follow_settings = matching_config(settings).follow
    console.print(f"following the matching queue · batches of up to {follow_settings.batch_max} "
                  "(Ctrl-C or SIGTERM to stop)")  # fmt: skip
    with _job("matching follower"), _stop_on_signals() as stop:
        totals = follow(settings, stop, idle_exit_s=idle_exit,
                        on_waiting=lambda why: err_console.print(f"[yellow]waiting[/yellow]: {escape(why)}"))  # fmt: skip
    console.print(f"matching follower: {totals.records:,} queued records in {totals.batches:,} batches · "
                  f"{totals.parties:,} parties matched · {totals.vehicles:,} golden vehicles rebuilt · "
                  f"{totals.failed:,} failed")  # fmt: skip


@match_app.command("status")
def match_status() -> None:
    """What waits for matching: queued records per entity type and how long the oldest has waited."""
    from datetime import UTC, datetime

    from rich.table import Table

    from jobs.matching import match_status as read_status

    with _job("matching status"):
        status = read_status(get_settings())
    lag = status.lag
    now = datetime.now(UTC)
    table = Table("entity type", "queued", "oldest waiting", title="Records waiting for matching")
    for entity_type, (count, oldest) in sorted(lag.by_entity.items()):
        table.add_row(entity_type, f"{count:,}", f"{(now - oldest).total_seconds():,.1f} s")
    table.add_row("all", f"{lag.records:,}", f"{lag.oldest_seconds(now):,.1f} s", style="bold")
    console.print(table)
    if lag.failing:
        console.print(f"{lag.failing:,} failed to match at least once (retried; parked after "
                      "AUTOHUB_MATCHING__FOLLOW__MAX_ATTEMPTS; the follower's log names them)")  # fmt: skip
    if lag.records and lag.oldest_seconds(now) > 60:
        console.print("is `autohub match follow` running? (or wait for the next scheduled matching run)")
    if status.vehicles_behind:
        console.print("[red]golden vehicles are behind the golden customers[/red]: a match run stopped between "
                      "the two, so recalls may miss cars; the next `autohub match run` or the follower rebuilds "
                      "every golden vehicle")  # fmt: skip


def _steward(action: str, apply: Any) -> None:
    from matching.steward import StewardRefused

    try:
        with _store_sessions() as sessions, sessions.begin() as session:
            result = apply(session)
    except StewardRefused as exc:
        err_console.print(f"[red]{action} refused[/red]: {exc}")
        raise typer.Exit(1) from exc
    for golden_id, members in result.members.items():
        console.print(f"{golden_id}: {', '.join(members)}")


@match_app.command("merge")
def match_merge(
    keep: Annotated[str, typer.Argument(help="golden id that survives")],
    absorb: Annotated[str, typer.Argument(help="golden id merged into it")],
    reason: Annotated[str, typer.Option(help="why (kept in the merge history)")],
    actor: Annotated[str, typer.Option(help="who decides")] = "steward",
) -> None:
    """A steward's merge: applied now, and kept by every later matching run."""
    from matching.steward import merge

    _steward("merge", lambda session: merge(session, keep, absorb, actor=actor, reason=reason))


@match_app.command("unmerge")
def match_unmerge(
    golden_id: Annotated[str, typer.Argument(help="the golden customer to split")],
    records: Annotated[list[str], typer.Argument(help="member records to split off, as source/key")],
    reason: Annotated[str, typer.Option(help="why (kept in the merge history)")],
    actor: Annotated[str, typer.Option(help="who decides")] = "steward",
) -> None:
    """A steward's unmerge: the records leave for a new golden record; no later run puts them back."""
    from matching.steward import unmerge

    _steward("unmerge", lambda session: unmerge(session, golden_id, records, actor=actor, reason=reason))


@match_app.command("explain")
def match_explain(
    left: Annotated[
        str, typer.Argument(help="a golden id (P-…), or a party record as source/key, e.g. erp/C00000042")
    ],
    right: Annotated[
        str | None, typer.Argument(help="the other record of a pair, e.g. dms/D31001-000123")
    ] = None,
) -> None:
    """A golden record's members and attribute origins, or the model's waterfall for one pair, in words."""
    from core.errors import HubError
    from matching.explain import explain_golden, explain_pair

    try:
        with _store_sessions() as sessions, console.status("explaining"):
            if right is None:
                with sessions() as session:
                    lines = explain_golden(session, left).lines()
            else:
                lines = explain_pair(sessions, matching_config(get_settings()), left, right).lines()
    except HubError as exc:
        err_console.print(f"[red]explain failed[/red]: {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for line in lines:
        console.print(line, markup=False, highlight=False)


@match_app.command("review")
def match_review(limit: Annotated[int, typer.Option(help="pairs to show")] = 20) -> None:
    """List the open grey-band pairs, most likely first, with both records side by side (PII masked)."""
    from rich.table import Table

    from store.golden import open_review

    with _store_sessions() as sessions, sessions() as session:
        pairs = open_review(session, "party", limit)
    table = Table("id", "probability", "left", "right", title="Pairs for a data steward (grey band)")
    for pair in pairs:
        table.add_row(
            str(pair.id), f"{pair.match_probability:.3f}", pair.left.description, pair.right.description
        )
    console.print(table)


@match_app.command("shared")
def match_shared(
    dealer: Annotated[str | None, typer.Option(help="only this dealer's numbers, e.g. D31001")] = None,
) -> None:
    """The data-quality report: mobiles/e-mails many different names share (not used as evidence), per dealer."""
    from rich.table import Table

    from store.match_keys import shared_identifiers

    with _store_sessions() as sessions, sessions() as session:
        rows = shared_identifiers(session)
    table = Table("dealer", "kind", "identifier", "names", "records", "sources",
                  title="Identifiers shared by different customers (withdrawn as matching evidence)")  # fmt: skip
    shown = 0
    for row in rows:
        for code in row.dealers or ["(no dealer)"]:
            if dealer and code != dealer:
                continue
            table.add_row(
                code, row.kind, row.masked, str(row.names), str(row.records), ", ".join(row.sources)
            )
            shown += 1
    console.print(table)
    console.print(f"{shown:,} shown; the list is rebuilt by each full matching run")


apikey_app = typer.Typer(help="API keys for the hub API (scopes: read, read:pii, steward, admin).",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="who holds the key, e.g. crm-sync or steward:li")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="repeat for several: read, read:pii, steward, admin")
    ],
) -> None:
    """Create a key and print its token once (the store keeps only a hash)."""
    from store import api_keys

    try:
        with _store_sessions() as sessions, sessions.begin() as session:
            key, token = api_keys.create(session, name, scope)
    except (api_keys.UnknownScope, api_keys.BadKeyName) as exc:
        err_console.print(f"[red]refused[/red]: {exc}")
        raise typer.Exit(1) from exc
    console.print(
        f"key {key.key_id} for {key.name} ({', '.join(sorted(key.scopes))}); token, shown only now:"
    )
    print(token)


@apikey_app.command("list")
def apikey_list() -> None:
    """The keys with their scopes and state (never the tokens)."""
    from rich.table import Table

    from store import api_keys

    with _store_sessions() as sessions, sessions() as session:
        keys = api_keys.all_keys(session)
    table = Table("key id", "name", "scopes", "created", "revoked")
    for key in keys:
        table.add_row(key.key_id, key.name, ", ".join(sorted(key.scopes)), key.created_at.isoformat(timespec="seconds"),
                      key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "")  # fmt: skip
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key: it stops working with the next request."""
    from store import api_keys

    with _store_sessions() as sessions, sessions.begin() as session:
        done = api_keys.revoke(session, key_id)
    if not done:
        err_console.print(f"[red]no active key {key_id}[/red]: see `autohub apikey list`")
        raise typer.Exit(1)
    console.print(f"key {key_id} revoked")


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
    with _job("DMS feed check"), store_sessions(settings) as sessions:
        healths = check_networks(settings, sessions, source)
    for name, health in healths.items():
        console.print(f"{name}: {health.describe()}")


@app.command()
def quality(
    output: Annotated[
        Path | None, typer.Option(help="JSON file (default: a dated file in the artefacts dir)")
    ] = None,
) -> None:
    """File the data-quality scorecard per source and per dealer (the same JSON as GET /v1/quality)."""
    from jobs.quality import file_scorecard

    with _job("quality scorecard"):
        report = file_scorecard(get_settings(), output)
    console.print("\n".join([*report.summary, f"scorecard written to {report.path}"]), soft_wrap=True)


recall_app = typer.Typer(help="Recall campaigns.", no_args_is_help=True)
app.add_typer(recall_app, name="recall")


@recall_app.command("export")
def recall_export(
    campaign: Annotated[str, typer.Option(help="the campaign's filing number")],
    vin: Annotated[
        list[str] | None, typer.Option(help="an affected VIN (repeat), instead of criteria")
    ] = None,
    wmi: Annotated[list[str] | None, typer.Option(help="world manufacturer identifier (repeat)")] = None,
    model: Annotated[list[str] | None, typer.Option(help="model name (repeat)")] = None,
    model_year: Annotated[list[int] | None, typer.Option(help="model year (repeat)")] = None,
    plant: Annotated[list[str] | None, typer.Option(help="plant code (repeat)")] = None,
    produced_from: Annotated[str | None, typer.Option(help="first production date, YYYY-MM-DD")] = None,
    produced_to: Annotated[str | None, typer.Option(help="last production date, YYYY-MM-DD")] = None,
    clear: Annotated[
        bool, typer.Option(help="owners' contacts in clear (audited with the campaign)")
    ] = False,
    output: Annotated[
        Path | None, typer.Option(help="CSV file (default: recall-CAMPAIGN.csv in the artefacts dir)")
    ] = None,
) -> None:
    """Write a campaign's affected cars with their current owners and contact channels to CSV, for the filing."""
    from pydantic import ValidationError

    from jobs.recall_export import export_recall, recall_request

    try:
        request = recall_request(campaign, vins=vin, wmi=wmi, models=model, model_years=model_year, plants=plant,
                                 produced_from=produced_from, produced_to=produced_to)  # fmt: skip
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from exc
    with _job("recall export"):
        done = export_recall(get_settings(), request, path=output, clear=clear)
    console.print(f"{done.vehicles:,} affected cars ({done.without_owner:,} without a known owner; "
                  f"{done.invalid_vins:,} invalid and {done.not_found:,} unknown VINs in the list) → {done.path}", soft_wrap=True)  # fmt: skip


db_app = typer.Typer(help="The hub store's schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Migrate the store at AUTOHUB_DATABASE_URL (default: an SQLite file in AUTOHUB_DATA_DIR) to a revision."""
    from store.migrate import current_revision, upgrade

    url = get_settings().effective_database_url
    upgrade(url, revision)
    console.print(f"store {shown_url(url)} at revision [bold]{current_revision(url)}[/bold]")


@db_app.command("current")
def db_current() -> None:
    """Show the store's revision and the newest one this version of AutoHub knows."""
    from store.migrate import current_revision, head_revision

    url = get_settings().effective_database_url
    current, head = current_revision(url), head_revision()
    console.print(f"store {shown_url(url)}: revision {current or 'none (empty)'}; head {head}")
    if current != head:
        err_console.print("the store is behind: run `autohub db upgrade`")
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
