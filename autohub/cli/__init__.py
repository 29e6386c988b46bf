"""The ``autohub`` command line: the root Typer ``app``, the check every command starts with, and its groups.

The CLI and the Airflow DAGs call the same library functions. Each command group lives in its own module
(``sources``, ``matching``, ``quarantine``, …); this one only assembles them, in the order ``autohub --help``
lists them, so that the whole command line can be read here in one page. How errors become exit codes is
``errors``; how output is sized for a terminal or a pipe is ``output``.
"""

from __future__ import annotations

import typer

from autohub.cli.apikey import apikey_app
from autohub.cli.dms import dms_app
from autohub.cli.errors import settings_checked
from autohub.cli.matching import match_app
from autohub.cli.model import schema, validate
from autohub.cli.outbox import outbox_app
from autohub.cli.quarantine import quarantine_app
from autohub.cli.reports import quality, recall_app
from autohub.cli.sources import load, sources_app, sync
from autohub.cli.store import db_app, demo, serve
from core.settings import get_settings

app = typer.Typer(
    help="AutoHub: one customer, one car, across ERP, finance, insurance, dealers and the portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def _configure_logging() -> None:
    """Every command logs through one configuration: level and format from the settings, PII masked, stderr."""
    from autohub.blocks import check_blocks
    from core.logging import configure

    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    with settings_checked():
        check_blocks(settings)  # a wrong AUTOHUB_<BLOCK>__… fails the command now, not mid-job


for command in (validate, schema, demo, sync, load, serve, quality):
    app.command()(command)
for group, name in (
    (sources_app, "sources"),
    (quarantine_app, "quarantine"),
    (dms_app, "dms"),
    (outbox_app, "outbox"),
    (match_app, "match"),
    (apikey_app, "apikey"),
    (recall_app, "recall"),
    (db_app, "db"),
):
    app.add_typer(group, name=name)


def main() -> None:
    app()
