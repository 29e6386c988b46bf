"""The same name at the same house and flat is one person, whatever phone each source has (a second mobile, a
dealer's placeholder); the same address under another name is a household, never a merge."""

from __future__ import annotations

from typing import Any

from matching.config import MatchingConfig
from matching.features import address_key
from matching.run import run_party_matching
from tests.matching.conftest import erp_customer, load

FLAT = "上海市浦东新区建设路359号翠苑29栋1单元2502室"


def test_one_name_at_one_flat_with_two_phones_is_one_person(hub: Any) -> None:
    sessions, loader = hub
    load(loader, erp_customer("C00700001", "沈昊静", "13957170001", FLAT),
         erp_customer("C00700002", "沈昊静", "13957174402", "浦东新区建设路359号翠苑29幢1单元2502室"),  # city left out, 幢
         erp_customer("C00700003", "沈昊静", "15957196603", "浦东新区建设路359号翠苑29栋1单元2503室"))  # the flat next door  # fmt: skip
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00700001")] == report.cluster_of[("erp", "C00700002")]
    assert report.cluster_of[("erp", "C00700003")] != report.cluster_of[("erp", "C00700001")]


def test_a_household_at_one_address_stays_apart(hub: Any) -> None:
    sessions, loader = hub
    load(
        loader,
        erp_customer("C00700011", "沈建国", "13957170011", FLAT),
        erp_customer("C00700012", "沈梅", "13957170012", FLAT),
    )
    report = run_party_matching(sessions, MatchingConfig())
    assert report.cluster_of[("erp", "C00700011")] != report.cluster_of[("erp", "C00700012")]


def test_a_street_without_a_number_is_no_key() -> None:
    assert (
        address_key({"contact_points": [{"kind": "address", "address": {"street": "杭州市西湖区文三路"}}]})
        is None
    )
    assert address_key(
        {"contact_points": [{"kind": "address", "address": {"street": "浙江省杭州市西湖区文三路90号"}}]}
    ) == ("文三路90号")
