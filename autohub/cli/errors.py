"""One mapping from the hub's errors to a command's exit code and message.

Why a module of its own: each command used to turn errors into exit codes its own way. Here is the one place
that says how a failure reaches the shell: a store behind the code's schema exits 2 with the command that
fixes it; any other ``HubError`` exits 1 with "<what> failed: <message>"; an error a command names as a
refusal (a steward decision the store cannot apply, a key name with a control character) exits 1 with
"<what> refused: <message>"; a wrong setting found before any command runs exits 2. Messages go to stderr,
escaped (a path in brackets is no markup), so that stdout holds only results.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.markup import escape

from autohub.cli.output import err_console
from core.errors import ConfigError, HubError
from jobs.store_access import StoreNotMigrated

FAILED = 1
"""The command ran and failed (or was refused): a source down, a mapping wrong, a decision not applicable."""
NOT_READY = 2
"""The command cannot run as things are set up: the store behind the schema, a wrong setting."""


@contextmanager
def hub_errors(what: str, *, refusals: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn a hub error raised in the block into the exit code and the message on stderr (``what``: the job,
    e.g. "sync erp"); an error of a class in ``refusals`` is worded "<what> refused"."""
    try:
        yield
    except StoreNotMigrated as exc:
        err_console.print(escape(str(exc)))  # says which command upgrades the store
        raise typer.Exit(NOT_READY) from exc
    except refusals as exc:
        err_console.print(f"[red]{escape(what)} refused[/red]: {escape(str(exc))}")
        raise typer.Exit(FAILED) from exc
    except HubError as exc:
        err_console.print(f"[red]{escape(what)} failed[/red]: {escape(str(exc))}")
        raise typer.Exit(FAILED) from exc


@contextmanager
def settings_checked() -> Iterator[None]:
    """The settings' check before every command: a wrong ``AUTOHUB_…`` variable exits 2, like a wrong option."""
    try:
        yield
    except ConfigError as exc:
        err_console.print(f"[red]configuration error[/red]: {escape(str(exc))}")
        raise typer.Exit(NOT_READY) from None
