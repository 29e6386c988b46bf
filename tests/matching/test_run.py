"""Party matching end to end on a real SQLite store with hand-built records: each rule would fail without it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from matching.config import MatchingConfig
from matching.run import MatchReport, run_party_matching
from store import golden as store_golden
from store.tables import AttributeLineageRow, GoldenRecordRow, MatchReviewRow, MergeHistoryRow, XrefRow
from tests.mappings.test_sources import ERP_CUSTOMER, INSURANCE_POLICY
from tests.matching.conftest import MOBILE, ZHANG_WEI, lead, load


def _members(report: MatchReport, golden_id: str) -> set[tuple[str, str]]:
    return {key for key, gid in report.cluster_of.items() if gid == golden_id}


def _golden_of(report: MatchReport, source: str, key: str) -> str:
    return report.cluster_of[(source, key)]


def test_one_person_in_four_sources_becomes_one_golden_record_with_lineage(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    report = run_party_matching(sessions, MatchingConfig())
    golden_id = _golden_of(report, "erp", "C00000042")
    assert _members(report, golden_id) == {("erp", "C00000042"), ("insurance", "H000042"), ("portal", "U0000042"),
                                           ("dms", "D99001-000123")}  # fmt: skip
    with sessions() as session:
        golden = session.get(GoldenRecordRow, golden_id)
        assert golden is not None
        assert golden.body["name"]["raw"] == "张伟"  # ERP ranks first for the legal name
        assert golden.body["sources"] == ["dms", "erp", "insurance", "portal"]
        lineage = {row.attribute: row for row in session.scalars(
            select(AttributeLineageRow).where(AttributeLineageRow.golden_id == golden_id))}  # fmt: skip
        assert (lineage["name"].source, lineage["name"].rule) == ("erp", "source_rank")
        assert lineage["email"].source == "portal"  # the portal ranks first for e-mail
        methods = {
            (x.source, x.method)
            for x in session.scalars(select(XrefRow).where(XrefRow.golden_id == golden_id))
        }
        assert ("insurance", "deterministic") in methods


def test_a_dealers_own_phone_is_withdrawn_so_two_different_wang_weis_stay_apart(hub: Any) -> None:
    sessions, loader = hub
    dealer_phone = "13900001111"
    load(loader, *(lead(f"D99001-90000{n}", name, dealer_phone, n)
                    for n, name in enumerate(["王伟", "王伟", "李娜", "陈静"], start=1)))  # fmt: skip
    unguarded = run_party_matching(sessions, MatchingConfig(shared_identifier_min_names=99))
    assert _golden_of(unguarded, "dms", "D99001-900001") == _golden_of(unguarded, "dms", "D99001-900002")

    guarded = run_party_matching(sessions, MatchingConfig())
    assert _golden_of(guarded, "dms", "D99001-900001") != _golden_of(guarded, "dms", "D99001-900002")
    (shared,) = [s for s in guarded.shared if s.masked == "139****1111"]  # the crowd has dealer phones too
    assert (shared.kind, shared.names, shared.records, shared.dealers) == ("mobile", 3, 4, ("D99001",))


def test_a_shared_number_is_reported_at_the_dealers_whose_events_name_its_carriers(hub: Any) -> None:
    """The dealers come from the leads' dealer_code, not from the customer key: a DMS whose customer numbers
    carry no dealer prefix once had its party ids printed under "at dealer"."""
    sessions, loader = hub
    phone = "13900002222"
    leads = []
    for n, (name, dealer) in enumerate([("王伟", "d31002"), ("李娜", "d31002"), ("陈静", "d31003")], start=1):
        _, _, event = lead(f"C90000{n}", name, phone, n)
        leads.append(("dms", "lead", {**event, "dealer_code": dealer}))
    load(loader, *leads)
    report = run_party_matching(sessions, MatchingConfig())
    (shared,) = [s for s in report.shared if s.masked == "139****2222"]
    assert shared.dealers == ("D31002", "D31003")
    assert "at dealer D31002, D31003" in shared.describe()


def test_golden_ids_survive_re_runs_and_grown_data(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI)
    first = run_party_matching(sessions, MatchingConfig())
    again = run_party_matching(sessions, MatchingConfig())
    assert again.cluster_of == first.cluster_of
    assert (again.created, again.updated, again.unchanged) == (0, 0, first.clusters)
    load(loader, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    grown = run_party_matching(sessions, MatchingConfig())
    assert _golden_of(grown, "dms", "D99001-000123") == _golden_of(first, "erp", "C00000042")
    assert (grown.created, grown.updated) == (0, 1)


def test_a_steward_unmerge_is_never_undone_by_the_next_run(hub: Any) -> None:
    sessions, loader = hub
    load(loader, *ZHANG_WEI, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    merged = run_party_matching(sessions, MatchingConfig())
    person = _golden_of(merged, "erp", "C00000042")
    assert _golden_of(merged, "dms", "D99001-000123") == person
    with sessions.begin() as session:
        ids = {(x.source, x.entity_key): x.canonical_record_id for x in session.scalars(
            select(XrefRow).where(XrefRow.golden_id == person))}  # fmt: skip
        son = ids[("dms", "D99001-000123")]
        for key, record in ids.items():
            if key != ("dms", "D99001-000123"):
                store_golden.add_constraint(session, "party", "cannot_link", record, son, actor="steward:li",
                                            reason="the dealer's lead is the son")  # fmt: skip
    for _ in range(2):  # the next run, and the one after: the decision holds
        report = run_party_matching(sessions, MatchingConfig())
        assert _golden_of(report, "dms", "D99001-000123") != person
        assert _golden_of(report, "erp", "C00000042") == person  # the rest keeps its id
        assert report.refused_by_steward >= 1
    with sessions() as session:
        actions = [row.action for row in session.scalars(select(MergeHistoryRow))]
    assert "split" in actions


def test_a_resold_car_names_its_second_owner_as_the_current_one(hub: Any) -> None:
    from matching.vehicles import build_golden_vehicles

    sessions, loader = hub
    vin = "LVSHCAMB1CE054249"
    buyer = {**ERP_CUSTOMER, "MOBILE": "139 1726 5843"}
    load(
        loader,
        ("erp", "customers", buyer),
        ("erp", "vehicles", {"VIN": vin, "MAKE": "福特", "MODEL": "福克斯", "MODEL_YEAR": "2012",
                             "PROD_DATE": "2011-09-01", "PLANT": "cq01"}),
        ("erp", "sales_orders", {"VBELN": "SO-T1", "KUNNR": "C00000042", "VIN": vin, "DEALER": "D99001",
                                 "INVOICE_DATE": "2011-10-08"}),
        ("insurance", "policies", {**INSURANCE_POLICY, "policyNo": "PT-1", "vin": vin, "plate": "沪A·12345",
                                   "startDate": "2012-10-08", "endDate": "2013-10-07",
                                   "holder": {**INSURANCE_POLICY["holder"], "mobile": "+86" + MOBILE}}),
        ("dms", "delivery", {"message_id": "m-resale", "event_type": "delivery", "dealer_code": "D99002",
                             "occurred_at": "2019-05-20T10:00:00+08:00",
                             "customer": {"dms_customer_id": "D99002-000777", "name": "欧阳娜娜", "mobile": "13661234987",
                                          "gender": "女"},
                             "delivery": {"vin": vin, "plate": "沪B·67890", "delivered_at": "2019-05-20"}}),
    )  # fmt: skip
    parties = run_party_matching(sessions, MatchingConfig())
    first_owner = _golden_of(parties, "erp", "C00000042")
    second_owner = _golden_of(parties, "dms", "D99002-000777")
    build_golden_vehicles(sessions)
    with sessions() as session:
        (car,) = [g for g in session.scalars(select(GoldenRecordRow).where(GoldenRecordRow.entity_type == "vehicle"))
                  if g.body["vin"] == vin]  # fmt: skip
    assert car.body["current_owner"] == second_owner
    assert [p["owner"] for p in car.body["ownership"]] == [first_owner, second_owner]
    assert car.body["ownership"][0]["to"] == "2019-05-20"
    assert car.body["definition"]["model"] == "福克斯"  # from the ERP
    assert [p["plate"] for p in car.body["plates"]] == ["沪A12345", "沪B67890"]
    build_golden_vehicles(sessions)  # a re-run keeps the vehicle's golden id
    with sessions() as session:
        again = session.get(GoldenRecordRow, car.golden_id)
        assert again is not None
        assert again.version == car.version


def test_a_steward_merge_and_unmerge_apply_at_once_and_survive_the_next_runs(hub: Any) -> None:
    from matching import steward

    sessions, loader = hub
    load(loader, *ZHANG_WEI, lead("D99001-000555", "王秀英", "13587654321", 7))
    first = run_party_matching(sessions, MatchingConfig())
    person, other = _golden_of(first, "erp", "C00000042"), _golden_of(first, "dms", "D99001-000555")
    assert person != other

    with sessions.begin() as session:  # a pair waiting in the steward's queue, elsewhere in the crowd
        a, b = session.scalars(select(XrefRow.canonical_record_id).where(XrefRow.golden_id.not_in([person, other]))
                               .limit(2)).all()  # fmt: skip
        session.add(MatchReviewRow(entity_type="party", record_id_l=a, record_id_r=b, match_probability=0.7,
                                   match_weight=1.2, found_in_run=first.run_id))  # fmt: skip
    with sessions() as session:
        open_before = session.scalars(select(MatchReviewRow.id).where(MatchReviewRow.status == "open")).all()
    assert open_before

    # A steward knows the lead is the same customer (a nickname at the dealer).
    with sessions.begin() as session:
        merged = steward.merge(session, person, other, actor="steward:li", reason="phoned the customer")
    with sessions() as session:  # one decision does not close the rest of the steward's queue
        open_after = session.scalars(select(MatchReviewRow.id).where(MatchReviewRow.status == "open")).all()
    assert open_after == open_before
    assert "dms/D99001-000555" in merged.members[person]
    with sessions() as session:
        retired = session.get(GoldenRecordRow, other)
        assert retired is not None
        assert (retired.status, retired.merged_into) == ("merged", person)
    again = run_party_matching(sessions, MatchingConfig())
    assert _golden_of(again, "dms", "D99001-000555") == person  # the next run keeps the steward's merge

    with sessions.begin() as session:  # and changes their mind: the portal account is the daughter's
        split = steward.unmerge(session, person, ["portal/U0000042"], actor="steward:li", reason="daughter")
    (new_id,) = set(split.golden_ids) - {person}
    assert split.members[new_id] == ["portal/U0000042"]
    for _ in range(2):
        report = run_party_matching(sessions, MatchingConfig())
        assert _golden_of(report, "portal", "U0000042") == new_id
        assert _golden_of(report, "erp", "C00000042") == person
    with sessions() as session:
        actions = [(h.action, h.actor, h.reason) for h in session.scalars(select(MergeHistoryRow))]
    assert ("manual_merge", "steward:li", "phoned the customer") in actions
    assert ("manual_unmerge", "steward:li", "daughter") in actions


def test_a_steward_decision_on_an_unknown_golden_record_is_refused(hub: Any) -> None:
    from matching import steward

    sessions, _ = hub
    with (
        sessions.begin() as session,
        pytest.raises(steward.StewardRefused, match="no active golden customer"),
    ):
        steward.merge(session, "P-NOPE", "P-NADA", actor="steward:li", reason="?")


def test_explain_says_what_each_comparison_added(hub: Any) -> None:
    from matching.explain import explain_pair

    sessions, loader = hub
    load(loader, *ZHANG_WEI, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    explanation = explain_pair(sessions, MatchingConfig(), "erp/C00000042", "dms/D99001-000123")
    by_name = {c.comparison: c for c in explanation.contributions}
    assert by_name["mobile"].weight > 5  # the same mobile is strong evidence
    assert by_name["name"].level == "Exact match on name_py"  # 张伟 and "Wei Zhang" meet on the pinyin key
    assert by_name["id_hash"].level == "no value on one side"
    assert by_name["id_hash"].weight == 0
    total = explanation.prior_weight + sum(c.weight for c in explanation.contributions)
    assert abs(total - explanation.match_weight) < 1e-9
    assert explanation.match_probability > 0.9
    assert "→ probability" in explanation.lines()[-1]


def test_a_family_phone_does_not_join_relatives_whose_pinyin_names_look_alike(hub: Any) -> None:
    """吴静 and 吴婷 (wu jing / wu ting) share the family's phone: close letters, two different Chinese names."""
    sessions, loader = hub
    phone = "13900002222"
    load(loader, lead("D99001-800001", "吴静", phone, 1), lead("D99001-800002", "吴婷", phone, 2),
         lead("D99001-800003", "Emily Brown", "13900003333", 3), lead("D99001-800004", "Emilie Brown", "13900003333", 4))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    assert _golden_of(report, "dms", "D99001-800001") != _golden_of(report, "dms", "D99001-800002")
    # A non-Chinese name keeps its typo tolerance: the same phone and a one-letter slip are one customer.
    assert _golden_of(report, "dms", "D99001-800003") == _golden_of(report, "dms", "D99001-800004")


def test_name_order_swapped_means_both_parts_swapped(hub: Any) -> None:
    """李建华 and 王丽 share a phone; "li" is one's surname and the other's given name — that is no swap."""
    from matching.explain import explain_pair

    sessions, loader = hub
    load(loader, lead("D99001-700001", "李建华", "13900004444", 1), lead("D99001-700002", "王丽", "13900004444", 2),
         lead("D99001-700003", "Jianhua Li", "13900005555", 3))  # fmt: skip
    apart = explain_pair(sessions, MatchingConfig(), "dms/D99001-700001", "dms/D99001-700002")
    assert {c.comparison: c.level for c in apart.contributions}["name"] != "name, order swapped"
    assert apart.match_probability < 0.5
    report = run_party_matching(sessions, MatchingConfig())
    assert _golden_of(report, "dms", "D99001-700001") != _golden_of(report, "dms", "D99001-700002")


def test_explain_a_golden_record_names_its_members_and_where_each_attribute_came_from(hub: Any) -> None:
    from matching.explain import UnknownRecord, explain_golden

    sessions, loader = hub
    load(loader, *ZHANG_WEI, lead("D99001-000123", "Wei Zhang", MOBILE, 1))
    report = run_party_matching(sessions, MatchingConfig())
    golden_id = _golden_of(report, "erp", "C00000042")
    with sessions() as session:
        explained = explain_golden(session, golden_id)
        with pytest.raises(UnknownRecord):
            explain_golden(session, "P-NOPE")
    methods = {label: method for label, method, _ in explained.members}
    assert methods["insurance/H000042"] == "deterministic"
    assert methods["dms/D99001-000123"] == "probabilistic"
    origins = {attribute: (label, rule) for attribute, label, rule in explained.attributes}
    assert origins["name"] == ("erp/C00000042", "source_rank")
    assert any("same resident ID" in line for line in explained.lines())
