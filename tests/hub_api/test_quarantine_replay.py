"""``POST /v1/quarantine/replay`` over real HTTP: a steward's replay after a mapping fix, with the mapping files as
they are on disk at the request (the server started with the broken ones), problems for bad input, and the
replay's sync run in ``GET /v1/sync-runs``."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from core.settings import Settings
from mappings import MappingRegistry
from pipeline import Loader
from store import api_keys
from store.engine import create_store_engine, session_factory
from store.migrate import upgrade
from tests.hub_api.conftest import serve
from tests.jobs.test_quarantine_replay import BROKEN, FIXED, load_drivers, write_mapping


@dataclass
class ReplayApi:
    client: httpx.Client
    mappings: Path
    steward: dict[str, str]
    reader: dict[str, str]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ReplayApi]:
    """The drivers loaded with the broken mapping, behind a live API started with that mapping folder."""
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    mappings = write_mapping(tmp_path / "mappings", BROKEN)
    engine = create_store_engine(url)
    sessions = session_factory(engine)
    load_drivers(Loader(sessions, MappingRegistry.load(mappings), pii_key=b"k"))
    with sessions.begin() as session:
        _, steward = api_keys.create(session, "steward:li", ["steward"])
        _, reader = api_keys.create(session, "crm-sync", ["read"])
    settings = Settings(data_dir=tmp_path, database_url=url, mappings_dir=mappings, pii_hash_key="k" * 32,
                        sections={"portal": {"secret": "portal-test-secret"}})  # fmt: skip
    with serve(settings) as client:
        yield ReplayApi(client, mappings, {"Authorization": f"Bearer {steward}"},
                        {"Authorization": f"Bearer {reader}"})  # fmt: skip
    engine.dispose()


def _problem(response: httpx.Response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, str] = response.json()
    return body


def test_a_steward_replays_after_a_fix_and_sees_the_run(api: ReplayApi) -> None:
    post = api.client.post
    assert (
        _problem(post("/v1/quarantine/replay", json={"source": "fleet"}), 401)["reason"] == "unauthenticated"
    )
    assert _problem(post("/v1/quarantine/replay", json={"source": "fleet"}, headers=api.reader), 403)[
        "reason"
    ] == ("missing_scope")
    write_mapping(api.mappings, FIXED)  # the fix, while the server runs
    dry = post("/v1/quarantine/replay", json={"source": "fleet", "dry_run": True}, headers=api.steward)
    assert dry.status_code == 200, dry.text
    assert (dry.json()["totals"]["recovered"], dry.json()["runs"]) == (2, {})

    done = post("/v1/quarantine/replay", json={"source": "fleet", "limit": 3}, headers=api.steward).json()
    assert (done["totals"]["selected"], done["totals"]["recovered"], done["more"]) == (3, 2, True)
    assert (done["actor"], done["selection"]["limit"]) == ("steward:li", 3)
    rest = post("/v1/quarantine/replay", json={"source": "fleet"}, headers=api.steward).json()
    assert (rest["totals"]["selected"], rest["totals"]["still_quarantined"], rest["more"]) == (2, 2, False)
    waiting = {r["reason"]: r["waiting_as"] for r in rest["by_reason"]}
    assert waiting == {"invalid_vin.check_digit": {"invalid_vin.check_digit": 1},
                       "unknown_code": {"invalid_mobile.length": 1}}  # fmt: skip

    runs = api.client.get("/v1/sync-runs", params={"source": "fleet"}, headers=api.reader).json()["items"]
    first = next(r for r in runs if r["id"] == done["runs"]["fleet"])
    assert (first["status"], first["records_in"], first["records_mapped"], first["records_partial"]) == (
        "succeeded", 3, 2, 1)  # fmt: skip
    entries = api.client.get("/v1/quarantine", params={"source": "fleet"}, headers=api.reader).json()["items"]
    f2 = next(e for e in entries if e["source_id"] == "F2")
    assert f2["resolution"] == f"replayed: mapped (run {done['runs']['fleet']}, steward:li)"
    assert f2["resolved_at"] is not None
    counts = api.client.get("/v1/quarantine/counts", headers=api.reader).json()
    assert sorted((c["reason"], c["count"]) for c in counts) == [
        ("invalid_mobile.length", 1), ("invalid_vin.check_digit", 1)]  # fmt: skip


def test_bad_input_is_a_problem_naming_the_field_and_nothing_selected_is_zero(api: ReplayApi) -> None:
    def replay(body: dict[str, object]) -> httpx.Response:
        return api.client.post("/v1/quarantine/replay", json=body, headers=api.steward)

    assert _problem(replay({}), 400)["field"] == "all"
    unknown = _problem(replay({"source": "fleeet"}), 400)
    assert (unknown["field"], unknown["reason"]) == ("source", "replay_refused")
    assert "fleet" in unknown["detail"]
    assert _problem(replay({"all": True, "since": "last tuesday"}), 422)["field"] == "body.since"
    assert _problem(replay({"reason": "invalid vin"}), 422)["field"] == "body.reason"
    assert _problem(replay({"source": "fleet", "limit": 0}), 422)["field"] == "body.limit"
    nothing = replay({"reason": "no_such_reason", "since": "2020-01-01"})
    assert nothing.status_code == 200, nothing.text
    assert nothing.json()["totals"] == {"selected": 0, "recovered": 0, "partly_recovered": 0,
                                        "still_quarantined": 0, "refused": 0, "not_replayable": 0}  # fmt: skip
