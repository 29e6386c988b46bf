"""The matching queue's backlog and age in ``GET /metrics``: the lag a pushed record waits for its golden record."""

from __future__ import annotations

import re

from mappings import MappingRegistry
from pipeline import Loader
from store.engine import create_store_engine, session_factory
from tests.hub_api.conftest import LiveApi
from tests.matching.conftest import MOBILE, lead, load


def _gauge(text: str, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert found, f"{name} not in /metrics"
    return float(found.group(1))


def test_metrics_report_what_waits_for_matching_and_for_how_long(live_api: LiveApi) -> None:
    engine = create_store_engine(live_api.store_url)
    load(
        Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k"),
        lead("D99001-000123", "Wei Zhang", MOBILE, 1),
    )
    engine.dispose()
    text = live_api.client.get("/metrics").text
    assert _gauge(text, "autohub_match_pending_records") == 2.0  # the lead's customer and its event
    assert 0.0 < _gauge(text, "autohub_match_pending_oldest_seconds") < 300
    assert "Wei Zhang" not in text
