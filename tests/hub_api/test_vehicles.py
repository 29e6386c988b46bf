"""The vehicle view over HTTP: any-case VIN, 422 with the rule broken, owners, plates, history, masking."""

from __future__ import annotations

from sqlalchemy import select

from store.tables import CanonicalRecordRow, GoldenRecordRow
from tests.hub_api.conftest import WorldApi


def test_vehicle_view_has_definition_plates_owners_and_history(world_api: WorldApi) -> None:
    with world_api.sessions() as session:
        resold = next(r for r in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))
                      if len(r.body.get("ownership") or []) > 1 and r.body.get("plates"))  # fmt: skip
        vin = resold.body["vin"]
        history = [r for r in session.scalars(select(CanonicalRecordRow).where(
            CanonicalRecordRow.entity_type.in_(["service_event", "insurance_policy"]))) if r.body.get("vin") == vin]  # fmt: skip
        owner = session.get(GoldenRecordRow, resold.body["current_owner"])
    assert owner is not None
    answer = world_api.client.get(f"/v1/vehicles/{vin.lower()}", headers=world_api.token("read"))
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["vin"] == vin
    assert view["golden_id"] == resold.golden_id
    assert [p["owner"] for p in view["ownership"]] == [p["owner"] for p in resold.body["ownership"]]
    assert view["ownership"][-1]["valid_to"] is None
    assert view["known_to_maker"] is True
    assert view["flags"] == []
    assert view["current_owner"]["golden_id"] == owner.golden_id
    assert [p["plate"] for p in view["plates"]] == [p["plate"] for p in resold.body["plates"]]
    events = [h for h in history if h.entity_type == "service_event"]
    assert len(view["service_history"]) == len(events)
    assert {p["policy_number"] for p in view["insurance_policies"]} == {
        h.body["policy_number"] for h in history if h.entity_type == "insurance_policy"
    }
    mobile = (owner.body.get("mobile") or {}).get("mobile")
    if mobile:
        assert view["current_owner"]["mobile"] != mobile
        assert "****" in view["current_owner"]["mobile"]
        clear = world_api.client.get(f"/v1/vehicles/{vin}", headers=world_api.token("read:pii")).json()
        assert clear["current_owner"]["mobile"] == mobile
    again = world_api.client.get(f"/v1/vehicles/{vin}", headers={**world_api.token("read"),
                                                                   "If-None-Match": answer.headers["etag"]})  # fmt: skip
    assert again.status_code == 304


def test_an_invalid_vin_is_a_422_that_says_why_and_an_unknown_one_a_404(world_api: WorldApi) -> None:
    headers = world_api.token("read")
    short = world_api.client.get("/v1/vehicles/LFV3A28E8KF01676", headers=headers)
    assert short.status_code == 422
    assert short.json()["reason"] == "invalid_vin.length"
    assert "17" in short.json()["detail"]
    letter = world_api.client.get("/v1/vehicles/LFV3A28E8KF0I6767", headers=headers)
    assert letter.status_code == 422
    assert letter.json()["reason"] == "invalid_vin.forbidden_letter"
    check = world_api.client.get("/v1/vehicles/LFV3A28E9KF016767", headers=headers)
    assert check.status_code == 422
    assert check.json()["reason"] == "invalid_vin.check_digit"
    from canonical_model.identifiers.vin import calc_check_digit

    unknown = "LSVAB13C0KY999999"
    unknown = unknown[:8] + calc_check_digit(unknown) + unknown[9:]
    missing = world_api.client.get(f"/v1/vehicles/{unknown}", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["reason"] == "unknown_vin"
