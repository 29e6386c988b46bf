"""PIPL erasure over HTTP: erased everywhere when no legal hold applies, restricted when the recall duty holds."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from matching.config import MatchingConfig
from matching.run import run_party_matching
from store.customer_view import facts_about, members
from store.erasure import legal_hold_until
from store.tables import CanonicalRecordRow, ChangeLogRow, GoldenRecordRow, SourceRecordRow, XrefRow
from tests.hub_api.conftest import WorldApi


def _free_customer(api: WorldApi) -> str:
    """A customer seen in more than one source with facts but no first-sale duty left."""
    with api.sessions() as session:
        for golden_id in session.scalars(select(GoldenRecordRow.golden_id).where(
                GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active").order_by(GoldenRecordRow.golden_id)):  # fmt: skip
            parties = [(x.source, x.entity_key) for x in members(session, golden_id)]
            if (
                len(parties) > 1
                and legal_hold_until(session, parties, date.today()) is None
                and facts_about(session, parties)
            ):
                return golden_id
    raise AssertionError("the generated world has a customer with no legal hold")


def test_erasure_removes_the_customer_everywhere_and_matching_does_not_bring_it_back(
    world_api: WorldApi,
) -> None:
    free = _free_customer(world_api)
    with world_api.sessions() as session:
        parties = [(x.source, x.entity_key) for x in members(session, free)]
        raw_ids = [r.source_record_id for r in session.scalars(select(CanonicalRecordRow).where(
            CanonicalRecordRow.source.in_({s for s, _ in parties}), CanonicalRecordRow.party_key.in_({k for _, k in parties})))]  # fmt: skip
    assert world_api.client.post("/v1/erasures", headers=world_api.token("steward"),
                                 json={"golden_id": free, "request_ref": "PRIV-1"}).status_code == 403  # fmt: skip
    admin = world_api.token("admin", name="privacy-office")
    answer = world_api.client.post(
        "/v1/erasures", headers=admin, json={"golden_id": free, "request_ref": "PRIV-1"}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["outcome"] == "erased"
    assert result["legal_hold_until"] is None
    assert sorted(result["source_records"]) == sorted(f"{s}/{k}" for s, k in parties)
    assert result["canonical_records_removed"] == len(raw_ids)
    gone = world_api.client.get(f"/v1/customers/{free}", headers=world_api.token("read:pii"))
    assert gone.status_code == 410
    assert gone.json()["reason"] == "erased"
    source, key = parties[0]
    assert world_api.client.get(f"/v1/xref/{source}/{key}", headers=admin).status_code == 404
    with world_api.sessions() as session:
        assert not session.scalars(select(XrefRow).where(XrefRow.golden_id == free)).all()
        assert not facts_about(session, parties)
        payloads = [session.get(SourceRecordRow, i) for i in raw_ids]
        assert all(p is not None and p.payload == {"erased": True} for p in payloads)
        event = session.scalars(select(ChangeLogRow).where(ChangeLogRow.golden_id == free,
                                                           ChangeLogRow.change_type == "erased")).one()  # fmt: skip
        assert event.payload["sources"] == result["source_records"]
        assert event.payload["request_ref"] == "PRIV-1"
    run_party_matching(world_api.sessions, MatchingConfig())
    with world_api.sessions() as session:
        row = session.get(GoldenRecordRow, free)
        assert row is not None
        assert row.status == "erased"
        assert row.body == {"erased": True}
    again = world_api.client.post(
        "/v1/erasures", headers=admin, json={"golden_id": free, "request_ref": "PRIV-1"}
    )
    assert again.status_code == 409
    assert again.json()["reason"] == "erasure_refused"


def _held_owner(api: WorldApi) -> tuple[str, list[str]]:
    """A first purchaser under the ten-year duty who still owns a car they bought first, and those cars' VINs.

    Not just any held customer: one who resold every car is under the duty too, but the recall answer names the
    new owner, so the test would depend on which customer the world's ids put first."""
    read = api.token("read")
    with api.sessions() as session:
        golden_ids = list(session.scalars(select(GoldenRecordRow.golden_id).where(
            GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active").order_by(GoldenRecordRow.golden_id)))  # fmt: skip
        for golden_id in golden_ids:
            parties = [(x.source, x.entity_key) for x in members(session, golden_id)]
            if legal_hold_until(session, parties, date.today()) is None:
                continue
            vins = sorted({f.body["vin"] for f in facts_about(session, parties)
                           if f.entity_type == "vehicle_relationship" and f.body["role"] == "first_purchaser"})  # fmt: skip
            if not vins:
                continue
            items = api.client.post("/v1/recalls", headers=read, json={"campaign": "T", "vins": vins}).json()[
                "items"
            ]
            if any(i["owner"] and i["owner"]["golden_id"] == golden_id for i in items):
                return golden_id, vins
    raise AssertionError("the generated world has a first purchaser who still owns the car")


def test_a_first_purchaser_under_the_recall_duty_is_restricted_not_erased(world_api: WorldApi) -> None:
    held, vins = _held_owner(world_api)
    admin = world_api.token("admin", name="privacy-office")
    answer = world_api.client.post(
        "/v1/erasures", headers=admin, json={"golden_id": held, "request_ref": "PRIV-2"}
    )
    result = answer.json()
    assert result["outcome"] == "restricted"
    assert date.fromisoformat(result["legal_hold_until"]) > date.today()
    assert result["canonical_records_removed"] == 0
    view = world_api.client.get(f"/v1/customers/{held}", headers=world_api.token("read:pii")).json()
    assert view["status"] == "restricted"
    assert view["pii"] == "masked"
    recalled = world_api.client.post("/v1/recalls", headers=world_api.token("read"),
                                     json={"campaign": "T", "vins": vins}).json()["items"]  # fmt: skip
    owned = [i for i in recalled if i["owner"] and i["owner"]["golden_id"] == held]
    assert owned, "the restricted customer is still the recall contact of the car they own"
    assert all(i["owner"]["status"] == "restricted" for i in owned)
    run_party_matching(world_api.sessions, MatchingConfig())
    with world_api.sessions() as session:
        row = session.get(GoldenRecordRow, held)
        assert row is not None
        assert row.status == "restricted"
