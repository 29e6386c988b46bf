"""What the speed-ups must not change: remembered identifiers still refuse bad values, the canonical type
still checks a value no transform touched, and a payload is read the way the stored record holds it."""

from __future__ import annotations

from pathlib import Path

import pytest

from canonical_model.entities import SourceRecord
from canonical_model.identifiers import InvalidMobile, InvalidVin, mobile, plate, vin
from core.errors import ConfigError, ValidationFailed
from mappings import MappingRegistry, load_mapping

REGISTRY = MappingRegistry.load()

UNCHECKED_VIN_YAML = """
source: yard
version: 1
streams:
  cars:
    source_id: id
    required: [id]
    emit:
      - entity: vehicle
        key: [vin]
        fields:
          vin: {from: vin}
"""


def test_a_value_no_transform_checked_is_still_checked_by_the_canonical_type(tmp_path: Path) -> None:
    path = tmp_path / "yard.yaml"
    path.write_text(UNCHECKED_VIN_YAML, encoding="utf-8")
    mapper = load_mapping(path)
    good = mapper.map(SourceRecord(source="yard", stream="cars", source_id="1", payload={"id": "1",
                                   "vin": "LSGPC52U4HF012345"}))  # fmt: skip
    assert good.entities[0].entity_key == "LSGPC52U4HF012345"
    for _ in range(2):  # the first, valid VIN is remembered; a bad one never is
        with pytest.raises(ValidationFailed) as caught:
            mapper.map(SourceRecord(source="yard", stream="cars", source_id="2", payload={"id": "2",
                                    "vin": "LFV2A21K0G3000001"}))  # fmt: skip
        assert caught.value.reason == "schema.value_error"
        assert caught.value.field == "vehicle.vin"


@pytest.mark.parametrize("attempt", [1, 2])
def test_an_invalid_identifier_fails_the_same_way_every_time(attempt: int) -> None:
    payload = {"VIN": "LFV2A21K0G3000001", "MAKE": "大众", "MODEL": "帕萨特"}
    with pytest.raises(ValidationFailed) as caught:
        REGISTRY["erp"].map(SourceRecord(source="erp", stream="vehicles", source_id="x", payload=payload))
    assert (caught.value.reason, caught.value.field) == ("invalid_vin.check_digit", "VIN")
    with pytest.raises(InvalidVin, match="check digit"):
        vin.parse("LFV2A21K0G3000001")
    with pytest.raises(InvalidMobile):
        mobile.parse("1391234567")


def test_remembered_results_equal_fresh_ones_in_any_spelling() -> None:
    assert vin.parse("lsgpc52u4hf012345") == vin.parse("LSGPC52U4HF012345")
    assert vin.parse(" LSG-PC52U4HF012345") is vin.parse("LSGPC52U4HF012345")
    assert mobile.parse("0086 138 1234 5678") == mobile.parse("+8613812345678")
    assert mobile.parse("13800000000").placeholder
    assert plate.parse("沪A·12345").value == plate.parse("沪A12345").value == "沪A12345"


def test_repeated_names_and_dates_give_independent_bodies() -> None:
    payload = {"KUNNR": "C1", "NAME1": "张伟", "GBDAT": "19491231", "MOBILE": "13812345678"}
    record = SourceRecord(source="erp", stream="customers", source_id="C1", payload=payload)
    first = REGISTRY["erp"].map(record).entities[0].body
    first["name"]["pinyin"] = "changed by a caller"
    second = REGISTRY["erp"].map(record).entities[0].body
    assert second["name"]["pinyin"] == "zhang wei"
    assert second["birth_date"] == "1949-12-31"


def test_source_id_is_read_as_the_record_will_hold_it() -> None:
    mapper = REGISTRY["erp"]
    assert mapper.source_id_of("customers", {"KUNNR": " C7 "}) == "C7"
    # SourceRecord strips the keys of a payload; the id is found the same way before the record exists.
    assert mapper.source_id_of("customers", {" KUNNR ": "C8"}) == "C8"
    assert mapper.source_id_of("customers", {"KUNNR": "  "}) is None
    assert mapper.source_id_of("no_such_stream", {"KUNNR": "C9"}) is None


def test_foreach_items_are_named_by_position_in_messages() -> None:
    payload = {"event_id": "ev-1", "user_id": "U1", "real_name": "张伟", "mobile": "13812345678",
               "registered_at": "2024-02-01T08:00:00+08:00", "bound_vins": ["LSGPC52U4HF012345", "bad"]}  # fmt: skip
    mapped = REGISTRY["portal"].map(
        SourceRecord(source="portal", stream="registrations", source_id="ev-1", payload=payload)
    )
    # Only the bad item's relationship is set aside (quarantine_entity); the first car is kept.
    kept = [e.entity_key for e in mapped.entities if e.entity_type == "vehicle_relationship"]
    assert kept == ["U1:LSGPC52U4HF012345:owner"]
    (rejected,) = mapped.rejected
    assert rejected.source_field == "bound_vins[1]"
    assert rejected.reason == "invalid_vin.length"


def test_a_path_that_is_not_text_fails_at_load(tmp_path: Path) -> None:
    path = tmp_path / "yard.yaml"
    path.write_text(UNCHECKED_VIN_YAML.replace("{from: vin}", "{from: 17}"), encoding="utf-8")
    with pytest.raises(ConfigError, match="from must be a path"):
        load_mapping(path)
