"""How the command line reaches whoever reads it: tables whole where no terminal reads them (a pipe, a log, Typer's
runner), and one mapping from the hub's errors to exit codes and messages."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from autohub.cli.errors import hub_errors
from core.errors import HubError, SourceUnavailable
from jobs.store_access import StoreNotMigrated
from matching.steward import StewardRefused
from tests.mappings.test_sources import ERP_CUSTOMER


def test_the_load_table_is_printed_whole_when_the_output_is_not_a_terminal(
    hub_cli: Callable[..., Result], tmp_path: Path
) -> None:
    """Piped or logged, nobody can widen the window: no column cut to "unchan…", no reason to "invali…"."""
    assert hub_cli("db", "upgrade").exit_code == 0
    path = tmp_path / "customers_export_from_the_north_region_dealers.csv"
    wrong_check_digit = {**ERP_CUSTOMER, "KUNNR": "C00000043", "ID_NO": "110105194912310021"}
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(ERP_CUSTOMER))
        writer.writeheader()
        writer.writerows([ERP_CUSTOMER, wrong_check_digit])

    done = hub_cli("load", "erp", str(path), "--stream", "customers")
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    (header,) = [line for line in lines if "top reasons" in line]
    for column in ("file", "stream", "rows in", "unchanged", "mapped", "partly mapped", "quarantined"):
        assert f" {column} " in header
    (row,) = [line for line in lines if path.name in line and "│" in line]  # one line: nothing wrapped or cut
    assert "invalid_resident_id.check_digit 1" in row
    assert "…" not in done.stdout


def _failing(error: Exception) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def job() -> None:
        with hub_errors("sync erp", refusals=(StewardRefused,)):
            raise error

    return app


@pytest.mark.parametrize(("error", "code", "said"), [
    (StoreNotMigrated("the store is at schema none", fix="run `autohub db upgrade` against it"), 2,
     "the store is at schema none — run `autohub db upgrade` against it"),
    (SourceUnavailable("ERP answered 503 for [customers]"), 1, "sync erp failed: ERP answered 503 for [customers]"),
    (HubError("no mapping"), 1, "sync erp failed: no mapping"),
    (StewardRefused("P-1 is not active"), 1, "sync erp refused: P-1 is not active"),
])  # fmt: skip
def test_a_hub_error_becomes_one_exit_code_and_one_message_on_stderr(
    error: HubError, code: int, said: str
) -> None:
    done = CliRunner().invoke(_failing(error), [])
    assert done.exit_code == code
    assert " ".join(done.stderr.split()) == said
    assert done.stdout == ""


def test_an_error_outside_the_hub_is_not_turned_into_a_message() -> None:
    done = CliRunner().invoke(_failing(KeyError("bug")), [])
    assert isinstance(done.exception, KeyError)  # a bug keeps its traceback
