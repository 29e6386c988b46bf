"""Organisation names: the kind inferred from the name, and one key for the spellings of one company."""

from __future__ import annotations

import pytest

from canonical_model.entities.party import Party, PartyKind
from canonical_model.organisations import city_of_region, infer_kind, looks_like_person_name, organisation_key


@pytest.mark.parametrize(("name", "rule", "strong"), [
    ("某某建设工程有限责任公司", "legal_form:有限责任公司", True),
    ("杭州明达物流有限公司", "legal_form:有限公司", True),
    ("上海汽车集团股份有限公司", "legal_form:集团股份有限公司", True),
    ("某某有限公司杭州分公司", "branch:分公司", True),
    ("Acme Trading Co., Ltd.", "latin_legal_form:co., ltd.", True),
    ("Müller GmbH", "latin_legal_form:gmbh", True),
    ("杭州市第一人民医院", "keyword:医院", False),
    ("西湖区农机合作社", "keyword:合作社", False),
    ("老王汽修店", "keyword:店", False),
    ("杭州 吉祥包装材料", "industry:包装", False),
])  # fmt: skip
def test_an_organisation_is_known_by_its_name(name: str, rule: str, strong: bool) -> None:
    evidence = infer_kind(name)
    assert evidence is not None
    assert (evidence.rule, evidence.strong) == (rule, strong)


@pytest.mark.parametrize(
    "name", ["王伟", "欧阳建国", "司马相如", "买买提·吐尔逊", "Wei Zhang", "王先生", "李店", ""]
)
def test_a_person_is_not_taken_for_an_organisation(name: str) -> None:
    assert infer_kind(name) is None


@pytest.mark.parametrize("spelling", [
    "杭州某某建设工程有限公司", "杭州市某某建设工程有限责任公司", "某某（杭州）建设工程有限公司", "某某(杭州)建设工程有限公司",
    "浙江省杭州市某某建设工程有限公司", "杭州 某某建设工程", "杭州某某建設工程有限公司", "杭州\u3000某某建设工程有限公司",
])  # fmt: skip
def test_the_spellings_of_one_company_share_a_key(spelling: str) -> None:
    key = organisation_key(spelling)
    assert key.core == "某某建设工程"
    assert key.place in ("杭州", None)
    assert key.branch is None


def test_namesakes_and_branches_keep_their_place() -> None:
    hangzhou, ningbo = (
        organisation_key("杭州某某建设工程有限公司"),
        organisation_key("宁波市某某建设工程有限公司"),
    )
    assert hangzhou.core == ningbo.core
    assert (hangzhou.place, ningbo.place) == ("杭州", "宁波")
    branch = organisation_key("某某建设工程有限公司杭州分公司")
    assert (branch.core, branch.branch) == ("某某建设工程", "杭州")
    assert organisation_key("宁波金鼎医疗器械有限公司（杭州分公司）").branch == "杭州"


def test_a_latin_name_drops_its_legal_form() -> None:
    assert organisation_key("ACME Trading Co., Ltd.").core == organisation_key("Acme Trading Limited").core


def test_region_codes_name_their_city() -> None:
    assert [city_of_region(c) for c in ("330106", "110105", "500101", "440305", "999999")] == [
        "杭州", "北京", "重庆", "深圳", None]  # fmt: skip


def test_a_party_without_a_kind_is_inferred_and_a_person_with_a_legal_form_corrected() -> None:
    silent = Party.model_validate({"kind": "infer", "name": {"raw": "某某建设工程有限责任公司"}})
    assert (silent.kind, silent.organisation_name, silent.name) == (
        PartyKind.ORGANISATION,
        "某某建设工程有限责任公司",
        None,
    )
    assert silent.kind_rule == "legal_form:有限责任公司"
    said_person = Party.model_validate(
        {"kind": "person", "name": {"raw": "某某物流有限公司"}, "gender": "male"}
    )
    assert said_person.kind is PartyKind.ORGANISATION
    assert said_person.kind_rule == "legal_form:有限公司 (the source said person)"
    # A keyword alone overrules a source that said person only in a name longer than a person's.
    hospital = Party.model_validate({"kind": "person", "name": {"raw": "杭州市第一人民医院"}})
    assert (hospital.kind, hospital.kind_rule) == (
        PartyKind.ORGANISATION,
        "keyword:医院 (the source said person)",
    )
    for short in ("张记小吃店", "王建设"):
        assert Party.model_validate({"kind": "person", "name": {"raw": short}}).kind is PartyKind.PERSON
    person = Party.model_validate({"name": {"raw": "王伟"}})
    assert (person.kind, person.kind_rule) == (PartyKind.PERSON, None)


@pytest.mark.parametrize("name", ["诸葛敏鹏", "崔晓", "王先生", "欧阳娜娜"])
def test_an_organisation_named_as_a_person_is_a_person(name: str) -> None:
    party = Party.model_validate({"kind": "organisation", "organisation_name": name})
    assert party.kind is PartyKind.PERSON
    assert party.organisation_name is None
    assert party.name is not None
    assert party.name.raw == name
    assert party.kind_rule == "person_name (the source said organisation)"


@pytest.mark.parametrize("name", ["华为", "小米", "李记店", "凯旋出行", "李记面馆", "杭州明达物流有限公司"])
def test_a_short_company_name_stays_an_organisation(name: str) -> None:
    assert looks_like_person_name(name) is False
    party = Party.model_validate({"kind": "organisation", "organisation_name": name})
    assert party.kind is PartyKind.ORGANISATION
