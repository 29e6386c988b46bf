"""List items that give several values: one contact point per item of a nested list (``foreach``), one per
number in a field that holds several (``split_all``)."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError, MappingError, ValidationFailed
from mappings import Mapper
from tests.mappings.crm import body, load, mapping, party, run

PERSON = "kind: person\nname: {from: name, transform: person_name}\n"
PHONES = [
    {"type": "MOBILE", "number": "13900000001", "status": "INACTIVE"},
    {"type": "HOME", "number": "0571-88880900", "status": "ACTIVE"},
    {"type": "MOBILE", "number": "13812345678", "status": "ACTIVE"},
]


def _mapper(tmp_path: Path, contact_points: str) -> Mapper:
    fields = PERSON + "contact_points:\n" + textwrap.indent(textwrap.dedent(contact_points).strip("\n"), "  ")
    return load(tmp_path, mapping(party(fields)))


def _phones(mapper: Mapper, **payload: Any) -> list[str]:
    """The party's phones in order, E.164 (a landline with its extension after #)."""
    points = body(mapper, {"id": "1", "name": "张伟", **payload}).get("contact_points", [])
    return [
        p.get("mobile") or p["landline"] + (f"#{p['extension']}" if p.get("extension") else "")
        for p in points
    ]


# --- foreach: one value per item of a nested list -----------------------------------------------------------


def test_one_contact_point_per_active_phone_of_a_nested_list(tmp_path: Path) -> None:
    mapper = _mapper(
        tmp_path,
        """
        - foreach: phones
          template: {from: $item.number, transform: phone_contact}
          when: {path: $item.status, equals: ACTIVE}
        - {from: mobile, transform: mobile_contact}
        """,
    )
    assert _phones(mapper, phones=PHONES, mobile="13912345678") == [
        "+8657188880900", "+8613812345678", "+8613912345678",
    ]  # fmt: skip
    assert _phones(mapper, mobile="13912345678") == ["+8613912345678"]  # no list: nothing from it
    assert _phones(mapper, phones=[], mobile="13912345678") == ["+8613912345678"]


def test_a_foreach_template_may_build_an_object_and_read_the_item_by_selector(tmp_path: Path) -> None:
    mapper = _mapper(
        tmp_path,
        """
        - foreach: addresses
          template:
            fields:
              kind: address
              address:
                region_code: {from: $item.line, transform: address_region}
                street: {from: $item.line, transform: strip}
            when: $item.line
        """,
    )
    addresses = [
        {"line": "浙江省杭州市西湖区文三路90号"},
        {"line": " "},
        {"line": "上海市浦东新区世纪大道1号"},
    ]
    points = body(mapper, {"id": "1", "name": "张伟", "addresses": addresses})["contact_points"]
    assert [p["address"]["region_code"] for p in points] == ["330106", "310115"]


def test_a_bad_item_is_named_by_its_place_and_dropped_alone_when_the_template_says_so(tmp_path: Path) -> None:
    phones = [{"number": "13812345678"}, {"number": "1381234567"}]  # a digit short: no mobile
    strict = _mapper(
        tmp_path, "- {foreach: phones, template: {from: $item.number, transform: phone_contact}}"
    )
    with pytest.raises(ValidationFailed) as caught:
        run(strict, {"id": "1", "name": "张伟", "phones": phones})
    assert (caught.value.reason, caught.value.field) == (
        "invalid_landline.missing_area_code",
        "phones[1].number",
    )
    lenient = _mapper(
        tmp_path,
        "- {foreach: phones, template: {from: $item.number, transform: phone_contact, on_error: drop}}",
    )
    mapped = run(lenient, {"id": "1", "name": "张伟", "phones": phones})
    assert [p["mobile"] for p in mapped.entities[0].body["contact_points"]] == ["+8613812345678"]
    assert mapped.warnings == ["phones[1].number: invalid_landline.missing_area_code (dropped)"]


def test_a_foreach_over_a_value_that_is_not_a_list_fails(tmp_path: Path) -> None:
    mapper = _mapper(
        tmp_path, "- {foreach: phones, template: {from: $item.number, transform: phone_contact}}"
    )
    with pytest.raises(MappingError) as caught:
        run(mapper, {"id": "1", "name": "张伟", "phones": "13812345678"})
    assert (caught.value.reason, caught.value.field) == ("not_a_list", "phones")


def test_a_foreach_inside_an_emit_foreach_reads_the_inner_item(tmp_path: Path) -> None:
    text = mapping(
        """
  - entity: party
    key: [$source_id, $item.id]
    foreach: contacts
    fields:
      kind: person
      name: {from: $item.name, transform: person_name}
      contact_points:
        - foreach: $item.phones
          template: {from: $item.number, transform: phone_contact}
"""
    )
    contacts = [{"id": "K1", "name": "李娜", "phones": [{"number": "13812345678"}, {"number": "bad"}]}]
    with pytest.raises(ValidationFailed) as caught:
        run(load(tmp_path, text), {"id": "A1", "contacts": contacts})
    assert caught.value.field == "contacts[0].phones[1].number"


# --- split_all: one value per part of a field ---------------------------------------------------------------

SEPARATORS = "'[/,;、，；]+'"
# Spaces cut only between two complete numbers: after 7 digits in a row, before a mobile or an area code and
# its number; a landline written "0571 8888 0900" or "+86 138 1234 5678" stays whole.
BETWEEN_NUMBERS = r"'\s*[/,;、，；]\s*|(?<=\d{7})\s+(?=1[3-9]\d{9}(?!\d)|0\d{2,3}[- ]?\d{7,8}(?!\d))'"


@pytest.mark.parametrize(
    ("written", "phones"),
    [
        ("13812345678", ["+8613812345678"]),
        ("13812345678/0571-88880900", ["+8613812345678", "+8657188880900"]),
        ("13812345678, 13912345678", ["+8613812345678", "+8613912345678"]),
        ("13812345678；13912345678", ["+8613812345678", "+8613912345678"]),
        ("13812345678、0571-88880900转12", ["+8613812345678", "+8657188880900#12"]),
        ("13812345678 //  ; 13912345678 /", ["+8613812345678", "+8613912345678"]),  # blank parts skipped
        ("0571 8888 0900", ["+8657188880900"]),  # a separator pattern without spaces keeps it whole
        ("  ", []),
    ],
)
def test_split_all_on_separators_gives_one_contact_point_per_number(
    tmp_path: Path, written: str, phones: list[str]
) -> None:
    mapper = _mapper(tmp_path, f"- {{from: dianhua, split_all: {SEPARATORS}, transform: phone_contact}}")
    assert _phones(mapper, dianhua=written) == phones


@pytest.mark.parametrize(
    ("written", "phones"),
    [
        ("13812345678 13912345678", ["+8613812345678", "+8613912345678"]),
        ("13812345678  0571-88880900", ["+8613812345678", "+8657188880900"]),
        ("0571-88880900 13812345678", ["+8657188880900", "+8613812345678"]),
        ("13812345678 0571 88880900", ["+8613812345678", "+8657188880900"]),
        ("0571 8888 0900", ["+8657188880900"]),  # spaces inside one landline: not cut
        ("+86 138 1234 5678", ["+8613812345678"]),  # spaces inside one mobile: not cut
        ("13812345678/0571 8888 0900", ["+8613812345678", "+8657188880900"]),
    ],
)
def test_split_all_cuts_spaces_only_between_two_complete_numbers(
    tmp_path: Path, written: str, phones: list[str]
) -> None:
    mapper = _mapper(tmp_path, f"- {{from: dianhua, split_all: {BETWEEN_NUMBERS}, transform: phone_contact}}")
    assert _phones(mapper, dianhua=written) == phones


def test_splitting_on_every_space_would_cut_a_landline(tmp_path: Path) -> None:
    """Why the README warns against ``[/,;、\\s]+``: the landline's three groups are three bad numbers."""
    mapper = _mapper(
        tmp_path, r"- {from: dianhua, split_all: '[/,;、\s]+', transform: phone_contact, on_error: drop}"
    )
    mapped = run(mapper, {"id": "1", "name": "张伟", "dianhua": "0571 8888 0900"})
    assert "contact_points" not in mapped.entities[0].body or not mapped.entities[0].body["contact_points"]
    assert len(mapped.warnings) == 3
    assert all(w.startswith("dianhua: invalid_landline.") for w in mapped.warnings)


def test_a_bad_part_is_dropped_alone_and_the_good_ones_kept(tmp_path: Path) -> None:
    mapper = _mapper(
        tmp_path, f"- {{from: dianhua, split_all: {SEPARATORS}, transform: phone_contact, on_error: drop}}"
    )
    mapped = run(mapper, {"id": "1", "name": "张伟", "dianhua": "13812345678/1381234567"})
    assert [p["mobile"] for p in mapped.entities[0].body["contact_points"]] == ["+8613812345678"]
    assert mapped.warnings == ["dianhua: invalid_landline.missing_area_code (dropped)"]


def test_split_all_keeps_when_codes_and_a_separator_group(tmp_path: Path) -> None:
    mapper = _mapper(
        tmp_path,
        """
        - {from: dianhua, split_all: '(/)', transform: phone_contact, when: "dianhua_ok == Y"}
        - foreach: phones
          template: {from: $item.number, split_all: '[/,]', transform: mobile_contact}
        """,
    )
    assert _phones(mapper, dianhua="13812345678/13912345678", dianhua_ok="Y") == [
        "+8613812345678",
        "+8613912345678",
    ]  # fmt: skip  (the separator's group is not a part)
    assert _phones(mapper, dianhua="13812345678/13912345678", dianhua_ok="N") == []
    nested = [{"number": "13812345678,13912345678"}, {"number": "13712345678"}]
    assert _phones(mapper, phones=nested) == ["+8613812345678", "+8613912345678", "+8613712345678"]


# --- checked at load -----------------------------------------------------------------------------------------

IN_LIST = "crm.streams.customers.emit[0].fields.contact_points[0]"


@pytest.mark.parametrize(
    ("item", "words", "place"),
    [
        ("{foreach: phones}", "foreach: needs a template", IN_LIST),
        ("{foreach: phones, template: {from: $item.n}, on_error: drop}", "unknown keys ['on_error']", IN_LIST),
        ("{foreach: 'phones[0]', template: {from: $item.n}}", "an index is a step of its own", IN_LIST),
        ("{foreach: phones, template: {from: $item.n}, when: {path: $item.s, eq: A}}", "unknown keys ['eq']",
         IN_LIST),
        ("{foreach: phones, template: {from: $item.n, transform: phone}}", "unknown transform 'phone'",
         f"{IN_LIST}.template"),
        ("{from: t, split_all: '[/'}", "split_all: '[/' is not a regular expression", IN_LIST),
        ("{from: t, split_all: '[/,]*'}", "matches an empty text", IN_LIST),
        ("{from: t, split_all: 7}", "split_all: takes a separator pattern", IN_LIST),
        ("{split_all: '/', transform: phone_contact}", "split_all: needs a value to cut", IN_LIST),
        ("{from: t, split_all: '/', transfrom: phone_contact}", "unknown keys ['transfrom']", IN_LIST),
    ],
)  # fmt: skip
def test_a_list_item_form_used_wrongly_fails_at_load(
    tmp_path: Path, item: str, words: str, place: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _mapper(tmp_path, f"- {item}")
    assert words in str(caught.value)
    assert f"crm.yaml: {place}] " in str(caught.value)


@pytest.mark.parametrize(
    ("field", "form"),
    [
        ("contact_points: {foreach: phones, template: {from: $item.number}}", "foreach"),
        ("organisation_name: {from: t, split_all: '/'}", "split_all"),
        ("organisation_name: {concat: [a, {from: t, split_all: '/'}]}", "split_all"),
    ],
)
def test_a_form_that_gives_several_values_where_one_is_expected_fails_at_load(
    tmp_path: Path, field: str, form: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, mapping(party(PERSON + field)))
    assert f"{form}: gives one value per item or part, so it is an item of a list" in str(caught.value)
    assert "crm.yaml: crm.streams.customers.emit[0].fields." in str(caught.value)
