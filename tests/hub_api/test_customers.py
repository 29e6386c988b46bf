"""The customer 360 over HTTP: content gathered from every source, masking by scope, audit, ETag, merge redirect."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from core.settings import Settings
from matching import steward
from store import api_keys
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, GoldenRecordRow, PiiAccessRow, XrefRow
from tests.conftest import populate_world
from tests.hub_api.conftest import WORLD_PII_KEY, WorldApi, serve


def _richest_customer(api: WorldApi) -> str:
    """The golden customer with most member records that also has a credit profile and a policy."""
    with api.sessions() as session:
        x, c = XrefRow, CanonicalRecordRow
        kinds = (select(x.golden_id, func.count(func.distinct(c.entity_type)).label("kinds"))
                 .join(c, (c.source == x.source) & (c.party_key == x.entity_key))
                 .where(x.entity_type == "party", c.entity_type != "party")
                 .group_by(x.golden_id).order_by(func.count(func.distinct(c.entity_type)).desc(), x.golden_id))  # fmt: skip
        return str(session.execute(kinds.limit(1)).one().golden_id)


def _golden_body(api: WorldApi, golden_id: str) -> dict[str, Any]:
    with api.sessions() as session:
        row = session.get(GoldenRecordRow, golden_id)
        assert row is not None
        return row.body


def test_customer_360_gathers_what_every_source_says(world_api: WorldApi) -> None:
    golden_id = _richest_customer(world_api)
    answer = world_api.client.get(f"/v1/customers/{golden_id}", headers=world_api.token("read:pii"))
    assert answer.status_code == 200, answer.text
    view = answer.json()
    body = _golden_body(world_api, golden_id)
    assert view["golden_id"] == golden_id
    assert view["status"] == "active"
    assert view["name"]["simplified"] == body["name"]["simplified"]
    assert {m["source"] for m in view["members"]} == set(body["sources"])
    assert len(view["members"]) == body["member_count"]
    with world_api.sessions() as session:
        keys = [
            (x.source, x.entity_key)
            for x in session.scalars(select(XrefRow).where(XrefRow.golden_id == golden_id))
        ]
        facts = [r for s, k in keys for r in session.scalars(select(CanonicalRecordRow).where(
            CanonicalRecordRow.source == s, CanonicalRecordRow.party_key == k, CanonicalRecordRow.entity_type != "party"))]  # fmt: skip
    vins = {f.body["vin"] for f in facts if f.entity_type == "vehicle_relationship"}
    assert {v["vin"] for v in view["vehicles"]} == vins
    assert vins
    policies = {f.body["policy_number"] for f in facts if f.entity_type == "insurance_policy"}
    assert {p["policy_number"] for p in view["insurance_policies"]} == policies
    events = [f for f in facts if f.entity_type == "service_event"]
    assert len(view["recent_events"]) == min(20, len(events))
    stamps = [e["occurred_at"] for e in view["recent_events"]]
    assert stamps == sorted(stamps, reverse=True)
    owned = [v for v in view["vehicles"] if v["current_owner"]]
    for vehicle in owned:
        assert _golden_body(world_api, vehicle["golden_id"])["current_owner"] == golden_id
    assert view["lineage"] is None
    consents = [f.body for f in facts if f.entity_type == "consent"]
    assert consents
    assert view["credit_profiles"]
    assert {(c["purpose"], c["channel"], c["recipient"]) for c in view["consents"]} == {
        (c["purpose"], c["channel"], c["recipient"]) for c in consents
    }
    for shown in view["consents"]:
        stated = [c for c in consents if (c["purpose"], c["channel"]) == (shown["purpose"], shown["channel"])]
        withdrawn_last = max(stated, key=lambda c: c.get("withdrawn_at") or c.get("granted_at") or "")
        assert shown["status"] == ("withdrawn" if withdrawn_last.get("withdrawn_at") else "granted")


def test_pii_is_masked_without_read_pii_and_every_clear_read_is_audited(world_api: WorldApi) -> None:
    golden_id = _richest_customer(world_api)
    clear_mobile = _golden_body(world_api, golden_id)["mobile"]["mobile"]
    masked = world_api.client.get(f"/v1/customers/{golden_id}", headers=world_api.token("read")).json()
    mobile = next(p["value"] for p in masked["contact_points"] if p["kind"] == "mobile")
    assert masked["pii"] == "masked"
    assert mobile != clear_mobile
    assert mobile.startswith(clear_mobile[:6])
    assert mobile.endswith(clear_mobile[-4:])
    assert "****" in mobile
    assert re.fullmatch(r"\d{4}-\*\*-\*\*", masked["birth_date"] or "0000-**-**")
    assert all(c["limit"] in (None, "***") for c in masked["credit_profiles"])
    address = next((p["value"] for p in masked["contact_points"] if p["kind"] == "address"), "****")
    assert address.endswith("****")
    with world_api.sessions() as session:
        assert (
            session.scalar(select(func.count()).select_from(PiiAccessRow)) == 0
        )  # masked reads are not PII reads

    pii = world_api.token("read:pii", name="call-centre")
    clear = world_api.client.get(f"/v1/customers/{golden_id}", headers=pii).json()
    assert clear["pii"] == "clear"
    assert next(p["value"] for p in clear["contact_points"] if p["kind"] == "mobile") == clear_mobile
    assert all(i["masked"].count("*") >= 4 for i in clear["identifiers"])  # ID numbers: never in clear
    with world_api.sessions() as session:
        reads = api_keys.pii_reads(session, golden_id)
    assert [r["key"] for r in reads] == ["call-centre"]
    assert "mobile" in reads[0]["fields"]
    assert reads[0]["action"] == f"GET /v1/customers/{golden_id}"


def test_etag_answers_304_until_the_customer_changes(world_api: WorldApi) -> None:
    golden_id = _richest_customer(world_api)
    headers = world_api.token("read:pii")
    first = world_api.client.get(f"/v1/customers/{golden_id}", headers=headers)
    etag = first.headers["etag"]
    again = world_api.client.get(f"/v1/customers/{golden_id}", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    with world_api.sessions() as session:
        assert len(api_keys.pii_reads(session, golden_id)) == 1  # the 304 showed nothing new
    masked = world_api.client.get(f"/v1/customers/{golden_id}",
                                  headers={**world_api.token("read"), "If-None-Match": etag})  # fmt: skip
    assert masked.status_code == 200
    assert masked.headers["etag"] != etag
    with world_api.sessions.begin() as session:
        row = session.get(GoldenRecordRow, golden_id)
        assert row is not None
        row.body = {**row.body, "gender": "unknown" if row.body.get("gender") != "unknown" else "male"}
        row.version += 1
    changed = world_api.client.get(f"/v1/customers/{golden_id}", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag


def test_a_merged_id_redirects_to_the_survivor_and_unknown_ids_are_404(world_api: WorldApi) -> None:
    with world_api.sessions() as session:
        keep, absorb = session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active")
            .order_by(GoldenRecordRow.golden_id).limit(2)).all()  # fmt: skip
    with world_api.sessions.begin() as session:
        steward.merge(session, keep, absorb, actor="steward:li", reason="same person, confirmed by phone")
    headers = world_api.token("read")
    moved = world_api.client.get(f"/v1/customers/{absorb}?explain=true", headers=headers)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/v1/customers/{keep}?explain=true"
    followed = world_api.client.get(
        f"/v1/customers/{absorb}?explain=true", headers=headers, follow_redirects=True
    )
    assert followed.status_code == 200
    assert followed.json()["golden_id"] == keep
    lineage = {item["attribute"]: item for item in followed.json()["lineage"]}
    assert "name" in lineage
    assert lineage["name"]["rule"]
    missing = world_api.client.get("/v1/customers/P-0000000000000000NOPE", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["reason"] == "unknown_golden_id"
    vehicle = world_api.client.get(f"/v1/customers/{_any_vehicle(world_api)}", headers=headers)
    assert vehicle.status_code == 404  # a golden vehicle is not a customer


def _any_vehicle(api: WorldApi) -> str:
    with api.sessions() as session:
        return str(
            session.scalar(select(GoldenRecordRow.golden_id).where(GoldenRecordRow.entity_type == "vehicle"))
        )


@pytest.fixture
def small_world_api(store_url: str, tmp_path: Path) -> Iterator[WorldApi]:
    """20 generated people, matched, behind a live API: on SQLite, then on PostgreSQL (where the 360 is one
    statement outside a transaction)."""
    engine = create_store_engine(store_url)
    sessions = session_factory(engine)
    populate_world(sessions, people=20, seed=3)
    settings = Settings(data_dir=tmp_path, database_url=store_url, pii_hash_key=WORLD_PII_KEY,
                        sections={"portal": {"secret": "portal-test-secret"}})  # fmt: skip
    with serve(settings) as client:
        yield WorldApi(client, settings, store_url, sessions)
    engine.dispose()


def test_the_360_audits_revalidates_and_redirects_on_both_backends(small_world_api: WorldApi) -> None:
    api = small_world_api
    golden_id = _richest_customer(api)
    pii = api.token("read:pii", name="call-centre")
    first = api.client.get(f"/v1/customers/{golden_id}?explain=true", headers=pii)
    assert first.status_code == 200, first.text
    view = first.json()
    assert view["pii"] == "clear"
    assert view["members"]
    assert view["vehicles"]
    assert view["lineage"]
    with api.sessions() as session:
        assert [r["key"] for r in api_keys.pii_reads(session, golden_id)] == ["call-centre"]  # committed
    again = api.client.get(f"/v1/customers/{golden_id}?explain=true",
                           headers={**pii, "If-None-Match": first.headers["etag"]})  # fmt: skip
    assert again.status_code == 304
    with api.sessions() as session:
        assert len(api_keys.pii_reads(session, golden_id)) == 1
    masked = api.client.get(f"/v1/customers/{golden_id}", headers=api.token("read")).json()
    assert masked["pii"] == "masked"
    assert masked["lineage"] is None
    differ = {"contact_points", "birth_date", "credit_profiles", "pii", "lineage"}  # masking and ?explain
    assert {k: v for k, v in masked.items() if k not in differ} == {
        k: v for k, v in view.items() if k not in differ
    }

    with api.sessions() as session:
        others = session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active",
            GoldenRecordRow.golden_id != golden_id).order_by(GoldenRecordRow.golden_id).limit(2)).all()  # fmt: skip
    with api.sessions.begin() as session:
        steward.merge(session, others[0], others[1], actor="steward:li", reason="same person")
    moved = api.client.get(f"/v1/customers/{others[1]}", headers=pii)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/v1/customers/{others[0]}"
    assert api.client.get("/v1/customers/P-0000000000000000NOPE", headers=pii).status_code == 404
    assert api.client.get(f"/v1/customers/{_any_vehicle(api)}", headers=pii).status_code == 404
