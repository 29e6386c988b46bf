"""Ownership evidence (matching/ownership.yaml): strong evidence names the owner, weak evidence reveals a resale."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.ownership import Evidence, load_rules, ownership_timeline
from matching.run import run_party_matching
from tests.mappings.test_sources import DMS_LEAD, ERP_CUSTOMER
from tests.matching.conftest import load

RULES = load_rules()


def _owner(
    *evidence: Evidence,
    kinds: dict[str, str] | None = None,
    plates: list[tuple[str, str | None]] | None = None,
) -> str | None:
    timeline = ownership_timeline(list(evidence), RULES, kinds, plates or [])
    return timeline[-1]["owner"] if timeline else None


def _e(golden: str, source: str, role: str, since: str) -> Evidence:
    return Evidence(golden, source, f"{golden}-key", role, since)


SALE = _e("G-first", "erp", "first_purchaser", "2019-03-01")


def test_a_resale_seen_only_on_repair_orders_names_the_new_owner() -> None:
    assert _owner(SALE, _e("G-buyer", "dms", "service_customer", "2023-05-02"),
                  _e("G-buyer", "dms", "service_customer", "2024-01-15")) == "G-buyer"  # fmt: skip


def test_a_steward_can_ask_for_more_than_one_visit() -> None:
    strict = RULES.model_copy(
        update={"weak_evidence": RULES.weak_evidence.model_copy(update={"min_events": 2})}
    )
    one = [SALE, _e("G-friend", "dms", "service_customer", "2023-05-02")]
    assert ownership_timeline(one, strict)[-1]["owner"] == "G-first"
    assert ownership_timeline(one, RULES)[-1]["owner"] == "G-friend"  # the shipped rule: one visit suffices
    two = [*one, _e("G-friend", "dms", "service_customer", "2023-09-02")]
    assert ownership_timeline(two, strict)[-1]["owner"] == "G-friend"


def test_visits_soon_after_the_sale_are_not_a_resale() -> None:
    assert _owner(SALE, _e("G-driver", "dms", "service_customer", "2019-03-10"),
                  _e("G-driver", "dms", "service_customer", "2019-03-20")) == "G-first"  # fmt: skip


def test_a_portal_claim_does_not_outrank_a_sale_without_corroboration() -> None:
    claim = _e("G-claimant", "portal", "owner", "2024-01-01")
    assert _owner(SALE, claim) == "G-first"
    assert _owner(SALE, claim, _e("G-claimant", "dms", "service_customer", "2024-03-01")) == "G-claimant"


def test_a_fleet_car_keeps_its_company_owner_whoever_drives_it_in() -> None:
    fleet = _e("G-fleet", "insurance", "policy_holder", "2021-01-01")
    drivers = [_e("G-driver", "dms", "service_customer", f"2022-0{m}-01") for m in (3, 6, 9)]
    assert _owner(fleet, *drivers, kinds={"G-fleet": "organisation"}) == "G-fleet"
    assert _owner(fleet, *drivers, kinds={"G-fleet": "person"}) == "G-driver"


def test_a_fleet_car_sold_on_to_another_company_names_that_company() -> None:
    fleet = _e("G-fleet", "insurance", "policy_holder", "2021-01-01")
    buyer = _e("G-buyer-co", "dms", "service_customer", "2023-04-15")
    kinds = {"G-fleet": "organisation", "G-buyer-co": "organisation", "G-driver": "person"}
    assert _owner(fleet, buyer, kinds=kinds) == "G-buyer-co"
    driver = _e("G-driver", "dms", "service_customer", "2023-06-01")
    assert _owner(fleet, driver, kinds=kinds) == "G-fleet"  # a person is still only a driver


def test_the_old_owner_back_after_the_newcomer_keeps_the_car() -> None:
    assert _owner(SALE, _e("G-buyer", "dms", "service_customer", "2023-05-02"),
                  _e("G-buyer", "dms", "service_customer", "2023-06-02"),
                  _e("G-first", "dms", "service_customer", "2023-09-02")) == "G-first"  # fmt: skip


def test_with_only_weak_evidence_the_most_seen_customer_owns_the_car() -> None:
    assert _owner(_e("A", "dms", "service_customer", "2022-01-01"), _e("B", "dms", "service_customer", "2022-02-01"),
                  _e("B", "dms", "service_customer", "2022-03-01")) == "B"  # fmt: skip


def test_a_resale_seen_only_at_a_dealer_reaches_the_golden_vehicle(hub: Any) -> None:
    from matching.vehicles import build_golden_vehicles
    from store import golden as store_golden

    sessions, loader = hub
    vin = "LVSHCAMB1CE054249"

    def repair(n: int, day: str) -> tuple[str, str, dict[str, Any]]:
        return "dms", "repair_order", {**DMS_LEAD, "message_id": f"ro-{n}", "event_type": "repair_order", "lead": None,
                                       "occurred_at": f"{day}T10:00:00+08:00",
                                       "customer": {"dms_customer_id": "D99002-000778", "name": "欧阳娜娜",
                                                    "mobile": "13661234988", "gender": "女"},
                                       "repair_order": {"ro_number": f"RO-{n}", "vin": vin, "mileage_km": "80000"}}  # fmt: skip

    load(loader, ("erp", "customers", {**ERP_CUSTOMER, "MOBILE": "139 1726 5843"}),
         ("erp", "vehicles", {"VIN": vin, "MAKE": "福特", "MODEL": "福克斯", "MODEL_YEAR": "2012",
                              "PROD_DATE": "2011-09-01", "PLANT": "cq01"}),
         ("erp", "sales_orders", {"VBELN": "SO-T2", "KUNNR": "C00000042", "VIN": vin, "DEALER": "D99001",
                                  "INVOICE_DATE": "2011-10-08"}),
         repair(1, "2020-04-02"), repair(2, "2021-04-09"))  # fmt: skip
    parties = run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    with sessions() as session:
        owners = store_golden.vehicle_owners(session)
    assert owners[vin] == parties.cluster_of[("dms", "D99002-000778")]
    assert owners[vin] != parties.cluster_of[("erp", "C00000042")]


def test_on_one_day_the_insured_is_the_keeper_not_the_relative_who_paid() -> None:
    holder = _e("G-father", "insurance", "policy_holder", "2024-02-20")
    insured = _e("G-daughter", "insurance", "owner", "2024-02-20")
    assert _owner(SALE, holder, insured) == "G-daughter"
    assert _owner(SALE, insured, holder) == "G-daughter"  # whatever order the evidence comes in


def test_a_new_plate_shows_a_fleet_car_sold_to_a_person() -> None:
    fleet = _e("G-fleet", "insurance", "policy_holder", "2023-08-11")
    buyer = _e("G-buyer", "dms", "service_customer", "2024-03-20")
    kinds = {"G-fleet": "organisation", "G-buyer": "person"}
    old_plate = [("京AF40095", "2020-08-11")]
    assert _owner(fleet, buyer, kinds=kinds, plates=old_plate) == "G-fleet"  # a driver, as before
    moved = [*old_plate, ("皖AF10255", "2024-03-20")]  # registered again, in another province
    assert _owner(fleet, buyer, kinds=kinds, plates=moved) == "G-buyer"
    assert (
        _owner(fleet, buyer, kinds=kinds, plates=[("皖AF10255", "2024-03-20")]) == "G-fleet"
    )  # no old plate
