"""Organisations across sources without a party type: one company however it is spelled, namesakes apart."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.run import run_party_matching
from tests.mappings.test_sources import ERP_CUSTOMER
from tests.matching.conftest import lead, load

COMPANY_PHONE = "13957110001"


def _erp_company(number: str, name: str, mobile: str, region: str) -> tuple[str, str, dict[str, Any]]:
    payload = {**ERP_CUSTOMER, "KUNNR": number, "KTOKD": "O", "NAME1": name, "ID_TYPE": "", "ID_NO": "",
               "SEX": "", "GBDAT": "", "MOBILE": mobile, "EMAIL": "", "REGIO": region, "STRAS": ""}  # fmt: skip
    return "erp", "customers", payload


def test_a_dms_company_typed_as_a_person_meets_its_erp_record(hub: Any) -> None:
    sessions, loader = hub
    load(loader, _erp_company("C00900001", "杭州某某建设工程有限公司", COMPANY_PHONE, "330106"),
         lead("D33001-000901", "杭州市某某建设工程有限责任公司", COMPANY_PHONE, 901),
         lead("D33002-000902", "某某（杭州）建设工程有限公司", COMPANY_PHONE, 902))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    golden = {report.cluster_of[k] for k in
              (("erp", "C00900001"), ("dms", "D33001-000901"), ("dms", "D33002-000902"))}  # fmt: skip
    assert len(golden) == 1
    with sessions() as session:
        from store.tables import CanonicalRecordRow

        dms = session.query(CanonicalRecordRow).filter_by(source="dms", entity_type="party").all()
        rules = sorted(r.body.get("kind_rule") for r in dms if r.entity_key.startswith("D3300"))
    assert rules == [
        "legal_form:有限公司 (the source said person)",
        "legal_form:有限责任公司 (the source said person)",
    ]


def test_two_companies_of_one_trade_name_in_two_cities_stay_two(hub: Any) -> None:
    sessions, loader = hub
    load(loader, _erp_company("C00900011", "杭州明远物流有限公司", "13957110011", "330106"),
         _erp_company("C00900012", "宁波明远物流有限公司", "13957110012", "330203"),
         lead("D33001-000911", "明远物流有限公司", "13957110011", 911))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    hangzhou, ningbo = report.cluster_of[("erp", "C00900011")], report.cluster_of[("erp", "C00900012")]
    assert hangzhou != ningbo
    assert report.cluster_of[("dms", "D33001-000911")] == hangzhou  # the phone says which one


def test_a_branch_is_another_establishment(hub: Any) -> None:
    sessions, loader = hub
    load(loader, _erp_company("C00900021", "某某建设工程有限公司", "13957110021", "330106"),
         _erp_company("C00900022", "某某建设工程有限公司杭州分公司", "13957110022", "330106"))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00900021")] != report.cluster_of[("erp", "C00900022")]


def test_a_company_name_on_an_address_in_another_city_is_an_establishment_there() -> None:
    from datetime import UTC, datetime

    from matching.clustering import organisation_identity
    from matching.features import party_features
    from store.matching_input import PartyRecord

    def company(n: int, region: str) -> dict[str, object]:
        address = {"kind": "address", "address": {"region_code": region, "street": "韶山北路471号"}}
        body = {
            "kind": "organisation",
            "organisation_name": "西安博雅广告有限公司",
            "contact_points": [address],
        }
        return party_features(PartyRecord(n, "dms", f"K{n}", body, datetime.now(UTC)))

    parent, elsewhere = company(1, "610113"), company(2, "430102")  # 西安 (its name's city), 长沙
    assert parent["region"] == "610113"  # read from the address when the party has no region of its own
    assert (parent["org_place"], parent["org_branch"]) == ("西安", None)
    assert (elsewhere["org_place"], elsewhere["org_branch"]) == ("西安", "长沙")
    assert organisation_identity(parent) != organisation_identity(elsewhere)
