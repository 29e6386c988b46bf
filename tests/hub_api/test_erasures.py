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


def _customers_by_hold(api: WorldApi) -> tuple[str, str]:
    """(a customer with no first-sale duty left, a first purchaser still under the ten-year duty)."""
    free = held = None
    with api.sessions() as session:
        for golden_id in session.scalars(select(GoldenRecordRow.golden_id).where(
                GoldenRecordRow.entity_type == "party", GoldenRecordRow.status == "active").order_by(GoldenRecordRow.golden_id)):  # fmt: skip
            parties = [(x.source, x.entity_key) for x in members(session, golden_id)]
            hold = legal_hold_until(session, parties, date.today())
            if hold is None and free is None and len(parties) > 1 and facts_about(session, parties):
                free = golden_id
            if hold is not None and held is None:
                held = golden_id
            if free and held:
                return free, held
    raise AssertionError("the generated world has both kinds of customer")


def test_erasure_removes_the_customer_everywhere_and_matching_does_not_bring_it_back(
    world_api: WorldApi,
) -> None:
    free, _ = _customers_by_hold(world_api)
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


def test_a_first_purchaser_under_the_recall_duty_is_restricted_not_erased(world_api: WorldApi) -> None:
    _, held = _customers_by_hold(world_api)
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
    with world_api.sessions() as session:
        vins = [f.body["vin"] for f in facts_about(session, [(x.source, x.entity_key) for x in members(session, held)])
                if f.entity_type == "vehicle_relationship" and f.body["role"] == "first_purchaser"]  # fmt: skip
    recalled = world_api.client.post("/v1/recalls", headers=world_api.token("read"),
                                     json={"campaign": "T", "vins": vins}).json()["items"]  # fmt: skip
    assert recalled
    assert any(i["owner"] and i["owner"]["golden_id"] == held for i in recalled)
    run_party_matching(world_api.sessions, MatchingConfig())
    with world_api.sessions() as session:
        row = session.get(GoldenRecordRow, held)
        assert row is not None
        assert row.status == "restricted"
