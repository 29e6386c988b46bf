"""Value expressions: concat, the first non-blank of several paths, split, regex, codes after a transform."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from core.errors import MappingError
from mappings import Mapper
from mappings.compile import Compiler, Place
from tests.mappings.crm import body, load, mapping, party, run

PERSON = "kind: person\nname: {from: name, transform: person_name}\n"


def _mapper(tmp_path: Path, fields: str) -> Mapper:
    return load(tmp_path, mapping(party(PERSON + textwrap.dedent(fields).strip("\n"))))


def _person(**payload: Any) -> dict[str, Any]:
    return {"id": "1", "name": "张伟", **payload}


def test_a_company_name_split_over_two_columns_is_joined(tmp_path: Path) -> None:
    fields = "kind: organisation\norganisation_name: {concat: [NAME1, NAME2], transform: strip}"
    mapper = load(tmp_path, mapping(party(fields)))
    assert body(mapper, {"id": "1", "NAME1": "上海明达物流", "NAME2": "有限公司"})["organisation_name"] == (
        "上海明达物流有限公司"
    )
    assert body(mapper, {"id": "2", "NAME1": "上海明达物流有限公司", "NAME2": " "})["organisation_name"] == (
        "上海明达物流有限公司"
    )


def test_concat_skips_blank_parts_and_all_blank_takes_the_default(tmp_path: Path) -> None:
    fields = """
    contact_points:
      - fields:
          kind: address
          address:
            street: {concat: [street, {from: number, transform: strip}, {const: 号}], sep: " ", default: 不详}
    """
    mapper = _mapper(tmp_path, fields)
    street = body(mapper, _person(street="文三路", number="90"))["contact_points"][0]["address"]["street"]
    assert street == "文三路 90 号"
    assert body(mapper, _person(street="文三路"))["contact_points"][0]["address"]["street"] == "文三路 号"
    fields_no_const = "region_code: {concat: [prov, city], default: '110000'}"
    other = load(tmp_path, mapping(party(PERSON + fields_no_const)))
    assert body(other, _person(prov="33", city="0106"))["region_code"] == "330106"
    assert body(other, _person(prov="", city=None))["region_code"] == "110000"


def test_a_blank_real_name_falls_back_to_the_nick_name(tmp_path: Path) -> None:
    mapper = load(
        tmp_path, mapping(party("kind: person\nname: {from: [real_name, nick_name], transform: person_name}"))
    )
    assert body(mapper, {"id": "1", "real_name": "张伟", "nick_name": "伟哥"})["name"]["simplified"] == "张伟"
    assert body(mapper, {"id": "2", "real_name": " ", "nick_name": "伟哥"})["name"]["simplified"] == "伟哥"


def test_a_failure_names_the_path_a_from_list_read(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, "birth_date: {from: [birthday, dob], transform: date}")
    with pytest.raises(MappingError) as caught:
        run(mapper, _person(birthday="", dob="1990-13-01"))
    assert (caught.value.reason, caught.value.field) == ("bad_date", "dob")


@pytest.mark.parametrize(("index", "expected"), [(0, "330106"), (1, "110105"), (-1, "110105"), (5, "110000")])
def test_split_takes_one_part(tmp_path: Path, index: int, expected: str) -> None:
    fields = (
        f"region_code: {{from: regions, transform: {{split: {{sep: /, index: {index}}}}}, default: '110000'}}"
    )
    assert body(_mapper(tmp_path, fields), _person(regions="330106 / 110105"))["region_code"] == expected


def test_regex_extracts_a_group_and_no_match_is_blank(tmp_path: Path) -> None:
    fields = r"region_code: {from: note, transform: {regex: {pattern: '行政区划[:：]\s*(\d{6})'}}}"
    mapper = _mapper(tmp_path, fields)
    assert body(mapper, _person(note="客户 行政区划：330106 (杭州)"))["region_code"] == "330106"
    assert "region_code" not in body(mapper, _person(note="无"))


def test_regex_no_match_may_fail_the_field(tmp_path: Path) -> None:
    fields = r"region_code: {from: note, transform: {regex: {pattern: '(?P<code>\d{6})', group: code, no_match: fail}}}"
    mapper = _mapper(tmp_path, fields)
    assert body(mapper, _person(note="region 330106"))["region_code"] == "330106"
    with pytest.raises(MappingError) as caught:
        run(mapper, _person(note="none"))
    assert (caught.value.reason, caught.value.field) == ("no_match", "note")


def test_codes_apply_after_a_transform_when_listed_as_a_step(tmp_path: Path) -> None:
    step = r"gender: {from: remark, transform: [{regex: '性别[:：](\S)'}, {codes: sex_cn}]}"
    assert body(_mapper(tmp_path, step), _person(remark="性别：女 年龄：30"))["gender"] == "female"
    # The codes: key still looks the raw value up before any transform, as it always did.
    key = r"gender: {from: remark, codes: sex_cn, transform: {regex: '(\S+)'}}"
    with pytest.raises(MappingError) as caught:
        run(_mapper(tmp_path, key), _person(remark="性别：女"))
    assert caught.value.reason == "unknown_code"


@pytest.mark.parametrize(
    "fields",
    [
        "gender: {from: sex, transform: [strip, {codes: {table: sex_cn, unknown: unknown}}]}",  # the step's own
        "gender: {from: sex, transform: [strip, {codes: sex_cn}], default: unknown}",  # the field's default
    ],
)
def test_an_unknown_code_in_a_step_falls_back(tmp_path: Path, fields: str) -> None:
    assert body(_mapper(tmp_path, fields), _person(sex="X"))["gender"] == "unknown"


def test_an_unknown_code_in_a_step_without_fallback_is_unknown_code(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, "gender: {from: sex, transform: [upper, {codes: sex_cn}]}")
    with pytest.raises(MappingError) as caught:
        run(mapper, _person(sex="X"))
    assert (caught.value.reason, caught.value.field) == ("unknown_code", "sex")
    dropped = _mapper(tmp_path, "gender: {from: sex, transform: [upper, {codes: sex_cn}], on_error: drop}")
    assert run(dropped, _person(sex="X")).warnings == ["sex: unknown_code (dropped)"]


def test_a_contact_becomes_a_second_party_with_a_literal_key_part(tmp_path: Path) -> None:
    company = party("kind: organisation\norganisation_name: {from: name}")
    contact = party("kind: person\nname: {from: contact, transform: person_name}", when="contact",
                    key='[$source_id, "=contact"]')  # fmt: skip
    mapper = load(tmp_path, mapping(company, contact))
    mapped = run(mapper, {"id": "C1", "name": "杭州某某建设工程有限公司", "contact": "李娜"})
    assert [e.entity_key for e in mapped.entities] == ["C1", "C1:contact"]
    assert mapped.entities[1].body["name"]["simplified"] == "李娜"


def test_a_chain_without_a_step_that_may_find_nothing_keeps_the_plain_loop(tmp_path: Path) -> None:
    """The fast path: mappings that use none of the new steps run the transform loop they always ran."""
    mapper = _mapper(tmp_path, "region_code: {from: r}")
    compiler = Compiler(mapper.codes)
    plain = compiler.transform(
        {"from": "r", "transform": ["strip", "upper"]}, Place("test", "party.region_code")
    )
    checked = compiler.transform(
        {"from": "r", "transform": ["strip", {"split": "/"}]}, Place("test", "party.x")
    )
    assert plain is not None
    assert checked is not None
    assert (plain.__name__, checked.__name__) == ("transform", "transform_or_empty")
