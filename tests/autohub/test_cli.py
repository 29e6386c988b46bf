"""`autohub validate` and `autohub schema` through the real command line (Typer's runner)."""

import json

import pytest
from typer.testing import CliRunner

from autohub.cli import app

runner = CliRunner()


@pytest.mark.parametrize(("kind", "value", "normalised"), [
    ("vin", "LFV2A21K7G3000001", "LFV2A21K7G3000001"), ("vin", "lsgpc52u4hf012345", "LSGPC52U4HF012345"),
    ("vin", "LSVAB4182N2000777", "LSVAB4182N2000777"), ("ric", "11010519491231002X", "11010519491231002X"),
    ("ric", "110105491231002", "11010519491231002X"), ("uscc", "91350100M000100Y43", "91350100M000100Y43"),
    ("mobile", "+86 138 1234 5678", "+8613812345678"), ("plate", "京A·12345", "京A12345"),
])  # fmt: skip
def test_validate_accepts_published_vectors(kind: str, value: str, normalised: str) -> None:
    result = runner.invoke(app, ["validate", kind, value])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == normalised


@pytest.mark.parametrize(("kind", "value", "words"), [
    ("vin", "LFV2A21K0G3000001", "check digit"), ("ric", "110105194912310021", "MOD 11-2"),
    ("uscc", "91350100M000100Y44", "check character"), ("mobile", "12812345678", "13-19"),
    ("plate", "AB12345", "province"),
])  # fmt: skip
def test_validate_rejects_with_a_reason(kind: str, value: str, words: str) -> None:
    result = runner.invoke(app, ["validate", kind, value])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert words in " ".join(result.stderr.split())


def test_validate_details_prints_what_the_id_encodes() -> None:
    result = runner.invoke(app, ["validate", "ric", "110105491231002", "--details"])
    details = json.loads(result.stdout.splitlines()[1])
    assert details["birth_date"] == "1949-12-31"
    assert details["upgraded_from_15"] is True


def test_schema_prints_json_schema() -> None:
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert "Vehicle" in doc["$defs"]
    one = json.loads(runner.invoke(app, ["schema", "--entity", "vehicle"]).stdout)
    assert one["title"] == "Vehicle"


def test_db_upgrade_then_current(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from core.settings import get_settings

    monkeypatch.setenv("AUTOHUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        behind = runner.invoke(app, ["db", "current"])
        assert behind.exit_code == 1
        assert "autohub db upgrade" in behind.output
        upgraded = runner.invoke(app, ["db", "upgrade"])
        assert upgraded.exit_code == 0, upgraded.output
        assert (tmp_path / "autohub.db").exists()
        assert runner.invoke(app, ["db", "current"]).exit_code == 0
    finally:
        get_settings.cache_clear()
