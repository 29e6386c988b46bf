"""Derived values: what a resident ID encodes, and where a free-text address is (GB/T 2260)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ValidationFailed
from mappings.derive import DERIVED
from mappings.gazetteer import Place, locate
from tests.mappings.crm import body, load, mapping, party, run

DERIVED_FIELDS = """
kind: person
name: {from: name, transform: person_name}
birth_date: {from: id_no, transform: resident_id_birth_date}
gender: {from: id_no, transform: resident_id_gender}
region_code: {from: id_no, transform: resident_id_region}
"""


@pytest.mark.parametrize("id_no", ["11010519491231002X", "110105491231002"])  # the 15-digit form is upgraded
def test_birth_date_gender_and_region_come_from_the_resident_id(tmp_path: Path, id_no: str) -> None:
    party_body = body(
        load(tmp_path, mapping(party(DERIVED_FIELDS))), {"id": "1", "name": "张伟", "id_no": id_no}
    )
    assert (party_body["birth_date"], party_body["gender"], party_body["region_code"]) == (
        "1949-12-31", "female", "110105",
    )  # fmt: skip


def test_a_male_is_told_by_an_odd_17th_digit() -> None:
    assert DERIVED["resident_id_gender"]("110105194912310011", None) == "male"


def test_a_mistyped_resident_id_fails_rather_than_giving_a_wrong_birth_date(tmp_path: Path) -> None:
    mapper = load(tmp_path, mapping(party(DERIVED_FIELDS)))
    with pytest.raises(ValidationFailed) as caught:
        run(mapper, {"id": "1", "name": "张伟", "id_no": "110105194912310021"})
    assert (caught.value.reason, caught.value.field) == ("invalid_resident_id.check_digit", "id_no")


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("浙江省杭州市西湖区文三路90号", Place("330106", "浙江省", "杭州市", "西湖区")),
        ("杭州市西湖区文三路90号", Place("330106", "浙江省", "杭州市", "西湖区")),
        ("杭州西湖区文三路90号", Place("330106", "浙江省", "杭州市", "西湖区")),  # no 市
        ("南昌市西湖区", Place("360103", "江西省", "南昌市", "西湖区")),  # the same district name elsewhere
        ("上海市浦东新区张江路", Place("310115", "上海市", "上海市", "浦东新区")),  # a municipality
        ("北京朝阳区建国路88号", Place("110105", "北京市", "北京市", "朝阳区")),
        ("吉林市船营区", Place("220204", "吉林省", "吉林市", "船营区")),  # the city, not the province
        ("广东省东莞市长安镇", Place("441900", "广东省", "东莞市", None)),  # a city without districts
        ("浙江省义乌市稠城街道", Place("330782", "浙江省", "金华市", "义乌市")),  # a county-level city
        ("浙江杭州", Place("330100", "浙江省", "杭州市", None)),
        ("臺灣省", Place("710000", "台湾省", None, None)),  # traditional characters are read too
    ],
)
def test_an_address_is_located_to_its_most_precise_division(address: str, place: Place) -> None:
    assert locate(address) == place


# 西湖区 alone: two cities; 朝阳区 alone: Beijing or Changchun, and not 朝阳 the city in Liaoning
@pytest.mark.parametrize("address", ["文三路90号", "某某小区3幢", "西湖区文三路", "朝阳区府前街33号"])
def test_an_address_naming_no_known_division_is_blank(address: str) -> None:
    assert locate(address) is None


def test_address_parts_as_transforms_and_blank_takes_the_default(tmp_path: Path) -> None:
    fields = """
    kind: person
    name: {from: name, transform: person_name}
    region_code: {from: addr, transform: [simplified, address_region], default: "000000"}
    contact_points:
      - fields:
          kind: address
          address:
            province: {from: addr, transform: address_province}
            city: {from: addr, transform: address_city}
            district: {from: addr, transform: address_district}
            street: {from: addr}
        when: addr
    """
    mapper = load(tmp_path, mapping(party(fields)))
    found = body(mapper, {"id": "1", "name": "张伟", "addr": "浙江省杭州市西湖区文三路90号"})
    assert found["region_code"] == "330106"
    address = found["contact_points"][0]["address"]
    assert (address["province"], address["city"], address["district"]) == ("浙江省", "杭州市", "西湖区")
    unknown = body(mapper, {"id": "2", "name": "张伟", "addr": "文三路90号"})
    assert unknown["region_code"] == "000000"
    assert "province" not in unknown["contact_points"][0]["address"]
