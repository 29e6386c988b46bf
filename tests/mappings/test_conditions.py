"""Compound ``when:`` conditions: what a name contains, a value's form, Y/N flags, combinations."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappings import Mapper
from tests.mappings.crm import body, load, mapping, party, run

COMPANY = "[有限公司, 集团]"
NAMES = f"""
kind: infer
name: {{from: name, transform: person_name, when: {{not: {{path: name, contains: {COMPANY}}}}}}}
organisation_name: {{from: name, transform: strip, when: {{path: name, contains: {COMPANY}}}}}
"""

RESIDENT_ID = '{path: id_no, matches: "[0-9]{17}[0-9Xx]"}'
USCC = '{path: id_no, matches: "[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}"}'
IDENTIFIERS = f"""
kind: person
name: {{from: name, transform: person_name}}
identifiers:
  - fields: {{type: resident_id, value: {{from: id_no}}}}
    transform: identifier
    when: {RESIDENT_ID}
  - fields: {{type: uscc, value: {{from: id_no}}}}
    transform: identifier
    when: {{all: [{USCC}, {{not: {RESIDENT_ID}}}]}}
"""

CONSENT = """
  - entity: consent
    key: [party_source_id, purpose, channel, recipient]
    fields:
      party_source_id: {from: id}
      purpose: marketing
      channel: sms
      recipient: maker
      granted_at: {from: sms_at, transform: datetime, when: {path: sms_ok, in: [Y, 是, 1]}}
      withdrawn_at: {from: sms_at, transform: datetime, when: {path: sms_ok, in: [N, 否, 0]}}
      source: {from: $source}
"""


def test_a_name_containing_a_legal_form_becomes_the_organisation_name(tmp_path: Path) -> None:
    mapper = load(tmp_path, mapping(party(NAMES)))
    company = body(mapper, {"id": "1", "name": "杭州某某建设工程有限公司"})
    assert company["organisation_name"] == "杭州某某建设工程有限公司"
    assert "name" not in company
    person = body(mapper, {"id": "2", "name": "张伟"})
    assert person["name"]["simplified"] == "张伟"
    assert "organisation_name" not in person


def test_the_identifier_type_is_chosen_by_the_value_s_form(tmp_path: Path) -> None:
    mapper = load(tmp_path, mapping(party(IDENTIFIERS)))
    person = body(mapper, {"id": "1", "name": "张伟", "id_no": "11010519491231002X"})
    assert [i["type"] for i in person["identifiers"]] == ["resident_id"]
    company = body(mapper, {"id": "2", "name": "张伟", "id_no": "91350100M000100Y43"})
    assert [i["type"] for i in company["identifiers"]] == ["uscc"]
    # matches is a full match: a value that only contains an ID number's form is neither.
    neither = body(mapper, {"id": "3", "name": "张伟", "id_no": "11010519491231002X-old"})
    assert neither["identifiers"] == []


@pytest.mark.parametrize(
    ("flag", "granted", "withdrawn"), [("Y", True, False), ("是", True, False), ("n", False, True),
                                       ("0", False, True), ("?", False, False)],
)  # fmt: skip
def test_y_n_consent_flags_give_granted_or_withdrawn(
    tmp_path: Path, flag: str, granted: bool, withdrawn: bool
) -> None:
    mapper = load(
        tmp_path, mapping(party("kind: person\nname: {from: name, transform: person_name}"), CONSENT)
    )
    payload = {"id": "1", "name": "张伟", "sms_ok": flag, "sms_at": "2024-03-01T10:00:00+08:00"}
    consent = body(mapper, payload, "consent")
    assert ("granted_at" in consent, "withdrawn_at" in consent) == (granted, withdrawn)


def _region_when(tmp_path: Path, condition: str) -> Mapper:
    fields = f"kind: person\nname: {{from: name, transform: person_name}}\nregion_code: {{from: region, when: {condition}}}"
    return load(tmp_path, mapping(party(fields)))


@pytest.mark.parametrize(
    ("condition", "payload", "kept"),
    [
        ("{all: [{path: country, equals: cn}, {path: region, blank: false}]}", {"country": "CN"}, True),
        ("{all: [{path: country, equals: cn}, {path: region, blank: false}]}", {"country": "HK"}, False),
        ("{any: [{path: country, in: [CN, 中国]}, {path: verified, blank: false}]}", {"verified": "x"}, True),
        (
            "{any: [{path: country, in: [CN, 中国]}, {path: verified, blank: false}]}",
            {"country": "JP"},
            False,
        ),
        ("{path: country, blank: true}", {"country": "  "}, True),
        ("{not: {path: country, equals: HK}}", {}, True),
        ('"country != HK"', {"country": "hk"}, False),  # the text forms are unchanged
    ],
)
def test_conditions_combine(tmp_path: Path, condition: str, payload: dict[str, str], kept: bool) -> None:
    party_body = body(
        _region_when(tmp_path, condition), {"id": "1", "name": "张伟", "region": "330106", **payload}
    )
    assert ("region_code" in party_body) is kept


def test_an_emit_s_condition_may_be_a_mapping(tmp_path: Path) -> None:
    emit = party("kind: person\nname: {from: name, transform: person_name}",
                 when="{path: status, in: [active, 正常]}")  # fmt: skip
    mapper = load(tmp_path, mapping(emit))
    assert len(run(mapper, {"id": "1", "name": "张伟", "status": "正常"}).entities) == 1
    assert run(mapper, {"id": "2", "name": "张伟", "status": "closed"}).entities == []
