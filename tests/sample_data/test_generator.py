"""The sample-data generator: deterministic, streaming, realistic noise, and honest ground truth."""

from __future__ import annotations

import inspect
from collections import Counter, defaultdict
from itertools import islice

from canonical_model.identifiers import mobile, resident_id, vin
from mappings import MappingRegistry
from pipeline import to_source_record
from sample_data import DEFECTS_THAT_QUARANTINE, GeneratedRecord, generate
from sample_data.generator import generate as generate_function

STREAMS = {
    ("erp", "customers"), ("erp", "vehicles"), ("erp", "sales_orders"), ("finance", "customers"),
    ("insurance", "policies"), ("dms", "lead"), ("dms", "delivery"), ("dms", "repair_order"),
    ("portal", "registrations"), ("portal", "service_requests"),
}  # fmt: skip


def _records(people: int, seed: int = 7) -> list[GeneratedRecord]:
    return list(generate(people, seed))


def test_same_seed_same_records_other_seed_other_records() -> None:
    assert _records(300) == _records(300)
    assert _records(300) != _records(300, seed=8)


def test_it_streams() -> None:
    assert inspect.isgeneratorfunction(generate_function)
    first = list(islice(generate(1_000_000, 1), 5))  # a million people: the first records come at once
    assert len(first) == 5


def test_every_source_and_stream_at_1000_people() -> None:
    assert {(r.source, r.stream) for r in _records(1000)} == STREAMS


def test_clean_identifiers_are_valid_and_defective_ones_are_not() -> None:
    for record in _records(1500):
        p = record.payload
        if record.vin and not DEFECTS_THAT_QUARANTINE.intersection(record.defects):
            assert vin.is_valid(record.vin)
        if record.source == "erp" and record.stream == "vehicles":
            spoiled = "invalid_vin_check_digit" in record.defects
            assert vin.is_valid(p["VIN"]) is not spoiled
        if record.source == "finance" and not DEFECTS_THAT_QUARANTINE.intersection(record.defects):
            assert resident_id.is_valid(p["id_number"]) or p["cust_type"] == "企业"
            assert mobile.is_valid(p["phone"])
        if record.source == "finance" and "resident_id_15" in record.defects:
            assert len(p["id_number"]) == 15


def test_common_names_belong_to_different_people() -> None:
    people_by_name: dict[str, set[str]] = defaultdict(set)
    for record in _records(5000):
        if record.source == "erp" and record.stream == "customers" and record.person_id:
            people_by_name[record.payload["NAME1"]].add(record.person_id)
    assert max(len(ids) for ids in people_by_name.values()) >= 3


def test_the_noise_a_hub_must_absorb_is_there() -> None:
    defects = Counter(d for r in _records(3000) for d in r.defects)
    for noise in ("traditional_name", "pinyin_name", "resident_id_15", "lowercase_vin", "dealer_phone",
                  "phone_format"):  # fmt: skip
        assert defects[noise] > 0, noise
    total = sum(defects[d] for d in DEFECTS_THAT_QUARANTINE)
    assert 0 < total < 0.06 * len(_records(3000))


def test_a_dealer_phone_is_shared_by_several_people() -> None:
    people_by_phone: dict[str, set[str]] = defaultdict(set)
    for record in _records(3000):
        if "dealer_phone" in record.defects:
            people_by_phone[record.payload["customer"]["mobile"]].add(str(record.person_id))
    assert max(len(ids) for ids in people_by_phone.values()) >= 3


def test_ground_truth_agrees_with_the_mappings() -> None:
    """A record quarantines exactly when it carries a quarantining defect (the demo reports the same)."""
    registry = MappingRegistry.load()
    disagreements = []
    for record in _records(800):
        mapper = registry[record.source]
        expected = bool(DEFECTS_THAT_QUARANTINE.intersection(record.defects))
        try:
            mapper.map(to_source_record(mapper, record.stream, record.payload))
            quarantined = False
        except Exception:
            quarantined = True
        if quarantined != expected:
            disagreements.append((record.source, record.stream, record.source_id, record.defects))
    assert disagreements == []
