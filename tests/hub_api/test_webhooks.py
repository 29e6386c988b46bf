"""``POST /v1/webhooks/portal`` over real HTTP: 202 after commit, 401, 409, 422 problem details + quarantine."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from connectors.portal_webhook import signed_headers
from core.settings import Settings
from store.migrate import upgrade
from store.tables import CanonicalRecordRow, QuarantineRow, SyncRun
from tests.hub_api.conftest import LiveApi, serve
from tests.mappings.test_sources import PORTAL_REGISTRATION

SECRET = b"portal-test-secret"


def _post(api: LiveApi, event: dict[str, Any] | bytes, delivery: str, *, secret: bytes = SECRET,
          at: int | None = None) -> Any:  # fmt: skip
    body = event if isinstance(event, bytes) else json.dumps(event, ensure_ascii=False).encode()
    headers = {**signed_headers(secret, body, delivery, at=at), "Content-Type": "application/json"}
    return api.client.post("/v1/webhooks/portal", content=body, headers=headers)


def _count(api: LiveApi, table: Any) -> int:
    engine = create_engine(api.store_url)
    with Session(engine) as session:
        n = session.scalar(select(func.count()).select_from(table)) or 0
    engine.dispose()
    return n


def test_a_signed_event_is_stored_before_202_and_a_replay_is_409(live_api: LiveApi) -> None:
    event = {"event_type": "registration", "data": PORTAL_REGISTRATION}
    first = _post(live_api, event, "d-1")
    assert first.status_code == 202
    assert _count(live_api, CanonicalRecordRow) > 0  # committed when the 202 arrived
    replay = _post(live_api, event, "d-1")
    assert replay.status_code == 409
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.json()["title"] == "Delivery already received"


def test_bad_and_stale_signatures_are_401(live_api: LiveApi) -> None:
    event = {"event_type": "registration", "data": PORTAL_REGISTRATION}
    forged = _post(live_api, event, "d-2", secret=b"guess")
    assert (forged.status_code, forged.json()["title"]) == (401, "Bad signature")
    stale = _post(live_api, event, "d-3", at=int(time.time()) - 301)
    assert (stale.status_code, stale.json()["title"]) == (401, "Stale request")
    assert _count(live_api, CanonicalRecordRow) == 0


def test_an_invalid_event_is_422_with_the_reason_and_quarantined(live_api: LiveApi) -> None:
    bad = {"event_type": "service_request",
           "data": {"event_id": "e-9", "user_id": "U1", "vin": "LFV2A21K0G3000001", "request_type": "投诉",
                    "created_at": "2025-01-21T16:08:51+08:00"}}  # fmt: skip
    answer = _post(live_api, bad, "d-4")
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["reason"] == "invalid_vin.check_digit"
    assert problem["status"] == 422
    assert problem["type"].endswith("invalid_vin.check_digit")
    not_json = _post(live_api, b"{oops", "d-5")
    assert (not_json.status_code, not_json.json()["reason"]) == (422, "not_json")
    assert _count(live_api, QuarantineRow) == 2


def test_without_a_secret_the_route_says_how_to_configure_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    with serve(Settings(data_dir=tmp_path, database_url=url)) as client:
        answer = client.post("/v1/webhooks/portal", content=b"{}")
        assert answer.status_code == 503
        assert answer.json()["field"] == "AUTOHUB_PORTAL__SECRET"
        assert client.get("/healthz").json() == {"status": "ok"}


def _runs(url: str) -> list[SyncRun]:
    engine = create_engine(url)
    with Session(engine) as session:
        runs = list(session.scalars(select(SyncRun).order_by(SyncRun.id)))
    engine.dispose()
    return runs


def test_deliveries_share_one_sync_run_and_an_unsigned_request_opens_none(tmp_path: Path) -> None:
    """One run per delivery wrote ~900 runs and log lines for the demo's 900 deliveries, and one per unsigned
    request too. Now the API process takes its deliveries in under one run, its counts written as they grow."""
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url,
                        sections={"portal": {"secret": SECRET.decode(), "progress_every_s": 0}})  # fmt: skip
    with serve(settings) as client:
        api = LiveApi(client, settings, url)
        for n in range(3):
            assert _post(api, b"{}", f"forged-{n}", secret=b"guess").status_code == 401
        assert _runs(url) == [], "an unsigned request writes nothing, not even a run"
        for n in range(5):
            data = {**PORTAL_REGISTRATION, "event_id": f"e-{n}", "user_id": f"U{n}"}
            assert _post(api, {"event_type": "registration", "data": data}, f"d-{n}").status_code == 202
        assert _post(api, b"{oops", "d-bad").status_code == 422
        (live,) = _runs(url)
        assert (live.status, live.records_in, live.records_quarantined) == ("running", 6, 1), (
            "counts as they grow"
        )
    (closed,) = _runs(url)
    assert (closed.status, closed.records_in, closed.records_mapped) == ("succeeded", 6, 5)


def test_a_second_declared_webhook_source_has_its_own_route_secret_and_source_name(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Two portals (a second brand's, read with the portal mapping): each its own route and secret."""
    import yaml

    monkeypatch.setenv("BRAND_B_PORTAL_SECRET", "brand-b-secret")
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": {
        "portal": {"type": "webhook"},
        "portal_brand_b": {"type": "webhook", "mapping": "portal",
                           "settings": {"secret": {"env": "BRAND_B_PORTAL_SECRET"}}},
    }}), encoding="utf-8")  # fmt: skip
    url = f"sqlite:///{tmp_path}/hub.db"
    upgrade(url)
    settings = Settings(data_dir=tmp_path, database_url=url, sources_file=sources,
                        sections={"portal": {"secret": "portal-test-secret"}})  # fmt: skip
    event = json.dumps(
        {"event_type": "registration", "data": PORTAL_REGISTRATION}, ensure_ascii=False
    ).encode()

    def post(client: Any, route: str, secret: bytes, delivery: str) -> Any:
        headers = {**signed_headers(secret, event, delivery), "Content-Type": "application/json"}
        return client.post(f"/v1/webhooks/{route}", content=event, headers=headers)

    with serve(settings) as client:
        assert post(client, "portal_brand_b", SECRET, "b-1").status_code == 401  # the other portal's secret
        assert post(client, "portal_brand_b", b"brand-b-secret", "b-2").status_code == 202
        assert post(client, "portal", SECRET, "p-1").status_code == 202
        unknown = post(client, "portal_brand_c", SECRET, "c-1")
        assert (unknown.status_code, unknown.json()["reason"]) == (404, "unknown_source")
    engine = create_engine(url)
    with Session(engine) as session:
        stored = set(session.scalars(select(CanonicalRecordRow.source)))
        runs = set(session.scalars(select(SyncRun.source)))
    engine.dispose()
    assert stored == runs == {"portal", "portal_brand_b"}
