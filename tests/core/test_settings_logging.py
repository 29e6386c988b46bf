"""Settings refuse a demo secret outside the demo; logs never carry a clear ID number or phone."""

import pytest
from pydantic import ValidationError

from core.logging import mask_text
from core.settings import Settings


def test_demo_key_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOHUB_ENV", "prod")
    monkeypatch.delenv("AUTOHUB_PII_HASH_KEY", raising=False)
    with pytest.raises(ValidationError, match="AUTOHUB_PII_HASH_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("AUTOHUB_PII_HASH_KEY", "x" * 48)
    assert Settings(_env_file=None).env == "prod"


def test_default_store_is_an_sqlite_file_in_the_data_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTOHUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("AUTOHUB_DATA_DIR", "/tmp/hub")
    assert Settings(_env_file=None).effective_database_url == "sqlite:////tmp/hub/autohub.db"


def test_log_masking_of_ids_and_mobiles() -> None:
    line = "customer 11010519491231002X phone +8613812345678 alt 13971234765 order 2026010112"
    masked = mask_text(line)
    assert "11010519491231002X" not in masked
    assert "110105********002X" in masked
    assert "+86138****5678" in masked
    assert "139****4765" in masked
    assert "2026010112" in masked  # ordinary numbers are left alone


def test_every_cli_command_logs_masked_pii_to_stderr_not_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    from autohub.cli import _configure_logging

    _configure_logging()  # what the CLI runs before any command
    structlog.get_logger("test").warning("sync", mobile="13912345678", id_number="11010519491231002X")
    out, err = capsys.readouterr()
    assert out == ""  # stdout stays clean for results such as `autohub schema > file`
    assert "139****5678" in err
    assert "13912345678" not in err
    assert "11010519491231002X" not in err


def test_a_room_reads_its_own_block_and_a_wrong_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from core.errors import ConfigError
    from matching.config import MatchingConfig, matching_config

    monkeypatch.setenv("AUTOHUB_MATCHING__FOLLOW__NAME", "follower-7")
    monkeypatch.setenv("AUTOHUB_MATCHING__MATCH_THRESHOLD", "0.95")
    block = matching_config(Settings(_env_file=None))
    assert (block.follow.name, block.match_threshold) == ("follower-7", 0.95)
    given = MatchingConfig(match_threshold=0.8)  # given directly, the environment is not read
    assert matching_config(Settings(_env_file=None, sections={"matching": given})) is given
    monkeypatch.setenv("AUTOHUB_MATCHING__FOLLOW__BATCH_MAX", "many")
    with pytest.raises(ConfigError, match="AUTOHUB_MATCHING__FOLLOW__BATCH_MAX"):
        matching_config(Settings(_env_file=None))


def test_the_ground_floor_imports_no_room_of_the_hub() -> None:
    import subprocess
    import sys

    rooms = ("autohub", "canonical_model", "connectors", "mappings", "store", "matching", "pipeline", "jobs",
             "hub_api", "outbox", "recall", "fakes", "sample_data", "dags")  # fmt: skip
    probe = ("import sys, core.settings, core.errors, core.logging, core.masking; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({rooms!r})))")  # fmt: skip
    shown = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "[]"
