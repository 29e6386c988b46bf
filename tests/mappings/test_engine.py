"""The generic engine: mistakes in a mapping file fail at load time; a sixth source needs YAML only."""

from __future__ import annotations

from pathlib import Path

import pytest

from canonical_model.entities import SourceRecord
from core.errors import ConfigError, ValidationFailed
from mappings import MappingRegistry, load_mapping

FLEET_YAML = """
# A leasing company's fleet list: a sixth source added with this file alone.
source: fleet
version: 2
codes:
  lessee_role: {L: lessee, D: driver}
streams:
  contracts:
    source_id: contract.no
    required: [contract.no, vin, lessee.name]
    emit:
      - entity: party
        key: ["@lessee.id"]
        fields:
          kind: person
          name: {from: lessee.name, transform: [simplified, person_name]}
          gender: {from: lessee.sex, codes: gender, default: unknown}
          contact_points:
            - {from: lessee.phone, transform: mobile_contact}
      - entity: vehicle_relationship
        key: [party_source_id, vin, role]
        fields:
          party_source_id: {from: lessee.id}
          vin: {from: vin, transform: vin}
          role: {from: lessee.role, codes: lessee_role}
          valid_from: {from: contract.start, transform: {date: "%d/%m/%Y"}}
          source: {from: $source}
"""

FLEET_RECORD = {
    "contract": {"no": "LC-9", "start": "01/03/2024"},
    "vin": "LSGPC52U4HF012345",
    "lessee": {"id": "L-77", "name": "劉德華", "sex": "M", "phone": "13912345678", "role": "L"},
}


def _write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sixth_source_from_a_yaml_file_alone(tmp_path: Path) -> None:
    _write(tmp_path, FLEET_YAML)
    registry = MappingRegistry.load(tmp_path)
    assert "fleet" in registry.sources
    mapper = registry["fleet"]
    assert mapper.version == "fleet@2"
    assert mapper.source_id_of("contracts", FLEET_RECORD) == "LC-9"
    mapped = mapper.map(
        SourceRecord(source="fleet", stream="contracts", source_id="LC-9", payload=FLEET_RECORD)
    )
    by_type = {e.entity_type: e for e in mapped.entities}
    assert by_type["party"].entity_key == "L-77"
    assert by_type["party"].body["name"]["simplified"] == "刘德华"
    assert by_type["vehicle_relationship"].entity_key == "L-77:LSGPC52U4HF012345:lessee"
    assert by_type["vehicle_relationship"].body["valid_from"] == "2024-03-01"
    assert by_type["vehicle_relationship"].body["source"] == "fleet"


def test_a_sixth_source_quarantines_like_the_others(tmp_path: Path) -> None:
    mapper = load_mapping(_write(tmp_path, FLEET_YAML))
    bad = {**FLEET_RECORD, "lessee": {**FLEET_RECORD["lessee"], "phone": "1391234567"}}  # type: ignore[dict-item]
    with pytest.raises(ValidationFailed) as caught:
        mapper.map(SourceRecord(source="fleet", stream="contracts", source_id="LC-9", payload=bad))
    assert caught.value.reason.startswith("invalid_mobile.")
    assert caught.value.field == "lessee.phone"


@pytest.mark.parametrize(("change", "words"), [
    (("transform: vin", "transform: vim"), "unknown transform 'vim'"),
    (("codes: lessee_role", "codes: lesse_role"), "unknown code table 'lesse_role'"),
    (("entity: vehicle_relationship", "entity: vehicle_relation"), "unknown entity 'vehicle_relation'"),
    (("default: unknown", "defualt: unknown"), "unknown keys ['defualt']"),
    (("version: 2", "version: zwei"), "valid integer"),
    (("source_id: contract.no", "source_ids: contract.no"), "source_id"),
])  # fmt: skip
def test_mistakes_in_a_mapping_fail_at_load_naming_the_place(
    tmp_path: Path, change: tuple[str, str], words: str
) -> None:
    path = _write(tmp_path, FLEET_YAML.replace(*change))
    with pytest.raises(ConfigError) as caught:
        load_mapping(path)
    assert words in str(caught.value)
    assert "fleet" in str(caught.value)


def test_a_stream_without_mapping_is_a_data_error(tmp_path: Path) -> None:
    mapper = load_mapping(_write(tmp_path, FLEET_YAML))
    with pytest.raises(Exception, match="no mapping for stream 'invoices'") as caught:
        mapper.map(SourceRecord(source="fleet", stream="invoices", source_id="1", payload={}))
    assert getattr(caught.value, "reason", None) == "unknown_stream"


def test_unknown_source_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no mapping for source 'crm'"):
        MappingRegistry.load()["crm"]


def test_a_file_named_after_a_mapping_whose_source_line_differs_is_named_in_the_error(tmp_path: Path) -> None:
    """A newcomer named the file insurer_b.yaml and wrote `source: insurer_x`: the error asked them to add
    insurer_b.yaml, which existed. It now names the file and the line to change."""
    (tmp_path / "insurer_b.yaml").write_text(
        FLEET_YAML.replace("source: fleet", "source: insurer_x"), "utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        MappingRegistry.load(tmp_path)["insurer_b"]
    said = str(caught.value)
    assert "insurer_b.yaml declares source: 'insurer_x'" in said
    assert "source: insurer_b" in said


def test_a_forbidden_letter_is_told_in_good_grammar() -> None:
    from canonical_model.identifiers import vin

    with pytest.raises(vin.InvalidVin, match="contains O, which never occurs in a VIN"):
        vin.parse("LFV2A21K7G300O001")
    with pytest.raises(vin.InvalidVin, match="contains I, O, which never occur in a VIN"):
        vin.parse("LFV2A21K7G3I0O001")
