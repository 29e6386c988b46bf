"""The one saved watermark shape (connectors/incremental.py): what every pull type saves and reads back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.incremental import Watermark, after_pass, full_extract
from connectors.sync_clock import SyncClock
from core.errors import ConfigError


def test_a_saved_state_reads_back_as_it_was_written() -> None:
    paused = Watermark("2024-03-01T10:00:00+08:00").paused("2024-03-01T09:55:00+08:00", "page-2", None)
    for state in (Watermark(), after_pass(SyncClock(), None), full_extract("2024-03-01T10:00:00+08:00"), paused,
                  Watermark("2024-03-01T10:00:01+08:00", "F100", "Asia/Shanghai")):  # fmt: skip
        assert Watermark.load(state.dump(), source="s", stream="t") == state


def test_a_pass_starts_the_look_back_before_the_watermark() -> None:
    saved = Watermark.load({"changed_since": "2024-03-01T10:00:00+08:00"}, source="s", stream="t")
    assert saved.resume_from(300) == datetime.fromisoformat("2024-03-01T09:55:00+08:00")
    assert Watermark.load(None, source="s", stream="t").resume_from(300) is None


def test_a_time_the_run_start_capped_loses_its_key() -> None:
    clock = SyncClock(started=datetime(2024, 3, 1, 2, 0, tzinfo=UTC), clock_margin_s=60)
    ahead = datetime(2024, 3, 1, 2, 50, tzinfo=UTC)
    assert after_pass(clock, ahead, key="F9").dump() == {"changed_since": "2024-03-01T01:59:00+00:00"}
    behind = ahead - timedelta(hours=1)
    assert after_pass(clock, behind, key="F9").dump() == {"changed_since": behind.isoformat(), "key": "F9"}


def test_a_shape_this_hub_does_not_write_is_refused_naming_the_keys_and_the_fix() -> None:
    with pytest.raises(ConfigError) as caught:
        Watermark.load(
            {"cursor": "2024-03-01T10:00:00+08:00", "key": "F1"}, source="finance", stream="customers"
        )
    assert "cursor" in str(caught.value)
    assert "finance/customers" in str(caught.value)
    assert "autohub db upgrade" in (caught.value.fix or "")
