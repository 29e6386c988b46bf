"""``autohub validate`` and ``autohub schema``: the canonical model at hand, with no store and no source.

Why a module of its own: these are the commands a newcomer tries first and a script calls in a loop; they
read nothing but ``canonical_model`` and print their result on plain stdout so that it can be captured.
"""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from enum import StrEnum
from typing import Annotated, Any

import typer

from autohub.cli.errors import FAILED, hub_errors
from autohub.cli.output import err_console
from canonical_model.identifiers import InvalidIdentifier, mobile, plate, resident_id, uscc, vin


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


def validate(
    kind: Annotated[IdKind, typer.Argument(help="vin | ric (resident ID) | uscc | mobile | plate")],
    value: Annotated[str, typer.Argument(help="the value as received")],
    details: Annotated[
        bool, typer.Option("--details", help="print what the identifier encodes as JSON")
    ] = False,
) -> None:
    """Check an identifier: prints the normalised value (exit 0) or says what is wrong (exit 1)."""
    with hub_errors("validate"):
        try:
            normalised, parsed, warnings = _parse(kind, value)
        except InvalidIdentifier as exc:  # the answer "not valid", not a failure: said as such
            err_console.print(f"[red]invalid[/red] {exc} [dim](reason: {exc.reason})[/dim]")
            raise typer.Exit(FAILED) from None
    print(normalised)  # plain stdout so that scripts can capture it
    for warning in warnings:
        err_console.print(f"[yellow]warning[/yellow] {warning}")
    if details and is_dataclass(parsed):
        print(json.dumps(asdict(parsed), default=str, ensure_ascii=False))  # type: ignore[arg-type]


def schema(
    entity: Annotated[str | None, typer.Option(help="only this entity, e.g. Party")] = None,
) -> None:
    """Print the JSON Schema of the canonical model (the contract downstream teams code against)."""
    from canonical_model.schema import canonical_json_schema

    with hub_errors("schema"):
        document = canonical_json_schema(entity)
    print(json.dumps(document, indent=2, ensure_ascii=False))
