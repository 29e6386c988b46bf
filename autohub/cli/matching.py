"""``autohub match``: golden-record matching — train, run, follow the queue, explain, and a steward's decisions.

Why a module of its own: matching is the hub's core job and has the most commands: batch runs and the
long-running follower, what waits for them, the steward's merges and unmerges, and the reports a person
reads to trust (or correct) a golden record.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from autohub.cli.errors import hub_errors
from autohub.cli.output import console, err_console
from autohub.cli.workers import stop_on_signals
from core.settings import get_settings
from matching.config import matching_config

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from matching.steward import StewardResult

match_app = typer.Typer(help="Golden-record matching: train the model, run it, review the grey band.",
                        no_args_is_help=True)  # fmt: skip


@match_app.command("train")
def match_train(
    out: Annotated[
        Path | None, typer.Option(help="where to save the model JSON (default <data_dir>/models/party.json)")
    ] = None,
) -> None:
    """Train the party model (unsupervised: EM + u by random sampling) on the store's parties and save it."""
    from jobs.store_access import store_sessions
    from matching.run import train_party_model

    settings = get_settings()
    target = out or settings.data_dir / "models" / "party.json"
    with (
        hub_errors("model training"),
        store_sessions(settings) as sessions,
        console.status("training the party model"),
    ):
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
    with hub_errors("matching"), console.status("matching") as status:
        result = match_full(get_settings(), on_step=lambda s: status.update(s))
    console.print(describe_full(result))


def _match_incremental() -> None:
    from rich.progress import Progress

    from jobs.matching import describe_incremental, match_incremental
    from matching.incremental import IndexNotBuilt

    with (
        hub_errors("incremental matching", refusals=(IndexNotBuilt,)),
        Progress(console=err_console, transient=True) as progress,
    ):
        task = progress.add_task("matching new and changed parties", total=None)
        report = match_incremental(get_settings(), on_start=lambda n: progress.update(task, total=n),
                                   on_record=lambda _: progress.advance(task))  # fmt: skip
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
    with hub_errors("matching follower"):
        follow_settings = matching_config(settings).follow
        console.print(f"following the matching queue · batches of up to {follow_settings.batch_max} "
                      "(Ctrl-C or SIGTERM to stop)")  # fmt: skip
        with stop_on_signals() as stop:
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

    with hub_errors("matching status"):
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


Reason = Annotated[str, typer.Option(help="why (kept in the merge history)")]
Actor = Annotated[str, typer.Option(help="who decides")]


def _steward(action: str, apply: Callable[[Session], StewardResult]) -> None:
    """Apply a steward's decision in one transaction and print the golden records it leaves."""
    from jobs.store_access import store_sessions
    from matching.steward import StewardRefused

    with (
        hub_errors(action, refusals=(StewardRefused,)),
        store_sessions(get_settings()) as sessions,
        sessions.begin() as session,
    ):
        result = apply(session)
    for golden_id, members in result.members.items():
        console.print(f"{golden_id}: {', '.join(members)}")


@match_app.command("merge")
def match_merge(
    keep: Annotated[str, typer.Argument(help="golden id that survives")],
    absorb: Annotated[str, typer.Argument(help="golden id merged into it")],
    reason: Reason,
    actor: Actor = "steward",
) -> None:
    """A steward's merge: applied now, and kept by every later matching run."""
    from matching.steward import merge

    _steward("merge", lambda session: merge(session, keep, absorb, actor=actor, reason=reason))


@match_app.command("unmerge")
def match_unmerge(
    golden_id: Annotated[str, typer.Argument(help="the golden customer to split")],
    records: Annotated[list[str], typer.Argument(help="member records to split off, as source/key")],
    reason: Reason,
    actor: Actor = "steward",
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
    from jobs.store_access import store_sessions
    from matching.explain import explain_golden, explain_pair

    settings = get_settings()
    with hub_errors("explain"), store_sessions(settings) as sessions, console.status("explaining"):
        if right is None:
            with sessions() as session:
                lines = explain_golden(session, left).lines()
        else:
            lines = explain_pair(sessions, matching_config(settings), left, right).lines()
    for line in lines:
        console.print(line, markup=False, highlight=False)


@match_app.command("review")
def match_review(limit: Annotated[int, typer.Option(help="pairs to show")] = 20) -> None:
    """List the open grey-band pairs, most likely first, with both records side by side (PII masked)."""
    from rich.table import Table

    from jobs.store_access import store_sessions
    from store.golden import open_review

    with hub_errors("grey-band review"), store_sessions(get_settings()) as sessions, sessions() as session:
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

    from jobs.store_access import store_sessions
    from store.match_keys import shared_identifiers

    with (
        hub_errors("shared identifier report"),
        store_sessions(get_settings()) as sessions,
        sessions() as session,
    ):
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
