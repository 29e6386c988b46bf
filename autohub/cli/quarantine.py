"""``autohub quarantine``: what waits in quarantine, and replaying it after a mapping fix.

Why a module of its own: quarantine is where a record the mappings refused waits for a person; counting it and
mapping it again (with its dry run, its selection and its report) is a steward's task of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from autohub.cli.errors import hub_errors
from autohub.cli.output import console
from core.settings import get_settings

if TYPE_CHECKING:
    from jobs.quarantine_replay import ReplayReport

quarantine_app = typer.Typer(help="Quarantined records: what waits, and replaying it after a mapping fix.",
                             no_args_is_help=True)  # fmt: skip


@quarantine_app.command("counts")
def quarantine_counts(
    source: Annotated[str | None, typer.Option(help="only this source, e.g. dms")] = None,
) -> None:
    """Unresolved quarantine entries by source and reason, most frequent first (as GET /v1/quarantine/counts)."""
    from rich.table import Table

    from jobs.store_access import store_sessions
    from store.reports import quarantine_by_reason

    with hub_errors("quarantine counts"), store_sessions(get_settings()) as sessions, sessions() as session:
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
    with hub_errors("quarantine replay"), Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=None)
        report = replay(settings, selection, actor=actor or _user(),
                        on_start=lambda n: progress.update(task, total=n),
                        on_progress=lambda n: progress.advance(task, n))  # fmt: skip
    _print_replay(report)
    if match and not report.entities:
        console.print("nothing to match: the replay wrote no canonical records")
    elif match:
        from jobs import matching as matching_job

        with hub_errors("matching"), console.status("matching the recovered records"):
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
