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
    numbers: dict[str, frozenset[str]] | None = None,
) -> str | None:
    timeline = ownership_timeline(list(evidence), RULES, kinds, plates or [], numbers)
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


def test_a_person_calling_from_his_own_number_on_two_days_has_bought_the_fleet_car() -> None:
    fleet = _e("G-fleet", "insurance", "policy_holder", "2021-01-01")
    kinds = {"G-fleet": "organisation", "G-buyer": "person"}
    company = frozenset({"+862088880900", "+8613900000001"})
    visits = [_e("G-buyer", "dms", "service_customer", day) for day in ("2023-04-15", "2023-10-02")]
    own = {"G-fleet": company, "G-buyer": frozenset({"+8613712345678"})}
    assert _owner(fleet, *visits, kinds=kinds, numbers=own) == "G-buyer"
    # A driver who calls from one of the company's numbers, even beside his own, is still a driver.
    pool = {"G-fleet": company, "G-buyer": frozenset({"+8613712345678", "+8613900000001"})}
    assert _owner(fleet, *visits, kinds=kinds, numbers=pool) == "G-fleet"
    assert _owner(fleet, visits[0], kinds=kinds, numbers=own) == "G-fleet"  # one day is not enough
    same_day = [visits[0], _e("G-buyer", "dms", "service_customer", "2023-04-15")]
    assert _owner(fleet, *same_day, kinds=kinds, numbers=own) == "G-fleet"
    assert _owner(fleet, *visits, kinds=kinds, numbers={"G-fleet": company}) == "G-fleet"  # no number known
    off = RULES.model_copy(
        update={"weak_evidence": RULES.weak_evidence.model_copy(update={"own_number_days": 0})}
    )
    assert ownership_timeline([fleet, *visits], off, kinds, [], own)[-1]["owner"] == "G-fleet"


def test_a_fleet_car_bought_by_its_repair_order_customer_names_him_in_the_store(hub: Any) -> None:
    """End to end: the numbers come from the store's records, the company's from all of its records."""
    from matching.vehicles import build_golden_vehicles
    from store import golden as store_golden

    sessions, loader = hub
    vin = "LVSHCAMB1CE054249"

    def repair(n: int, day: str, name: str, mobile: str) -> tuple[str, str, dict[str, Any]]:
        return "dms", "repair_order", {**DMS_LEAD, "message_id": f"ro-{n}", "event_type": "repair_order", "lead": None,
                                       "occurred_at": f"{day}T10:00:00+08:00",
                                       "customer": {"dms_customer_id": f"D99002-00{n}", "name": name,
                                                    "mobile": mobile, "gender": "女"},
                                       "repair_order": {"ro_number": f"RO-{n}", "vin": vin, "mileage_km": "80000"}}  # fmt: skip

    company = {**ERP_CUSTOMER, "KUNNR": "C00000077", "KTOKD": "O", "NAME1": "杭州顺达物流有限公司",
               "ID_TYPE": "", "ID_NO": "", "MOBILE": "139 1726 5843", "EMAIL": ""}  # fmt: skip
    load(loader, ("erp", "customers", company),
         ("erp", "vehicles", {"VIN": vin, "MAKE": "福特", "MODEL": "福克斯", "MODEL_YEAR": "2012",
                              "PROD_DATE": "2011-09-01", "PLANT": "cq01"}),
         ("erp", "sales_orders", {"VBELN": "SO-T3", "KUNNR": "C00000077", "VIN": vin, "DEALER": "D99001",
                                  "INVOICE_DATE": "2011-10-08"}),
         repair(1, "2020-04-02", "欧阳娜娜", "13917265843"), repair(2, "2021-04-09", "欧阳娜娜", "13917265843"))  # fmt: skip
    parties = run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    with sessions() as session:
        driven = store_golden.vehicle_owners(session)[vin]
    assert driven == parties.cluster_of[("erp", "C00000077")]  # 欧阳娜娜 calls from the company's mobile
    buyer = "李建华", "13661234988"
    load(loader, repair(3, "2022-05-10", *buyer), repair(4, "2022-11-20", *buyer))
    parties = run_party_matching(sessions, MatchingConfig())
    build_golden_vehicles(sessions)
    with sessions() as session:
        owner = store_golden.vehicle_owners(session)[vin]
    assert owner == parties.cluster_of[("dms", "D99002-003")] == parties.cluster_of[("dms", "D99002-004")]
