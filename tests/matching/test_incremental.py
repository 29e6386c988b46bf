"""Incremental matching on a real SQLite store: each rule the full run obeys must hold one record at a time."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from matching.config import MatchingConfig
from matching.incremental import IncrementalMatcher, IndexNotBuilt
from matching.run import run_party_matching
from pipeline import Loader
from store import golden as store_golden
from store import match_keys
from store.tables import ChangeLogRow, GoldenRecordRow, MergeHistoryRow
from tests.mappings.test_sources import ERP_CUSTOMER
from tests.matching.conftest import MOBILE, ZHANG_WEI, lead, load


def _golden(sessions: sessionmaker[Session], source: str, key: str) -> str:
    with sessions() as session:
        return store_golden.golden_by_key(session, "party")[(source, key)]


def _matched(hub: Any) -> tuple[sessionmaker[Session], Loader, IncrementalMatcher]:
    sessions, loader = hub
    run_party_matching(sessions, MatchingConfig())
    return sessions, loader, IncrementalMatcher(sessions, MatchingConfig())


def test_before_any_full_run_there_is_no_index_to_match_against(hub: Any) -> None:
    sessions, _ = hub
    with pytest.raises(IndexNotBuilt, match="autohub match run --full"):
        IncrementalMatcher(sessions, MatchingConfig()).pending()


def test_a_new_lead_joins_the_customer_it_belongs_to_without_a_full_run(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI)
    sessions, loader, matcher = _matched(hub)
    person = _golden(sessions, "erp", "C00000042")
    load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    pending = matcher.pending()
    assert len(pending) == 1  # only the new lead was written since the full run
    report = matcher.match(pending)
    assert (report.records, report.joined, report.created) == (1, 1, 0)
    assert _golden(sessions, "dms", "D99001-000123") == person
    with sessions() as session:
        golden = session.get(GoldenRecordRow, person)
        assert golden is not None
        assert "dms" in golden.body["sources"]  # survivorship re-applied
        events = session.scalars(
            select(ChangeLogRow.change_type).where(ChangeLogRow.golden_id == person)
        ).all()
    assert events[-1] == "updated"
    assert matcher.pending() == []  # the watermark moved on


def test_a_new_stranger_gets_a_golden_record_of_their_own(hub: Any) -> None:
    sessions, loader, matcher = _matched(hub)
    load(loader, lead("D99002-000001", "欧阳娜娜", "13661234987", 1))
    report = matcher.match(matcher.pending())
    assert (report.joined, report.created) == (0, 1)
    assert _golden(sessions, "dms", "D99002-000001").startswith("P-")


def test_a_dealer_phone_that_becomes_shared_splits_the_customers_it_had_joined(hub: Any) -> None:
    sessions, loader, matcher = _matched(hub)
    phone = "13900001111"
    load(loader, lead("D99001-900001", "王伟", phone, 1), lead("D99001-900002", "王伟", phone, 2))
    matcher.match(matcher.pending())
    # Two records, one name, one phone: so far that is one customer, as a full run would also say.
    assert _golden(sessions, "dms", "D99001-900001") == _golden(sessions, "dms", "D99001-900002")

    load(
        loader, lead("D99001-900003", "李娜", phone, 3)
    )  # two names on one number: a family phone, still evidence
    assert matcher.match(matcher.pending()).newly_shared == 0
    load(loader, lead("D99001-900004", "陈静", phone, 4))  # a third name: the dealer's own phone
    report = matcher.match(matcher.pending())
    assert report.newly_shared == 1
    assert report.rematched == 3
    assert _golden(sessions, "dms", "D99001-900001") != _golden(sessions, "dms", "D99001-900002")
    with sessions() as session:
        (shared,) = [s for s in match_keys.shared_identifiers(session) if s.value == "+86" + phone]
        assert (shared.masked, shared.names, shared.records, shared.dealers) == (
            "139****1111",
            3,
            4,
            ["D99001"],
        )
        assert "split" in session.scalars(select(MergeHistoryRow.action)).all()


def test_a_record_that_links_two_golden_records_merges_them_with_history(hub: Any) -> None:
    sessions, loader = hub
    erp_only, insured = ZHANG_WEI[0], ZHANG_WEI[1]
    # The ERP customer without mobile; the insurance holder without resident ID: nothing links them yet.
    erp = ("erp", "customers", {**erp_only[2], "MOBILE": ""})
    insurance = (
        "insurance",
        "policies",
        {**insured[2], "holder": {**insured[2]["holder"], "idType": "", "idNumber": ""}},
    )
    load(loader, erp, insurance)
    sessions, loader, matcher = _matched(hub)
    first, second = _golden(sessions, "erp", "C00000042"), _golden(sessions, "insurance", "H000042")
    assert first != second
    # The portal account carries the ERP's resident ID and the insurer's mobile: the same person throughout.
    load(loader, ("portal", "registrations", {**ZHANG_WEI[2][2], "id_card": ERP_CUSTOMER["ID_NO"]}))
    report = matcher.match(matcher.pending())
    assert report.merged == 1
    survivor = _golden(sessions, "portal", "U0000042")
    assert {_golden(sessions, "erp", "C00000042"), _golden(sessions, "insurance", "H000042")} == {survivor}
    with sessions() as session:
        (retired,) = [g for g in (first, second) if g != survivor]
        row = session.get(GoldenRecordRow, retired)
        assert row is not None
        assert (row.status, row.merged_into) == ("merged", survivor)
        assert "merge" in session.scalars(select(MergeHistoryRow.action)).all()


def test_a_steward_cannot_link_holds_for_incremental_matches(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI)
    sessions, loader, matcher = _matched(hub)
    person = _golden(sessions, "erp", "C00000042")
    load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    matcher.match(matcher.pending())
    with sessions.begin() as session:
        from matching import steward

        steward.unmerge(session, person, ["dms/D99001-000123"], actor="steward:li", reason="the son")
    son = _golden(sessions, "dms", "D99001-000123")
    load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 2))  # the dealer sends the lead again
    matcher.match(matcher.pending())
    assert _golden(sessions, "dms", "D99001-000123") == son != person


def test_a_changed_record_that_no_longer_fits_leaves_its_golden_record(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI[1:])  # insurance + portal: joined by name and mobile only
    sessions, loader, matcher = _matched(hub)
    person = _golden(sessions, "insurance", "H000042")
    assert _golden(sessions, "portal", "U0000042") == person
    # The portal account is handed over: another name, another mobile, no car in common.
    changed = {**ZHANG_WEI[2][2], "real_name": "欧阳娜娜", "mobile": "13661234987", "email": "nana@example.cn",
               "bound_vins": [], "registered_at": "2025-06-01T08:00:00+08:00"}  # fmt: skip
    load(loader, ("portal", "registrations", changed))
    report = matcher.match(matcher.pending())
    assert report.split == 1
    assert _golden(sessions, "insurance", "H000042") == person  # the rest keeps its id
    assert _golden(sessions, "portal", "U0000042") != person


@pytest.mark.parametrize("batch", [None, 7], ids=["one_by_one", "micro_batches_of_7"])
def test_incremental_matching_agrees_with_a_full_run_over_the_same_data(hub: Any, batch: int | None) -> None:
    """New and changed records (a second generated world reuses some source keys) matched one by one — or in
    micro-batches, as a scheduled run does — then a full run: the full run finds nothing to change."""
    from pipeline import to_source_record
    from sample_data import generate

    sessions, loader, matcher = _matched(hub)
    newcomers = [g for g in generate(25, seed=4242)]
    loader.load(to_source_record(loader.registry[g.source], g.stream, g.payload) for g in newcomers)
    report = matcher.match(matcher.pending(), together=batch is not None, batch=batch)
    assert report.records > 25
    full = run_party_matching(sessions, MatchingConfig())
    assert (full.created, full.retired, full.merges, full.splits) == (0, 0, 0, 0)


def test_the_cli_refuses_before_a_full_run_then_matches_what_is_new(hub_cli: Any) -> None:
    assert hub_cli("db", "upgrade").exit_code == 0
    refused = hub_cli("match", "run", "--incremental")
    assert refused.exit_code == 1
    assert "autohub match run --full" in refused.output
    assert hub_cli("match", "run", "--full").exit_code == 0
    done = hub_cli("match", "run", "--incremental")
    assert done.exit_code == 0, done.output
    assert "0 new or changed party records" in done.output


def test_the_shared_identifier_report_lists_a_dealers_own_phone(hub_cli: Any) -> None:
    from core.settings import get_settings
    from mappings import MappingRegistry
    from store.engine import create_store_engine, session_factory

    assert hub_cli("db", "upgrade").exit_code == 0
    engine = create_store_engine(get_settings().effective_database_url)
    loader = Loader(session_factory(engine), MappingRegistry.load(), pii_key=b"k")
    load(
        loader,
        *(
            lead(f"D99001-90000{n}", name, "13900001111", n)
            for n, name in enumerate(["王伟", "李娜", "陈静"], 1)
        ),
    )
    engine.dispose()
    assert hub_cli("match", "run", "--full").exit_code == 0
    report = hub_cli("match", "shared", "--dealer", "D99001")
    assert report.exit_code == 0, report.output
    assert "139****1111" in report.output
    assert "13900001111" not in report.output  # masked
    assert "1 shown" in report.output


def test_a_resale_reaches_the_golden_vehicle_without_a_full_run(hub: Any) -> None:
    """A DMS delivery of a known car to a new customer: the incremental run names the buyer as the current owner,
    touches only that car, and leaves the store as a full rebuild would."""
    from matching.vehicles import build_golden_vehicles, refresh_golden_vehicles

    sessions, loader, matcher = _matched(hub)
    build_golden_vehicles(sessions)
    with sessions() as session:
        cars = {g.body["vin"]: g for g in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))}  # fmt: skip
    vin, car = next((v, g) for v, g in sorted(cars.items()) if g.body.get("current_owner"))
    assert refresh_golden_vehicles(sessions)["vehicles"] == 0  # nothing new since the build
    delivery = {"message_id": "m-resale-incr", "event_type": "delivery", "dealer_code": "D99002",
                "occurred_at": "2030-05-20T10:00:00+08:00",
                "customer": {"dms_customer_id": "D99002-000888", "name": "欧阳娜娜", "mobile": "13661234987", "gender": "女"},
                "delivery": {"vin": vin, "plate": "沪B·67890", "delivered_at": "2030-05-20"}}  # fmt: skip
    load(loader, ("dms", "delivery", delivery))
    matcher.match(matcher.pending())
    refreshed = refresh_golden_vehicles(sessions)
    assert refreshed["vehicles"] == 1
    assert refreshed["updated"] == 1
    buyer = _golden(sessions, "dms", "D99002-000888")
    with sessions() as session:
        after = session.get(GoldenRecordRow, car.golden_id)
        assert after is not None
        assert after.body["current_owner"] == buyer != car.body["current_owner"]
        assert after.body["ownership"][-1]["owner"] == buyer
        incremental = {g.golden_id: g.body for g in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))}  # fmt: skip
    full = build_golden_vehicles(sessions)
    assert full["updated"] == 0  # the refresh left nothing for a full rebuild to change
    assert full["created"] == 0
    with sessions() as session:
        rebuilt = {g.golden_id: g.body for g in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))}  # fmt: skip
    assert rebuilt == incremental


def test_a_steward_merge_of_an_owner_reaches_the_cars_it_owns(hub: Any) -> None:
    """The owner's golden record is merged into another: the change feed tells the refresh which cars to rebuild."""
    from matching.steward import merge
    from matching.vehicles import build_golden_vehicles, refresh_golden_vehicles

    sessions, _, _ = _matched(hub)
    build_golden_vehicles(sessions)
    with sessions() as session:
        cars = list(session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle")))
    owner = next(
        c.body["current_owner"]
        for c in sorted(cars, key=lambda c: c.golden_id)
        if c.body.get("current_owner")
    )
    owned = {c.golden_id for c in cars if owner in {p["owner"] for p in c.body["ownership"]}}
    keep = next(c.body["current_owner"] for c in cars if c.body.get("current_owner") not in (None, owner))
    with sessions.begin() as session:
        merge(session, keep, owner, actor="steward@test", reason="same person, two golden records")
    refreshed = refresh_golden_vehicles(sessions)
    assert refreshed["updated"] >= len(owned)
    with sessions() as session:
        for golden_id in owned:
            row = session.get(GoldenRecordRow, golden_id)
            assert row is not None
            assert owner not in {p["owner"] for p in row.body["ownership"]}
            assert keep in {p["owner"] for p in row.body["ownership"]}


@pytest.mark.parametrize(("max_age_s", "counts"), [(300.0, 1), (0.0, 3)])
def test_a_long_lived_matcher_counts_the_key_index_for_term_frequencies_only_now_and_then(
    hub: Any, monkeypatch: pytest.MonkeyPatch, max_age_s: float, counts: int
) -> None:
    """The denominators are a scan of the key index per column: not before every batch of a follower."""
    sessions, loader = hub
    run_party_matching(sessions, MatchingConfig())
    config = MatchingConfig(term_totals_max_age_s=max_age_s)
    matcher = IncrementalMatcher(sessions, config)
    scans: list[str] = []
    counting = match_keys.indexed_with
    monkeypatch.setattr(match_keys, "indexed_with", lambda s, c: scans.append(c) or counting(s, c))
    for n in range(3):
        load(loader, lead(f"D99002-{n:06d}", f"Li Lei{n}", f"1391234{n:04d}", n))
        report = matcher.match(matcher.pending(), together=True)
        assert report.records == 1
    assert len(scans) == counts * len(set(scans))
