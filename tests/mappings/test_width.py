"""Full-width values typed with a Chinese IME (``１１０１０５…Ｘ``, ``＋８６ １３８－…``) are the ASCII ones: the
identifier transforms and the conditions read them width-folded (NFKC); text kept as written is not folded."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings.derive import t_resident_id_birth_date
from mappings.transforms import (
    t_date,
    t_email,
    t_identifier,
    t_mobile_contact,
    t_phone_contact,
    t_plate,
    t_vin,
)
from tests.mappings.crm import body, load, mapping, party

FULL_WIDTH_ID = "１１０１０５１９４９１２３１００２Ｘ"


@pytest.mark.parametrize(
    ("transform", "written", "read"),
    [
        (t_mobile_contact, "＋８６ １３８－１２３４－５６７８", "+8613812345678"),
        (t_phone_contact, "（０２０）８８８８ ０９００", "+862088880900"),
        (t_vin, "ＬＦＶ２Ａ２１Ｋ７Ｇ３０００００１", "LFV2A21K7G3000001"),
        (t_plate, "沪Ａ１２３４５", "沪A12345"),
        (t_email, "ｚｗ＠ｍａｉｌ．ｃｎ", "zw@mail.cn"),
        (t_date, "２０２４－０１－０２", "2024-01-02"),
        (t_resident_id_birth_date, FULL_WIDTH_ID, "1949-12-31"),
    ],
)
def test_a_clean_full_width_value_is_read_as_its_ascii_twin(
    transform: object, written: str, read: str
) -> None:
    result = transform(written, None)  # type: ignore[operator]
    assert read in (result if isinstance(result, str) else result.values())


@pytest.mark.parametrize("id_type", ["resident_id", "auto"])
def test_a_full_width_resident_id_is_valid(id_type: str) -> None:
    assert t_identifier({"type": id_type, "value": FULL_WIDTH_ID})["value"] == "11010519491231002X"
    assert (
        t_identifier({"type": id_type, "value": "１１０１０５１９４９１２３１００２ｘ"})["type"]
        == "resident_id"
    )


def test_a_condition_tests_a_full_width_value_by_its_form(tmp_path: Path) -> None:
    fields = """
kind: person
name: {from: name, transform: person_name}
identifiers:
  - fields: {type: resident_id, value: {from: id_no}}
    transform: identifier
    when: {path: id_no, matches: "[0-9]{17}[0-9Xx]"}
contact_points:
  - {from: tel, transform: mobile_contact, when: "tel_kind == M"}
"""
    mapper = load(tmp_path, mapping(party(fields)))
    built = body(mapper, {"id": "1", "name": "张伟", "id_no": FULL_WIDTH_ID, "tel": "１３８１２３４５６７８",
                          "tel_kind": "Ｍ"})  # fmt: skip
    assert built["identifiers"][0]["value"] == "11010519491231002X"
    assert built["contact_points"][0]["mobile"] == "+8613812345678"


def test_text_kept_as_written_is_not_folded(tmp_path: Path) -> None:
    fields = "kind: organisation\norganisation_name: {from: name, transform: strip}"
    mapper = load(tmp_path, mapping(party(fields)))
    assert body(mapper, {"id": "1", "name": "杭州明达（滨江）有限公司"})["organisation_name"] == (
        "杭州明达（滨江）有限公司"
    )
