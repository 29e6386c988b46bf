"""`autohub demo` end to end on an SQLite file: five sources in, counts reconcile, ground truth holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from autohub.cli import app
from autohub.demo import run_demo
from autohub.settings import Settings, get_settings

runner = CliRunner()


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_demo_command_loads_five_sources_and_reports(demo_dir: Path) -> None:
    result = runner.invoke(app, ["demo", "--people", "150", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert (demo_dir / "autohub.db").exists()
    for source in ("erp", "finance", "insurance", "dms", "portal"):
        assert source in result.output
    assert "clean records quarantined: 0" in result.output
    assert "defective records let through: 0" in result.output
    assert "Golden-record matching is not built yet" in result.output


def test_demo_reconciles_and_a_second_run_on_the_same_store_changes_nothing(demo_dir: Path) -> None:
    settings = Settings(data_dir=demo_dir)
    first = run_demo(settings, people=120, seed=5)
    assert {r.source for r in first.reconciliation} == {"erp", "finance", "insurance", "dms", "portal"}
    assert all(r.balanced for r in first.reconciliation)
    assert sum(r.quarantined for r in first.loads.values()) == len(first.expected_quarantine) > 0
    assert first.actual_quarantine == first.expected_quarantine
    second = run_demo(settings, people=120, seed=5, fresh=False)
    assert all(r.unchanged == r.records_in for r in second.loads.values())
    assert second.canonical == first.canonical
    assert all(r.balanced for r in second.reconciliation)
