"""What a mapping makes of the identifiers real extracts carry: a VIN with an O for a 0 repaired (only when
the check digit then passes, and never silently), a dealer's partial VIN kept for the store to resolve, an ID
column that holds resident IDs and company codes alike, a phone column of mobiles and landlines."""

from __future__ import annotations

from pathlib import Path

import pytest

from canonical_model.entities import SourceRecord
from mappings import Mapper, load_mapping
from mappings.transforms import TRANSFORMS, TransformFailed

GOOD = "LRHT1V112NH100130"
O_FOR_ZERO = "LRHT1V112NH1O0130"  # repaired: GOOD, whose check digit passes
O_BAD_CHECK = "LRHT1V112NH1O0131"  # O→0 gives a VIN whose check digit fails: no repair

YAML = """
source: garage
version: 1
streams:
  orders:
    source_id: ro
    required: [ro]
    emit:
      - entity: party
        key: [$source_id]
        fields:
          kind: infer
          name: {from: name, transform: person_name}
          identifiers:
            - fields: {type: auto, value: {from: cert}}
              transform: identifier
              when: cert
          contact_points:
            - {from: tel, transform: phone_contact}
      - entity: service_event
        key: [$source_id]
        fields:
          event_type: repair_order
          occurred_at: {from: at, transform: datetime}
          party_source_id: {from: $source_id}
          vin: {from: vin, transform: vin}
      - entity: vehicle
        key: [vin]
        fields:
          vin: {from: vin, transform: vin}
"""


@pytest.fixture
def mapper(tmp_path: Path) -> Mapper:
    path = tmp_path / "garage.yaml"
    path.write_text(YAML, encoding="utf-8")
    return load_mapping(path)


def _order(vin: str, **more: str) -> SourceRecord:
    payload = {"ro": "RO-1", "name": "王伟", "tel": "13812340001", "at": "2024-05-01T10:00:00+08:00", "vin": vin,
               "cert": "", **more}  # fmt: skip
    return SourceRecord(source="garage", stream="orders", source_id="RO-1", payload=payload)


def test_an_o_for_a_zero_is_repaired_when_the_check_digit_then_passes_and_the_original_is_kept(
    mapper: Mapper,
) -> None:
    mapped = mapper.map(_order(O_FOR_ZERO))
    event = next(e for e in mapped.entities if e.entity_type == "service_event")
    vehicle = next(e for e in mapped.entities if e.entity_type == "vehicle")
    assert event.body["vin"] == vehicle.body["vin"] == vehicle.entity_key == GOOD
    assert event.body["repaired"]["vin"].startswith(O_FOR_ZERO)
    assert (
        "repaired"
        not in next(e for e in mapper.map(_order(GOOD)).entities if e.entity_type == "vehicle").body
    )


def test_an_o_is_not_repaired_when_the_repaired_vin_fails_its_check_digit(mapper: Mapper) -> None:
    mapped = mapper.map(_order(O_BAD_CHECK))
    assert {r.reason for r in mapped.rejected} == {"invalid_vin.forbidden_letter"}
    assert [e.entity_type for e in mapped.entities] == ["party"]  # the customer is kept


def test_repair_can_be_switched_off() -> None:
    with pytest.raises(TransformFailed, match="never occur"):
        TRANSFORMS["vin"](O_FOR_ZERO, {"repair": False})


def test_a_partial_vin_stays_on_the_repair_order_and_costs_only_the_vehicle(mapper: Mapper) -> None:
    mapped = mapper.map(_order("NH100130"))
    event = next(e for e in mapped.entities if e.entity_type == "service_event")
    assert event.body["vin_partial"] == "NH100130"
    assert "vin" not in event.body
    assert [(r.entity_type, r.reason) for r in mapped.rejected] == [("vehicle", "schema.partial_vin")]
    with pytest.raises(TransformFailed):
        TRANSFORMS["vin"]("NH100130", {"partial": False})
    with pytest.raises(TransformFailed):  # five characters are too few to name a car
        TRANSFORMS["vin"]("00130", None)


@pytest.mark.parametrize(
    ("cert", "kind"),
    [("310115197103283390", "resident_id"), ("91350100M000100Y43", "uscc"), ("M0001-00Y4", "org_code")],
)
def test_an_identifier_column_of_mixed_documents_is_typed_by_the_value(
    mapper: Mapper, cert: str, kind: str
) -> None:
    from canonical_model.identifiers import resident_id

    if kind == "resident_id":
        cert = cert[:17] + resident_id.calc_check_char(cert[:17])
    party = mapper.map(_order(GOOD, cert=cert)).entities[0]
    assert [i["type"] for i in party.body["identifiers"]] == [kind]


def test_a_mistyped_company_code_fails_by_its_own_rule() -> None:
    with pytest.raises(TransformFailed) as caught:
        TRANSFORMS["identifier"]({"type": "auto", "value": "M000100Y5"}, None)
    assert caught.value.reason == "invalid_org_code.check_digit"


@pytest.mark.parametrize(
    ("tel", "kind", "value"),
    [("138 1234 0001", "mobile", "+8613812340001"), ("(0571)8888 0900转12", "landline", "+8657188880900")],
)
def test_a_phone_column_holds_mobiles_and_landlines(mapper: Mapper, tel: str, kind: str, value: str) -> None:
    party = mapper.map(_order(GOOD, tel=tel)).entities[0]
    point = party.body["contact_points"][0]
    assert (point["kind"], point[kind]) == (kind, value)


def test_a_phone_that_is_neither_says_so() -> None:
    with pytest.raises(TransformFailed) as caught:
        TRANSFORMS["phone_contact"]("call me", None)
    assert caught.value.reason == "invalid_phone.format"
