"""``GET /v1/sync-runs``: a scheduler reads which running run is alive and what it has counted so far."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from mappings import MappingRegistry
from pipeline import Loader
from store import api_keys
from store.engine import create_store_engine, session_factory
from store.tables import SyncRun
from tests.hub_api.conftest import LiveApi


def test_sync_runs_over_http_say_which_running_run_is_alive(live_api: LiveApi) -> None:
    engine = create_store_engine(live_api.store_url)
    sessions = session_factory(engine)
    loader = Loader(sessions, MappingRegistry.load(), pii_key=b"k")
    dead, live = loader.begin("dms"), loader.begin("dms")
    live.records_in = 12
    loader.checkpoint(live)
    with sessions.begin() as session:
        session.execute(update(SyncRun).where(SyncRun.id == dead.run_id)
                        .values(heartbeat_at=datetime.now(UTC) - timedelta(hours=2)))  # fmt: skip
        _, token = api_keys.create(session, "scheduler", ["read"])
    answer = live_api.client.get(
        "/v1/sync-runs", params={"source": "dms"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    items = {i["id"]: i for i in answer.json()["items"]}
    assert [i["id"] for i in answer.json()["items"]] == [live.run_id, dead.run_id], "newest first"
    assert (items[live.run_id]["alive"], items[live.run_id]["records_in"]) == (True, 12)
    assert items[dead.run_id]["alive"] is False
    assert items[dead.run_id]["silent_s"] > 7000
    engine.dispose()
