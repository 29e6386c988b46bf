"""Recall owner look-up over HTTP: the current owner after a resale, criteria pages, CSV for the filing."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select

from store import api_keys
from store.tables import CanonicalRecordRow, GoldenRecordRow, XrefRow
from tests.hub_api.conftest import WorldApi

OWNER_ROLES = ("first_purchaser", "owner", "policy_holder")


def _vehicles(api: WorldApi) -> list[GoldenRecordRow]:
    with api.sessions() as session:
        return list(session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle",
                                                                  GoldenRecordRow.status == "active")))  # fmt: skip


def _newest_owner_records(api: WorldApi, vin: str) -> set[tuple[str, str]]:
    """The party records of the newest owner-role relationships for ``vin``, read straight from the sources."""
    with api.sessions() as session:
        rels = [r.body | {"source": r.source} for r in session.scalars(select(CanonicalRecordRow).where(
            CanonicalRecordRow.entity_type == "vehicle_relationship"))
            if r.body["vin"] == vin and r.body["role"] in OWNER_ROLES]  # fmt: skip
    newest = max(r.get("valid_from") or "" for r in rels)
    return {(r["source"], r["party_source_id"]) for r in rels if (r.get("valid_from") or "") == newest}


def _members(api: WorldApi, golden_id: str) -> set[tuple[str, str]]:
    with api.sessions() as session:
        return {(x.source, x.entity_key) for x in session.scalars(select(XrefRow).where(XrefRow.golden_id == golden_id))}  # fmt: skip


def test_a_resold_car_is_recalled_to_its_current_owner(world_api: WorldApi) -> None:
    resold = [v for v in _vehicles(world_api) if len(v.body.get("ownership") or []) > 1]
    assert resold, "the generated world has resales"
    vins = [v.body["vin"] for v in resold]
    answer = world_api.client.post("/v1/recalls", headers=world_api.token("read"),
                                   json={"campaign": "T-1", "vins": vins})  # fmt: skip
    assert answer.status_code == 200, answer.text
    items = {i["vin"]: i for i in answer.json()["items"]}
    assert set(items) == set(vins)
    for vehicle in resold:
        item = items[vehicle.body["vin"]]
        first_owner = vehicle.body["ownership"][0]["owner"]
        assert item["owner"]["golden_id"] != first_owner
        assert item["previous_owners"] >= 1
        assert _newest_owner_records(world_api, item["vin"]) & _members(world_api, item["owner"]["golden_id"])
        assert all(c["legal_basis"] == "legal_obligation" for c in item["owner"]["contacts"])
        assert item["owner"]["marketing_consent"] in {"granted", "withdrawn", "none"}


def test_the_owner_is_followed_through_a_later_merge(world_api: WorldApi) -> None:
    from matching import steward

    vehicle = next(v for v in _vehicles(world_api) if v.body.get("current_owner", "").startswith("P-"))
    owner = vehicle.body["current_owner"]
    with world_api.sessions() as session:
        other = session.scalar(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active", GoldenRecordRow.golden_id != owner))  # fmt: skip
    with world_api.sessions.begin() as session:
        steward.merge(session, str(other), owner, actor="steward", reason="test")
    answer = world_api.client.post("/v1/recalls", headers=world_api.token("read"),
                                   json={"campaign": "T-2", "vins": [vehicle.body["vin"]]}).json()  # fmt: skip
    assert answer["items"][0]["owner"]["golden_id"] == other


def test_invalid_and_unknown_vins_are_reported_not_dropped(world_api: WorldApi) -> None:
    known = _vehicles(world_api)[0].body["vin"]
    unknown = "LSVAB13C0KY999999"
    from canonical_model.identifiers.vin import calc_check_digit

    unknown = unknown[:8] + calc_check_digit(unknown) + unknown[9:]
    answer = world_api.client.post("/v1/recalls", headers=world_api.token("read"),
                                   json={"campaign": "T-3", "vins": [known.lower(), unknown, "LFV3A28E9KF01676"]}).json()  # fmt: skip
    assert [i["vin"] for i in answer["items"]] == [known]
    assert answer["not_found"] == [unknown]
    assert answer["invalid"][0]["vin"] == "LFV3A28E9KF01676"
    assert answer["invalid"][0]["reason"] == "length"
    neither = world_api.client.post("/v1/recalls", headers=world_api.token("read"), json={"campaign": "T-4"})
    assert neither.status_code == 422


def test_criteria_pages_and_csv_cover_the_same_cars_and_clear_csv_is_audited(world_api: WorldApi) -> None:
    vehicles = _vehicles(world_api)
    model = vehicles[0].body["definition"]["model"]
    expected = {v.body["vin"] for v in vehicles if (v.body.get("definition") or {}).get("model") == model}
    request = {"campaign": "SAMR 2026/7", "criteria": {"models": [model]}}
    headers = world_api.token("read")
    paged: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = world_api.client.post("/v1/recalls", params={"limit": 3} | ({"cursor": cursor} if cursor else {}),
                                     headers=headers, json=request).json()  # fmt: skip
        paged.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [i["vin"] for i in paged]
    assert {i["vin"] for i in paged} == expected
    assert len(paged) == len(expected)
    pii = world_api.token("read:pii", name="recall-office")
    with world_api.client.stream(
        "POST", "/v1/recalls", json=request, headers={**pii, "Accept": "text/csv"}
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        assert 'filename="recall-SAMR_2026_7.csv"' in answer.headers["content-disposition"]
        text = "".join(answer.iter_text())
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["vin"] for r in rows} == expected
    assert len(rows) == len(expected)
    by_vin = {i["vin"]: i for i in paged}
    for row in rows:
        owner = by_vin[row["vin"]]["owner"]
        assert row["owner_golden_id"] == (owner["golden_id"] if owner else "")
        if row["mobile"]:
            assert "*" not in row["mobile"]  # read:pii: clear, for the filing
    masked_sms = [
        c["value"] for i in paged if i["owner"] for c in i["owner"]["contacts"] if c["channel"] == "sms"
    ]
    assert masked_sms
    assert all("****" in value for value in masked_sms)
    with world_api.sessions() as session:
        audited = [r for r in session.scalars(select(api_keys.PiiAccessRow))]
    assert [(a.key_name, a.action) for a in audited] == [
        ("recall-office", "POST /v1/recalls campaign=SAMR 2026/7")
    ]
