"""A lead under 王先生 / 李女士 is evidence only beside a phone or a car, never a name match on its own."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.run import run_party_matching
from tests.mappings.test_sources import ERP_CUSTOMER
from tests.matching.conftest import lead, load


def _erp_person(number: str, name: str, mobile: str) -> tuple[str, str, dict[str, Any]]:
    return "erp", "customers", {**ERP_CUSTOMER, "KUNNR": number, "NAME1": name, "ID_TYPE": "", "ID_NO": "",
                                "MOBILE": mobile, "EMAIL": ""}  # fmt: skip


def test_a_title_form_with_the_same_phone_joins_the_full_name(hub: Any) -> None:
    sessions, loader = hub
    load(
        loader,
        _erp_person("C00800001", "王建勋", "13957180001"),
        lead("D33001-000801", "王先生", "13957180001", 801),
    )
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00800001")] == report.cluster_of[("dms", "D33001-000801")]


def test_a_title_form_is_never_a_name_match_on_its_own(hub: Any) -> None:
    sessions, loader = hub
    load(loader, lead("D33001-000811", "王先生", "13957180011", 811), lead("D33002-000812", "王先生", "13957180012", 812),
         _erp_person("C00800013", "王建勋", "13957180013"))  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    golden = {report.cluster_of[k] for k in
              (("dms", "D33001-000811"), ("dms", "D33002-000812"), ("erp", "C00800013"))}  # fmt: skip
    assert len(golden) == 3


def test_a_title_form_of_another_surname_stays_apart_on_a_shared_phone(hub: Any) -> None:
    sessions, loader = hub
    load(
        loader,
        _erp_person("C00800021", "王建勋", "13957180021"),
        lead("D33001-000821", "李女士", "13957180021", 821),
    )
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00800021")] != report.cluster_of[("dms", "D33001-000821")]
