"""``autohub quality`` and ``autohub recall export``: the two jobs that file a document for people outside the hub.

Why a module of its own: both are the command-line twins of scheduled DAG jobs, and both write a file to the
artefacts directory — the data-quality scorecard for the source owners, a recall campaign's affected cars and
owners for the filing — rather than change the store.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from autohub.cli.errors import hub_errors
from autohub.cli.output import console
from core.settings import get_settings


def quality(
    output: Annotated[
        Path | None, typer.Option(help="JSON file (default: a dated file in the artefacts dir)")
    ] = None,
) -> None:
    """File the data-quality scorecard per source and per dealer (the same JSON as GET /v1/quality)."""
    from jobs.quality import file_scorecard

    with hub_errors("quality scorecard"):
        report = file_scorecard(get_settings(), output)
    console.print("\n".join([*report.summary, f"scorecard written to {report.path}"]), soft_wrap=True)


recall_app = typer.Typer(help="Recall campaigns.", no_args_is_help=True)


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
    with hub_errors("recall export"):
        done = export_recall(get_settings(), request, path=output, clear=clear)
    console.print(f"{done.vehicles:,} affected cars ({done.without_owner:,} without a known owner; "
                  f"{done.invalid_vins:,} invalid and {done.not_found:,} unknown VINs in the list) → {done.path}", soft_wrap=True)  # fmt: skip
