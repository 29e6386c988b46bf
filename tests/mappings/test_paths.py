"""Paths into nested lists: an item by position or by its fields, read the same way by every form, and a name
step into a list that fails loudly instead of coming back blank."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from core.errors import ConfigError, MappingError
from mappings import Mapper
from tests.mappings.crm import body, load, mapping, party, run

PERSON = "kind: person\nname: {from: name, transform: person_name}\n"


def _account(**extra: Any) -> dict[str, Any]:
    """A CRM account as a JSON Lines export writes it: nested lists of objects."""
    return {
        "id": "A1",
        "name": "张伟",
        "phones": [
            {"type": "MOBILE", "number": "13900000001", "status": "INACTIVE"},
            {"type": "HOME", "number": "0571-88880900", "status": "ACTIVE"},
            {"type": "MOBILE", "number": "13812345678", "status": "ACTIVE"},
        ],
        "addresses": [{"kind": "HOME", "line": "浙江省杭州市西湖区文三路90号"}],
        **extra,
    }


def _mapper(tmp_path: Path, fields: str) -> Mapper:
    return load(tmp_path, mapping(party(PERSON + textwrap.dedent(fields).strip("\n"))))


def _reading(tmp_path: Path, **specs: str) -> Mapper:
    """A party whose address's free-text parts (street, province, city, district) read the specs given."""
    parts = "\n".join(f"          {part}: {spec}" for part, spec in specs.items())
    return _mapper(tmp_path, f"contact_points:\n  - fields:\n      kind: address\n      address:\n{parts}")


def _read(mapper: Mapper, payload: dict[str, Any]) -> dict[str, Any]:
    address: dict[str, Any] = body(mapper, payload)["contact_points"][0]["address"]
    return address


def test_an_item_is_read_by_its_position_from_either_end(tmp_path: Path) -> None:
    mapper = _reading(
        tmp_path,
        street="{from: phones.0.number}",
        province="{from: phones.-1.number}",
        city="{from: phones.7.number, default: none}",
    )
    read = _read(mapper, _account())
    assert (read["street"], read["province"], read["city"]) == ("13900000001", "13812345678", "none")


def test_an_item_is_chosen_by_its_fields_the_first_that_matches(tmp_path: Path) -> None:
    mapper = _reading(
        tmp_path,
        street='{from: "phones[type=MOBILE].number"}',
        province='{from: "phones[type=mobile, status!=INACTIVE].number"}',
        city='{from: "phones[type=FAX].number", default: none}',
    )
    read = _read(mapper, _account())
    assert read["street"] == "13900000001"  # the first MOBILE, inactive or not
    assert read["province"] == "13812345678"  # every test holds; values compared case-folded
    assert read["city"] == "none"  # no such item: blank, so the default


def test_a_selector_value_matches_a_full_width_field(tmp_path: Path) -> None:
    mapper = _reading(tmp_path, street='{from: "phones[type=MOBILE].number"}')
    account = _account(phones=[{"type": "ＭＯＢＩＬＥ", "number": "13812345678"}])
    assert _read(mapper, account)["street"] == "13812345678"


def test_a_selector_value_may_hold_a_dot(tmp_path: Path) -> None:
    mapper = _reading(tmp_path, street='{from: "emails[address=zw@mail.example.cn].verified"}')
    account = _account(emails=[{"address": "x@y.cn", "verified": "N"}, {"address": "zw@mail.example.cn",
                                                                       "verified": "Y"}])  # fmt: skip
    assert _read(mapper, account)["street"] == "Y"


def test_every_form_that_reads_a_path_reads_into_lists(tmp_path: Path) -> None:
    text = mapping(
        """
  - entity: party
    key: ["@phones[type=MOBILE, status=ACTIVE].number"]
    when: {path: "phones[type=MOBILE, status=ACTIVE].number", matches: "1[3-9][0-9]{9}"}
    fields:
      kind: person
      name: {from: name, transform: person_name}
      region_code: {from: addresses.0.line, transform: address_region, when: "phones[type != HOME].status == INACTIVE"}
      contact_points:
        - fields:
            kind: address
            address:
              street: {concat: [addresses.0.kind, "addresses[kind=HOME].line"], sep: ": "}
              city: {from: [phones.5.number, phones.1.number]}
  - entity: vehicle
    key: [vin]
    foreach: "contracts[status=ACTIVE].vins"
    fields:
      vin: {from: $item, transform: vin}
""",
        stream_extra="required: [phones.-1.number]",
    )
    mapper = load(tmp_path, text)
    account = _account(contracts=[{"status": "CLOSED", "vins": ["LFV2A21K7G3000001"]},
                                  {"status": "ACTIVE", "vins": ["LSGPC52U4HF012345"]}])  # fmt: skip
    mapped = run(mapper, account)
    (customer,) = [e for e in mapped.entities if e.entity_type == "party"]
    assert customer.entity_key == "13812345678"
    address = customer.body["contact_points"][0]["address"]
    assert address["street"] == "HOME: 浙江省杭州市西湖区文三路90号"
    assert address["city"] == "0571-88880900"
    assert customer.body["region_code"] == "330106"  # the first non-HOME phone is the inactive mobile
    assert [e.entity_key for e in mapped.entities if e.entity_type == "vehicle"] == ["LSGPC52U4HF012345"]
    with pytest.raises(MappingError) as caught:
        run(mapper, _account(phones=[]))
    assert caught.value.reason == "missing_required"


def test_the_foreach_item_is_read_by_position_and_selector_too(tmp_path: Path) -> None:
    text = mapping(
        """
  - entity: party
    key: [$source_id, "=contact", $item.id]
    foreach: contacts
    fields:
      kind: person
      name: {from: $item.name, transform: person_name}
      contact_points:
        - {from: "$item.phones[type=MOBILE].number", transform: mobile_contact}
        - {from: $item.phones.-1.number, transform: phone_contact}
"""
    )
    mapper = load(tmp_path, text)
    contact = {"id": "K1", "name": "李娜", "phones": [{"type": "HOME", "number": "020-88880900"},
                                                     {"type": "MOBILE", "number": "13812345678"}]}  # fmt: skip
    (built,) = [e.body for e in run(mapper, {"id": "A1", "contacts": [contact]}).entities]
    assert [point["mobile"] for point in built["contact_points"]] == ["+8613812345678", "+8613812345678"]


def test_a_name_step_into_a_list_fails_instead_of_coming_back_blank(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, "organisation_name: {from: phones.number}")
    with pytest.raises(MappingError) as caught:
        run(mapper, _account())
    assert caught.value.reason == "path_into_list"
    assert caught.value.field == "phones.number"
    assert "name one item in the mapping" in str(caught.value)
    assert "organisation_name" not in body(mapper, _account(phones=None))  # no list at all: blank, as before


def test_a_name_step_into_a_list_fails_in_a_condition_and_names_the_foreach_item(tmp_path: Path) -> None:
    text = mapping(
        """
  - entity: party
    key: [$source_id, $item.id]
    foreach: contacts
    fields:
      kind: person
      name: {from: $item.name, transform: person_name, when: {path: $item.phones.type, equals: MOBILE}}
"""
    )
    contact = {"id": "K1", "name": "李娜", "phones": [{"type": "MOBILE"}]}
    with pytest.raises(MappingError) as caught:
        run(load(tmp_path, text), {"id": "A1", "contacts": [contact]})
    assert (caught.value.reason, caught.value.field) == ("path_into_list", "contacts[0].phones.type")


def test_a_selector_on_a_value_that_is_not_a_list_fails(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, 'organisation_name: {from: "phones[type=MOBILE].number"}')
    with pytest.raises(MappingError) as caught:
        run(mapper, _account(phones="13812345678"))
    assert caught.value.reason == "not_a_list"
    assert "organisation_name" not in body(mapper, _account(phones=""))


def test_a_number_step_still_reads_a_mapping_keyed_by_that_number(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path, "organisation_name: {from: phones.0.number}")
    account = _account(phones={"0": {"number": "13812345678"}})
    assert body(mapper, account)["organisation_name"] == "13812345678"


IN_FIELD = "crm.streams.customers.emit[0].fields.organisation_name"


@pytest.mark.parametrize(
    ("field", "words", "place"),
    [
        ("{from: 'phones[0].number'}", "an index is a step of its own: write phones.0, not [0]", "from"),
        ("{from: phones..number}", "an empty step", "from"),
        ("{from: 'phones.[type=MOBILE].number'}", "a selector follows the list's name", "from"),
        ("{from: 'phones[type=MOBILE.number'}", "'[' is not closed", "from"),
        ("{from: 'phones]type=MOBILE[.number'}", "']' without its '['", "from"),
        ("{from: 'phones[type].number'}", "is not FIELD=VALUE or FIELD!=VALUE", "from"),
        ("{from: 'phones[type=].number'}", "needs a field of the item (no dots) and a value", "from"),
        ("{from: 'phones[type=A][status=B].number'}", "put several tests in one selector", "from"),
        ("{from: [a, 'b[0]']}", "an index is a step of its own", "from[1]"),
        ("{concat: [a, 'b.[x=1]']}", "a selector follows the list's name", "concat"),
        ("{from: a, when: {path: 'b[0]', blank: false}}", "an index is a step of its own", "when.path"),
        ("{from: a, when: 'b..c == 1'}", "an empty step", "when"),
    ],
)  # fmt: skip
def test_a_path_written_wrongly_fails_at_load(tmp_path: Path, field: str, words: str, place: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _mapper(tmp_path, f"organisation_name: {field}")
    message = str(caught.value)
    assert words in message
    in_concat = ".concat[1]" if place == "concat" else ""
    assert f"crm.yaml: {IN_FIELD}{in_concat}] " in message
    assert f"(field '{place}')" in message


@pytest.mark.parametrize(
    ("emit", "stream_extra", "source_id", "where", "place"),
    [
        ('key: ["@phones[0].number"]', "", "id", "customers.emit[0]", "key[0]"),
        ("key: [$source_id]\n    foreach: 'contacts[0]'", "", "id", "customers.emit[0]", "foreach"),
        ("key: [$source_id]", "required: ['phones[0]']", "id", "customers", "required[0]"),
        ("key: [$source_id]", "", "'ids[0]'", "customers", "source_id"),
    ],
)
def test_a_path_of_an_emit_or_a_stream_written_wrongly_fails_at_load(
    tmp_path: Path, emit: str, stream_extra: str, source_id: str, where: str, place: str
) -> None:
    text = mapping(
        f"  - entity: party\n    {emit}\n    fields:\n      kind: person\n", stream_extra=stream_extra
    )
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text.replace("source_id: id", f"source_id: {source_id}"))
    assert "an index is a step of its own" in str(caught.value)
    assert f"crm.yaml: crm.streams.{where}] " in str(caught.value)
    assert f"(field '{place}')" in str(caught.value)
