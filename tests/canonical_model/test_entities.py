"""Canonical entities validate at the boundary and publish a JSON Schema with sensitivity tags."""

import json
from datetime import date

import pytest
from pydantic import ValidationError

from canonical_model.entities import (
    PUBLISHED,
    ContactPoint,
    InsurancePolicy,
    Party,
    PersonName,
    ServiceEvent,
    SourceRecord,
    Vehicle,
)
from canonical_model.schema import canonical_json_schema


def test_vehicle_normalises_vin_and_plates() -> None:
    v = Vehicle(vin=" lfv2a21k7-g3000001", plates=[{"plate": "京A·12345"}])
    assert v.vin == "LFV2A21K7G3000001"
    assert v.plates[0].plate == "京A12345"


def test_vehicle_rejects_invalid_china_vin() -> None:
    with pytest.raises(ValidationError, match="check digit"):
        Vehicle(vin="LFV2A21K0G3000001")


def test_unknown_fields_are_refused_so_mapping_mistakes_surface() -> None:
    with pytest.raises(ValidationError, match="extra"):
        Vehicle(vin="LFV2A21K7G3000001", vim="typo")


def test_person_needs_a_name_and_contact_point_its_value() -> None:
    with pytest.raises(ValidationError, match="needs a name"):
        Party(kind="person")
    with pytest.raises(ValidationError, match="needs its mobile"):
        ContactPoint(kind="mobile")
    p = Party(
        kind="person",
        name=PersonName.from_raw("張偉"),
        contact_points=[{"kind": "mobile", "mobile": "0086 139 7123 4765"}],
    )
    assert p.name is not None
    assert p.name.simplified == "张伟"
    assert p.contact_points[0].mobile == "+8613971234765"


def test_repair_order_needs_vin_and_policy_dates_in_order() -> None:
    with pytest.raises(ValidationError, match="repair order needs the VIN"):
        ServiceEvent(event_type="repair_order", occurred_at="2026-01-02T10:00:00+08:00")
    with pytest.raises(ValidationError, match="end_date is before"):
        InsurancePolicy(
            policy_number="P1",
            vin="LFV2A21K7G3000001",
            holder_source_id="c1",
            start_date=date(2026, 1, 1),
            end_date=date(2025, 1, 1),
        )


def test_source_record_hash_ignores_key_order_but_not_content() -> None:
    a = SourceRecord(source="erp", stream="customers", source_id="1", payload={"a": 1, "b": "张"})
    b = SourceRecord(source="erp", stream="customers", source_id="1", payload={"b": "张", "a": 1})
    c = SourceRecord(source="erp", stream="customers", source_id="1", payload={"a": 2, "b": "张"})
    assert a.payload_hash == b.payload_hash != c.payload_hash


def test_schema_document_has_every_entity_and_pii_tags() -> None:
    doc = canonical_json_schema()
    assert {m.__name__ for m in PUBLISHED} <= set(doc["$defs"])
    identifier = doc["$defs"]["Identifier"]["properties"]["value"]
    assert identifier["x-sensitivity"] == "sensitive"
    json.dumps(doc)  # serialisable as published


def test_schema_of_unknown_entity_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="Party"):
        canonical_json_schema("Nope")


def test_a_title_says_the_gender_the_source_left_out() -> None:
    from canonical_model.entities.party import Gender, Party, PersonName

    def party(raw: str, gender: str = "unknown") -> Party:
        return Party.model_validate(
            {"kind": "person", "name": PersonName.from_raw(raw).model_dump(), "gender": gender}
        )

    assert party("王先生").gender is Gender.MALE
    assert party("李女士").gender is Gender.FEMALE
    assert party("张总").gender is Gender.UNKNOWN
    assert party("王先生", "female").gender is Gender.FEMALE  # what the source said stands
