"""``autohub apikey``: the hub API's keys — create one (its token shown once), list them, revoke one.

Why a module of its own: keys are the API's access control; the store keeps only their hashes, and these
commands are how an administrator hands one out and takes it back without the API itself.
"""

from __future__ import annotations

from typing import Annotated

import typer

from autohub.cli.errors import FAILED, hub_errors
from autohub.cli.output import console, err_console
from core.settings import get_settings

apikey_app = typer.Typer(help="API keys for the hub API (scopes: read, read:pii, steward, admin).",
                         no_args_is_help=True)  # fmt: skip


@apikey_app.command("create")
def apikey_create(
    name: Annotated[str, typer.Argument(help="who holds the key, e.g. crm-sync or steward:li")],
    scope: Annotated[
        list[str], typer.Option("--scope", help="repeat for several: read, read:pii, steward, admin")
    ],
) -> None:
    """Create a key and print its token once (the store keeps only a hash)."""
    from jobs.store_access import store_sessions
    from store import api_keys

    with (
        hub_errors("apikey create", refusals=(api_keys.UnknownScope, api_keys.BadKeyName)),
        store_sessions(get_settings()) as sessions,
        sessions.begin() as session,
    ):
        key, token = api_keys.create(session, name, scope)
    console.print(
        f"key {key.key_id} for {key.name} ({', '.join(sorted(key.scopes))}); token, shown only now:"
    )
    print(token)


@apikey_app.command("list")
def apikey_list() -> None:
    """The keys with their scopes and state (never the tokens)."""
    from rich.table import Table

    from jobs.store_access import store_sessions
    from store import api_keys

    with hub_errors("apikey list"), store_sessions(get_settings()) as sessions, sessions() as session:
        keys = api_keys.all_keys(session)
    table = Table("key id", "name", "scopes", "created", "revoked")
    for key in keys:
        table.add_row(key.key_id, key.name, ", ".join(sorted(key.scopes)), key.created_at.isoformat(timespec="seconds"),
                      key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "")  # fmt: skip
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: str) -> None:
    """Revoke a key: it stops working with the next request."""
    from jobs.store_access import store_sessions
    from store import api_keys

    with hub_errors("apikey revoke"), store_sessions(get_settings()) as sessions, sessions.begin() as session:
        done = api_keys.revoke(session, key_id)
    if not done:
        err_console.print(f"[red]no active key {key_id}[/red]: see `autohub apikey list`")
        raise typer.Exit(FAILED)
    console.print(f"key {key_id} revoked")
