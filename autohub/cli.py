"""The ``autohub`` command line. The CLI and the Airflow DAGs call the same library functions."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from autohub.settings import get_settings
from canonical_model.identifiers import InvalidIdentifier, mobile, plate, resident_id, uscc, vin

app = typer.Typer(
    help="AutoHub: one customer, one car, across ERP, finance, insurance, dealers and the portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)


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
def demo() -> None:
    """Run the main job on the embedded default (SQLite/DuckDB, no servers)."""
    settings = get_settings()
    from canonical_model.names import normalise_name

    console.rule("[bold]AutoHub demo")
    table = Table("kind", "as received", "result")
    samples = [
        (IdKind.VIN, "lfv2a21k7g3000001"), (IdKind.VIN, "LFV2A21K0G3000001"), (IdKind.VIN, "LFV2A21K7G3OOO001"),
        (IdKind.RIC, "110105491231002"), (IdKind.RIC, "110105194912310021"), (IdKind.USCC, "91350100M000100Y43"),
        (IdKind.MOBILE, "+86 139-7123-4765"), (IdKind.PLATE, "粤B·12345D"),
    ]  # fmt: skip
    for kind, raw in samples:
        try:
            normalised, _, warnings = _parse(kind, raw)
            shown = resident_id.parse(normalised).masked if kind is IdKind.RIC else normalised
            result = f"[green]{shown}[/green]" + "".join(f" [yellow]({w})[/yellow]" for w in warnings)
        except InvalidIdentifier as exc:
            result = f"[red]{exc.reason}[/red]: {exc.message}"
        table.add_row(kind.value, resident_id.compact(raw)[:6] + "…" if kind is IdKind.RIC else raw, result)
    console.print(table)
    names = Table("name as received", "simplified", "surname-first pinyin key")
    for raw in ("張偉", "张伟", "Wei Zhang", "單田芳", "欧阳娜娜", "Chan Tai Man"):
        n = normalise_name(raw)
        names.add_row(raw, n.simplified or "—", n.pinyin)
    console.print(names)
    console.print(
        f"store: {settings.effective_database_url}\n"
        "[yellow]Not built yet:[/yellow] the hub store, the five source mappings and the loading of demo data "
        "(issue #2, next slice); golden matching comes with issue #4."
    )


db_app = typer.Typer(help="The hub store's schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="target revision")] = "head",
) -> None:
    """Migrate the store at AUTOHUB_DATABASE_URL (default: an SQLite file in AUTOHUB_DATA_DIR) to a revision."""
    from store.migrate import current_revision, upgrade

    url = get_settings().effective_database_url
    upgrade(url, revision)
    console.print(f"store {_shown_url(url)} at revision [bold]{current_revision(url)}[/bold]")


@db_app.command("current")
def db_current() -> None:
    """Show the store's revision and the newest one this version of AutoHub knows."""
    from store.migrate import current_revision, head_revision

    url = get_settings().effective_database_url
    current, head = current_revision(url), head_revision()
    console.print(f"store {_shown_url(url)}: revision {current or 'none (empty)'}; head {head}")
    if current != head:
        err_console.print("the store is behind: run `autohub db upgrade`")
        raise typer.Exit(1)


def main() -> None:
    app()
