"""One household, one phone, one car: the spouse who brings the owner's car in from the owner's mobile is not the
owner (issue #15, second independent set), while a typist's slip in the owner's own name still joins him."""

from __future__ import annotations

from typing import Any

from matching.clustering import may_link
from matching.config import MatchingConfig
from matching.run import run_party_matching
from tests.mappings.test_sources import DMS_LEAD, ERP_CUSTOMER
from tests.matching.conftest import load

VIN = "LVSHCAMB1CE054249"
MOBILE = "13957196688"


def _owner() -> tuple[str, str, dict[str, Any]]:
    return "erp", "customers", {**ERP_CUSTOMER, "KUNNR": "C00000777", "NAME1": "彭军", "SEX": "1",
                                "ID_NO": "", "ID_TYPE": "", "MOBILE": MOBILE, "EMAIL": ""}  # fmt: skip


def _repair(n: int, name: str) -> tuple[str, str, dict[str, Any]]:
    return "dms", "repair_order", {**DMS_LEAD, "message_id": f"ro-fam-{n}", "event_type": "repair_order",
                                   "lead": None, "occurred_at": f"2024-0{n}-02T10:00:00+08:00",
                                   "customer": {"dms_customer_id": f"D99002-7{n:05d}", "name": name,
                                                "mobile": MOBILE, "gender": ""},
                                   "repair_order": {"ro_number": f"RO-F{n}", "vin": VIN, "mileage_km": "80000"}}  # fmt: skip


def _sale() -> tuple[str, str, dict[str, Any]]:
    return "erp", "sales_orders", {"VBELN": "SO-F1", "KUNNR": "C00000777", "VIN": VIN, "DEALER": "D99002",
                                   "INVOICE_DATE": "2021-10-08"}  # fmt: skip


def test_the_spouse_on_the_owners_phone_and_car_stays_apart_and_a_typo_joins(hub: Any) -> None:
    sessions, loader = hub
    load(loader, _owner(), _sale(), _repair(1, "袁琦秀"), _repair(2, "彭君"), _repair(3, "袁琦秀"))
    golden = run_party_matching(sessions, MatchingConfig()).cluster_of
    owner = golden[("erp", "C00000777")]
    assert golden[("dms", "D99002-700002")] == owner  # 彭君: a homophone of 彭军, same phone and car
    assert golden[("dms", "D99002-700001")] != owner  # 袁琦秀: his wife, on his phone, with his car
    assert golden[("dms", "D99002-700001")] == golden[("dms", "D99002-700003")]  # she is one person


def _row(name: str, **extra: Any) -> dict[str, Any]:
    return {"kind": "person", "name_cn": name, "title_form": False, "mobile": MOBILE, **extra}


def test_may_link_refuses_names_that_disagree_outright_and_only_those() -> None:
    assert not may_link(_row("彭军"), _row("袁琦秀"))
    assert not may_link(_row("李伟"), _row("李明"))  # a father and his son at one address
    assert may_link(_row("彭军"), _row("彭君"))
    assert may_link(_row("唐秀"), _row("小秀", title_form=False))
    assert may_link(_row("彭军"), _row("彭先生", title_form=True))  # a title form: the phone decides
    assert may_link(
        _row("彭军"), {**_row("Jun Peng"), "name_cn": None}
    )  # a romanised name: the model decides


def test_a_record_without_a_name_does_not_chain_husband_and_wife() -> None:
    from matching.clustering import Edge, cluster, full_names

    rows = [{"unique_id": 1, **_row("彭军")}, {"unique_id": 2, **_row("袁琦秀")},
            {"unique_id": 3, "kind": "person", "name_cn": None, "mobile": MOBILE}]  # fmt: skip
    names = full_names(rows)
    assert names == {1: "彭军", 2: "袁琦秀"}
    edges = [Edge(1, 3, 0.99, "probabilistic"), Edge(2, 3, 0.98, "probabilistic")]
    chained = cluster([1, 2, 3], edges, names=names)
    assert chained.cluster_of[1] == chained.cluster_of[3] != chained.cluster_of[2]
    assert [(e.left, e.right) for e in chained.disagreeing] == [(2, 3)]
    same_id = cluster([1, 2, 3], [*edges, Edge(1, 2, 1.0, "deterministic")], names=names)
    assert len(set(same_id.cluster_of.values())) == 1  # a shared verified ID still joins them


def test_names_a_steward_joined_are_one_persons_for_later_links() -> None:
    from matching.clustering import Edge, cluster

    names = {1: "张伟", 2: "王秀英", 3: "张伟"}  # 王秀英: the dealer's name for 张伟, as a steward found out
    edges = [Edge(1, 2, 1.0, "manual"), Edge(1, 3, 0.99, "probabilistic")]
    assert len(set(cluster([1, 2, 3], edges, names=names).cluster_of.values())) == 1
    stranger = cluster([1, 2, 4], [Edge(1, 2, 1.0, "manual"), Edge(2, 4, 0.99, "probabilistic")],
                       names={1: "张伟", 2: "王秀英", 4: "李明"})  # fmt: skip
    assert stranger.cluster_of[4] != stranger.cluster_of[1]
