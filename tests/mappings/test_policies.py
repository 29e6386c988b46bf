"""Per-emit error policies: a bad car or event costs only itself; a bad customer still costs the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from canonical_model.entities import SourceRecord
from core.errors import ConfigError, MappingError, ValidationFailed
from mappings import MappedRecord, load_mapping
from tests.mappings.test_engine import FLEET_RECORD, FLEET_YAML
from tests.mappings.test_sources import DMS_LEAD, INSURANCE_POLICY, PORTAL_REGISTRATION, _map

GOOD_VIN = "LSGPC52U4HF012345"
# What dealers really type and no repair can mend: an O for a 0 whose repaired VIN still fails its check
# digit, a check-digit typo, a VIN cut short but longer than a partial one (the last 6-8 characters are kept
# as a partial VIN: tests/mappings/test_identifier_repair.py).
BAD_VINS = {
    "LSGPC52U4HFO12346": "invalid_vin.forbidden_letter",
    "LSGPC52U5HF012345": "invalid_vin.check_digit",
    "52U4HF012345": "invalid_vin.length",
}


def _repair_order(vin: str) -> dict[str, Any]:
    return {**DMS_LEAD, "event_type": "repair_order", "lead": None,
            "repair_order": {"ro_number": "RO-1", "vin": vin, "mileage_km": "23500"}}  # fmt: skip


def _delivery(vin: str) -> dict[str, Any]:
    return {**DMS_LEAD, "event_type": "delivery", "lead": None,
            "delivery": {"vin": vin, "plate": "粤B·D12345", "delivered_at": "2024-06-03"}}  # fmt: skip


def _rejected(mapped: MappedRecord) -> dict[str, tuple[str, str]]:
    return {r.entity_type: (r.reason, r.field) for r in mapped.rejected}


@pytest.mark.parametrize(("vin", "reason"), BAD_VINS.items())
def test_a_repair_order_with_a_bad_vin_keeps_its_customer(vin: str, reason: str) -> None:
    mapped = _map("dms", "repair_order", _repair_order(vin))
    assert [(e.entity_type, e.entity_key) for e in mapped.entities] == [("party", "D31001-000123")]
    assert _rejected(mapped) == {"service_event": (reason, "service_event.vin")}
    (rejected,) = mapped.rejected
    assert rejected.source_field == "repair_order.vin"
    assert "dms/repair_order/m-1" in rejected.message


@pytest.mark.parametrize(("vin", "reason"), BAD_VINS.items())
def test_a_delivery_with_a_bad_vin_keeps_its_customer_and_quarantines_car_role_and_event(
    vin: str, reason: str
) -> None:
    mapped = _map("dms", "delivery", _delivery(vin))
    assert [e.entity_type for e in mapped.entities] == ["party"]
    assert _rejected(mapped) == {
        "vehicle": (reason, "vehicle.vin"),
        "vehicle_relationship": (reason, "vehicle_relationship.vin"),
        "service_event": (reason, "service_event.vin"),
    }


def test_a_clean_delivery_has_nothing_rejected() -> None:
    mapped = _map("dms", "delivery", _delivery(GOOD_VIN))
    assert len(mapped.entities) == 4
    assert mapped.rejected == []


def test_a_policy_with_a_blank_vin_keeps_its_holder() -> None:
    mapped = _map("insurance", "policies", {**INSURANCE_POLICY, "vin": "  "})
    (holder,) = mapped.entities
    assert (holder.entity_type, holder.entity_key) == ("party", "H000042")
    assert _rejected(mapped) == {
        "insurance_policy": ("schema.missing", "insurance_policy.vin"),
        "vehicle": ("schema.missing", "vehicle.vin"),
        "vehicle_relationship": ("schema.missing", "vehicle_relationship.vin"),
    }


def test_a_record_whose_party_fails_is_still_quarantined_whole() -> None:
    customer: dict[str, Any] = {**DMS_LEAD["customer"], "mobile": "1381234567"}  # type: ignore[dict-item]
    with pytest.raises(ValidationFailed) as caught:
        _map("dms", "delivery", {**_delivery(GOOD_VIN), "customer": customer})
    assert caught.value.reason.startswith("invalid_mobile.")
    assert caught.value.field == "customer.mobile"


def test_a_record_none_of_whose_entities_can_be_kept_is_quarantined_whole() -> None:
    # A service request emits one event only: with a bad VIN nothing is left, so the record goes as before.
    request = {"event_id": "ev-9", "user_id": "U1", "created_at": "2024-02-01T08:00:00+08:00",
               "vin": "LSGPC52U5HF012345"}  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        _map("portal", "service_requests", request)
    assert (caught.value.reason, caught.value.field) == ("invalid_vin.check_digit", "vin")


def test_a_foreach_that_is_not_a_list_costs_only_its_entities() -> None:
    mapped = _map("portal", "registrations", {**PORTAL_REGISTRATION, "bound_vins": f"{GOOD_VIN},{GOOD_VIN}"})
    assert "party" in {e.entity_type for e in mapped.entities}
    assert _rejected(mapped) == {"vehicle_relationship": ("not_a_list", "vehicle_relationship")}


def _fleet(tmp_path: Path, text: str) -> Any:
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path)


def _fleet_record(**changes: Any) -> SourceRecord:
    return SourceRecord(
        source="fleet", stream="contracts", source_id="LC-9", payload={**FLEET_RECORD, **changes}
    )


RELATIONSHIP = "      - entity: vehicle_relationship\n"


def test_quarantine_record_on_a_car_makes_it_cost_the_record(tmp_path: Path) -> None:
    mapper = _fleet(
        tmp_path, FLEET_YAML.replace(RELATIONSHIP, RELATIONSHIP + "        on_error: quarantine_record\n")
    )
    with pytest.raises(ValidationFailed) as caught:
        mapper.map(_fleet_record(vin="LSGPC52U5HF012345"))
    assert caught.value.reason == "invalid_vin.check_digit"


def test_quarantine_entity_on_a_party_keeps_the_rest(tmp_path: Path) -> None:
    party = "      - entity: party\n"
    mapper = _fleet(tmp_path, FLEET_YAML.replace(party, party + "        on_error: quarantine_entity\n"))
    mapped = mapper.map(_fleet_record(lessee={**FLEET_RECORD["lessee"], "phone": "1391234567"}))  # type: ignore[dict-item]
    assert [e.entity_type for e in mapped.entities] == ["vehicle_relationship"]
    assert mapped.rejected[0].entity_type == "party"
    assert mapped.rejected[0].field == "party.contact_points[0]"


def test_the_warnings_of_a_rejected_entity_are_not_kept(tmp_path: Path) -> None:
    # The relationship drops a bad optional date with a warning, then fails on its VIN: no warning survives it.
    text = FLEET_YAML.replace(
        'transform: {date: "%d/%m/%Y"}}', 'transform: {date: "%d/%m/%Y"}, on_error: drop}'
    )
    mapper = _fleet(tmp_path, text)
    mapped = mapper.map(
        _fleet_record(vin="LSGPC52U5HF012345", contract={"no": "LC-9", "start": "31/02/2024"})
    )
    assert [e.entity_type for e in mapped.entities] == ["party"]
    assert mapped.warnings == []


@pytest.mark.parametrize("value", ["quarantine", "drop", "skip_entity"])
def test_an_invalid_on_error_of_an_emit_fails_at_load_naming_file_and_place(
    tmp_path: Path, value: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        _fleet(tmp_path, FLEET_YAML.replace(RELATIONSHIP, RELATIONSHIP + f"        on_error: {value}\n"))
    message = str(caught.value)
    assert f"unknown on_error {value!r}" in message
    assert "fleet.yaml" in message
    assert "fleet.streams.contracts.emit[1]" in message
    assert "quarantine_record, quarantine_entity" in message


def test_a_missing_required_field_of_the_record_still_quarantines_it_whole() -> None:
    with pytest.raises(MappingError) as caught:
        _map("dms", "repair_order", {**_repair_order(GOOD_VIN), "repair_order": {"vin": GOOD_VIN}})
    assert (caught.value.reason, caught.value.field) == ("missing_required", "repair_order.ro_number")


def test_a_dropped_value_warns_on_its_own_entity_only(tmp_path: Path) -> None:
    """A newcomer saw "ID_NO: … (dropped)" on the car and the credit profile of the record whose customer lost
    its ID: each entity now carries the warnings of the values dropped while it was built, and the record all."""
    text = FLEET_YAML.replace(
        'transform: {date: "%d/%m/%Y"}}', 'transform: {date: "%d/%m/%Y"}, on_error: drop}'
    )
    mapper = _fleet(tmp_path, text)
    mapped = mapper.map(_fleet_record(contract={"no": "LC-9", "start": "31/02/2024"}))
    warned = {e.entity_type: e.warnings for e in mapped.entities}
    assert warned["party"] == []
    assert len(warned["vehicle_relationship"]) == 1
    assert "(dropped)" in warned["vehicle_relationship"][0]
    assert mapped.warnings == warned["vehicle_relationship"]


def test_a_rule_over_several_fields_names_the_source_fields_to_correct() -> None:
    """A repair order without any VIN or plate broke a rule of the service event that has no single place; the
    quarantine said "(field 'service_event')", which names nothing a dealer can correct."""
    order = _repair_order("")
    order["repair_order"] = {k: v for k, v in order["repair_order"].items() if k != "vin"}
    mapped = _map("dms", "repair_order", order)
    (rejected,) = mapped.rejected
    assert rejected.entity_type == "service_event"
    assert rejected.reason == "schema.value_error"
    assert rejected.source_field is not None
    assert "repair_order.vin" in rejected.source_field.split(",")
    assert "(field 'service_event')" not in rejected.message
