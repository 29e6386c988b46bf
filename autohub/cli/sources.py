"""``autohub sources``, ``autohub sync`` and ``autohub load``: what comes into the hub, and bringing it in.

Why a module of its own: the declared sources, pulling one of them from its saved watermarks and loading a
team's extract files through a source's mapping are one concern — records entering the store — and they
share their words (mapped, partly mapped, quarantined, top reasons).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from autohub.cli.errors import FAILED, hub_errors
from autohub.cli.output import console, err_console
from core.settings import get_settings
from jobs.config import orchestration_config


def sync(
    source: Annotated[str, typer.Argument(help="a declared pull source, e.g. erp (autohub sources list)")],
) -> None:
    """Sync one source into the store from its saved watermarks (incremental, idempotent, retried)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from jobs.sync import describe, sync_source

    columns = (SpinnerColumn(), TextColumn(f"syncing {source}"), TextColumn("{task.completed:,} records"),
               TimeElapsedColumn())  # fmt: skip
    with hub_errors(f"sync {source}"), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("sync", total=None)
        report = sync_source(source, get_settings(), on_progress=lambda n: progress.advance(task, n))
    console.print(describe(report))


sources_app = typer.Typer(help="The declared sources (AUTOHUB_SOURCES_FILE, default core/sources.yaml).",
                          no_args_is_help=True)  # fmt: skip


@sources_app.command("list")
def sources_list() -> None:
    """Every declared source: its type, mapping, schedule; the file is checked whole (types, settings, secrets)."""
    from rich.table import Table

    from connectors.sources import declared_sources
    from jobs.config import declared_pull_sources

    settings = get_settings()
    with hub_errors("sources list"):
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

    with hub_errors(f"sources check {source}"):
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


def load(
    source: Annotated[str, typer.Argument(help="the source whose mapping reads the files, e.g. erp or fleet")],
    files: Annotated[list[Path], typer.Argument(help="CSV, TSV, JSON Lines or Excel files", exists=True, dir_okay=False)],
    stream: Annotated[str | None, typer.Option(help="the mapping's stream (default: the only one, or the one the file name contains)")] = None,
    encoding: Annotated[str, typer.Option(help="text files' encoding, e.g. gbk for older dealer tools")] = "utf-8",
    sheet: Annotated[str | None, typer.Option(help="Excel: the sheet (default: the first)")] = None,
    partition: Annotated[str | None, typer.Option(help="K/N: load only partition K of N — run N loaders side by side (PostgreSQL); every row goes to exactly one")] = None,
) -> None:  # fmt: skip
    """Load extract files through a source's mapping (one sync run per file) and print the reconciliation.

    A file that cannot be read as a whole (two encodings, a header without the id column) is refused with one
    message and nothing of it stored; the other files are loaded, and the command exits 1."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
    from rich.table import Table

    from connectors.file_lines import FileReadLimits, UnreadableFile
    from jobs.file_load import load_file
    from jobs.store_access import store_loader
    from pipeline.partition import Partition

    settings = get_settings()
    with hub_errors(f"load {source}"):
        part = Partition.parse(partition) if partition else None
    table = Table(
        "file", "stream", "rows in", "unchanged", "mapped", "partly mapped", "quarantined", "top reasons"
    )
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    tallies: list[str] = []
    refused: list[str] = []
    with (
        hub_errors(f"load {source}"),
        store_loader(settings) as loader,
        Progress(*columns, console=console, transient=True) as bar,
    ):
        limits = settings.section("files", FileReadLimits)
        for path in files:
            task = bar.add_task(path.name, total=None)

            def advance(rows: int, task: TaskID = task) -> None:
                bar.advance(task, rows)

            def expect(rows: int | None, task: TaskID = task) -> None:
                bar.update(task, total=rows)

            try:
                done = load_file(loader, source, path, stream=stream, encoding=encoding, sheet=sheet,
                                 limits=limits, on_rows=advance, on_open=expect, partition=part)  # fmt: skip
            except UnreadableFile as exc:  # this file refused whole; the others are still loaded
                refused.append(f"[red]{escape(path.name)} refused[/red]: {escape(str(exc))}")
                continue
            r = done.report
            reasons = ", ".join(f"{k} {n:,}" for k, n in r.reasons.most_common(3))
            table.add_row(path.name, done.stream, f"{r.records_in:,}", f"{r.unchanged:,}", f"{r.mapped:,}",
                          f"{r.partial:,}", f"{r.quarantined:,}", reasons)  # fmt: skip
            if done.lines.physical:
                tallies.append(f"{path.name}: {done.lines.describe()}"
                               + (f"; {done.elsewhere:,} left to the other partitions" if part else ""))  # fmt: skip
    console.print(table)
    console.print("\n".join(escape(t) for t in tallies))
    console.print("Quarantined rows: autohub quarantine counts / GET /v1/quarantine; then autohub match run.")
    if refused:
        err_console.print("\n".join(refused))
        raise typer.Exit(FAILED)
