"""The sample-data generator: deterministic, streaming, valid where clean, honest about its ground truth."""

from __future__ import annotations

import inspect
import json
import re
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date
from itertools import islice
from typing import Any

import pytest

from canonical_model.entities.source import SourceRecord
from canonical_model.identifiers import mobile, plate, resident_id, uscc, vin
from canonical_model.names import to_simplified
from core.errors import DataError
from mappings import MappingRegistry
from mappings.transforms import TRANSFORMS
from sample_data import DEFECTS_THAT_QUARANTINE, GeneratedRecord, generate
from sample_data.generator import STREAMS
from sample_data.generator import generate as generate_function

ALL_STREAMS = {(source, stream) for source, streams in STREAMS.items() for stream in streams}
_OFFSET_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+08:00$")
_NAIVE_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


@pytest.fixture(scope="module")
def records() -> list[GeneratedRecord]:
    """5 000 people (≈70 000 records), generated once for the module."""
    return list(generate(5000, seed=7))


@pytest.fixture(scope="module")
def small() -> list[GeneratedRecord]:
    return list(generate(1000, seed=3))


def _quarantines(record: GeneratedRecord) -> bool:
    return bool(DEFECTS_THAT_QUARANTINE.intersection(record.defects))


def _vins(record: GeneratedRecord) -> list[str]:
    """Every VIN the payload carries, wherever the source puts it."""
    p = record.payload
    candidates = [p.get("VIN"), p.get("vin"), *(p.get("bound_vins") or [])]
    candidates += [p.get(event, {}).get("vin") for event in ("delivery", "repair_order")]
    return [v for v in candidates if isinstance(v, str)]


def _mobiles(record: GeneratedRecord) -> list[str]:
    p = record.payload
    found = [p.get("MOBILE"), p.get("phone"), p.get("mobile"), p.get("holder", {}).get("mobile")]
    found.append(p.get("customer", {}).get("mobile"))
    return [m for m in found if isinstance(m, str)]


def _resident_ids(record: GeneratedRecord) -> list[str]:
    p = record.payload
    found = [p.get("ID_NO") if p.get("ID_TYPE") == "RIC" else None, p.get("id_card") or None]
    found.append(p.get("id_number") if p.get("id_type") == "身份证" else None)
    holder = p.get("holder", {})
    found.append(holder.get("idNumber") if holder.get("idType") == "01" else None)
    return [i for i in found if isinstance(i, str)]


def _name(record: GeneratedRecord) -> str | None:
    p = record.payload
    name = p.get("NAME1") or p.get("cust_name") or p.get("real_name") or p.get("holder", {}).get("name")
    name = name or p.get("customer", {}).get("name")
    return str(name) if name else None


# --- determinism and streaming -----------------------------------------------------------------------------


def test_same_seed_same_records_other_seed_other_records() -> None:
    first = list(generate(150, seed=11))
    assert first == list(generate(150, seed=11))
    assert first[:100] != list(islice(generate(150, seed=12), 100))


def test_it_is_a_generator_that_runs_in_flat_memory() -> None:
    """A million people: the first records come at once, and reading on does not accumulate memory."""
    assert inspect.isgeneratorfunction(generate_function)
    stream: Iterator[GeneratedRecord] = generate(1_000_000, seed=1)
    next(stream)  # sets up the dealers and the identifier books before memory is traced
    tracemalloc.start()
    try:
        for _ in islice(stream, 300):
            pass
        warmed, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert sum(1 for _ in islice(stream, 1500)) == 1500
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Holding 1 500 records would take about 1.5 MB; streaming stays within a few hundred kB of the start.
    assert peak - warmed < 500_000


def test_people_must_be_in_range() -> None:
    with pytest.raises(ValueError, match="people"):
        next(generate(0))


# --- shape ---------------------------------------------------------------------------------------------------


def test_every_source_and_stream_at_1000_people(small: list[GeneratedRecord]) -> None:
    assert {(r.source, r.stream) for r in small} == ALL_STREAMS


def test_source_ids_are_unique_per_stream_and_payloads_are_json(small: list[GeneratedRecord]) -> None:
    seen: dict[tuple[str, str], set[str]] = defaultdict(set)
    for record in small:
        assert record.source_id not in seen[record.source, record.stream]
        seen[record.source, record.stream].add(record.source_id)
        assert json.loads(json.dumps(record.payload, ensure_ascii=False)) == record.payload


def test_timestamps_carry_the_beijing_offset_and_finance_is_naive(small: list[GeneratedRecord]) -> None:
    fields = {"erp": "CHANGED_AT", "insurance": "updatedAt", "dms": "occurred_at", "finance": "updated_at"}
    for record in small:
        if "bad_date" in record.defects:
            continue
        if record.source == "portal":
            stamp = record.payload.get("registered_at") or record.payload["created_at"]
        else:
            stamp = record.payload[fields[record.source]]
        pattern = _NAIVE_TIMESTAMP if record.source == "finance" else _OFFSET_TIMESTAMP
        assert pattern.match(stamp), (record.source, stamp)


# --- identifiers ---------------------------------------------------------------------------------------------


def test_clean_records_carry_valid_identifiers(small: list[GeneratedRecord]) -> None:
    repaired = 0
    for record in small:
        if _quarantines(record):
            continue
        if "invalid_vin_o_for_0" in record.defects:  # absorbed: the mapping repairs it to the true VIN
            assert any(TRANSFORMS["vin"](v, None) == record.vin for v in _vins(record)), record.source_id
            repaired += 1
            continue
        for value in _vins(record):
            assert vin.is_valid(value.upper()), value
        if record.vin is not None:
            assert vin.is_valid(record.vin)
            assert record.vin == record.vin.upper()
        for value in _mobiles(record):
            assert mobile.is_valid(value), value
        for value in _resident_ids(record):
            assert resident_id.is_valid(value), value  # 15-digit numbers upgrade and pass
        p = record.payload
        if p.get("ID_TYPE") == "USCC" or p.get("id_type") == "统一社会信用代码":
            assert uscc.is_valid(p.get("ID_NO") or p["id_number"])
        for shown in (p.get("plate"), p.get("delivery", {}).get("plate")):
            assert shown is None or plate.is_valid(shown), shown
    assert repaired


def test_vins_are_china_built_and_their_year_code_is_the_model_year(small: list[GeneratedRecord]) -> None:
    vehicles = [r for r in small if r.stream == "vehicles" and not _quarantines(r)
                and "invalid_vin_o_for_0" not in r.defects]  # fmt: skip
    assert vehicles
    for record in vehicles:
        parsed = vin.parse(record.payload["VIN"])
        assert parsed.wmi in {"LFV", "LSV", "LSG", "LHG", "LGB", "LBV"}
        produced = date.fromisoformat(record.payload["PROD_DATE"])
        assert parsed.model_year(produced) == record.payload["MODEL_YEAR"]


def test_vin_defects_break_the_vin_and_nothing_else_does(records: list[GeneratedRecord]) -> None:
    spoiled = 0
    for record in records:
        if {"invalid_vin_check_digit", "invalid_vin_o_for_0"}.intersection(record.defects):
            spoiled += 1
            assert not all(vin.is_valid(v) for v in _vins(record))
        elif record.vin:
            assert vin.compact(_vins(record)[0]) == record.vin  # the ground truth is what the source says
    assert spoiled > 20


def test_resident_id_and_mobile_defects_fail_their_validators(records: list[GeneratedRecord]) -> None:
    for record in records:
        if "invalid_resident_id" in record.defects:
            assert not all(resident_id.is_valid(i) for i in _resident_ids(record))
        if "invalid_mobile" in record.defects:
            assert not all(mobile.is_valid(m) for m in _mobiles(record))


def test_old_15_digit_ids_in_finance_upgrade_to_the_persons_id(records: list[GeneratedRecord]) -> None:
    ids_by_person: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if record.source == "erp" and record.stream == "customers" and not _quarantines(record):
            ids_by_person[str(record.person_id)].update(_resident_ids(record))
    old = [r for r in records if "resident_id_15" in r.defects]
    assert len(old) > 50
    for record in old:
        number = record.payload["id_number"]
        assert len(number) == 15
        assert number.isdigit()
        known = ids_by_person.get(str(record.person_id))
        if known:
            assert resident_id.validate(number) in known


def test_a_resident_id_belongs_to_one_person(records: list[GeneratedRecord]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if not _quarantines(record):
            for number in _resident_ids(record):
                number18 = number if len(number) == 18 else resident_id.upgrade_15(number)
                owners[number18].add(str(record.person_id))
    assert owners
    assert all(len(people) == 1 for people in owners.values())


# --- ground truth ----------------------------------------------------------------------------------------------


def test_common_full_names_belong_to_different_people(records: list[GeneratedRecord]) -> None:
    people_by_name: dict[str, set[str]] = defaultdict(set)
    for record in records:
        name = _name(record)
        if record.source == "erp" and record.stream == "customers" and name:
            people_by_name[name].add(str(record.person_id))
    assert len(people_by_name["张伟"]) >= 2
    assert sum(1 for ids in people_by_name.values() if len(ids) >= 2) >= 50


def test_the_portal_has_traditional_names(records: list[GeneratedRecord]) -> None:
    traditional = [r for r in records if r.source == "portal" and "traditional_name" in r.defects]
    traditional = [r for r in traditional if not _quarantines(r)]
    assert len(traditional) > 20
    for record in traditional:
        name = record.payload["real_name"]
        assert to_simplified(name) != name


def test_a_shared_mobile_is_a_family_phone_or_a_dealer_phone(records: list[GeneratedRecord]) -> None:
    """No accidental collisions: two people share a number only where the ground truth says why."""
    people_by_mobile: dict[str, set[str]] = defaultdict(set)
    explained: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if _quarantines(record):
            continue
        for value in _mobiles(record):
            number = mobile.compact(value)
            people_by_mobile[number].add(str(record.person_id))
            explained[number].update({"shared_family_phone", "dealer_phone"}.intersection(record.defects))
    shared = {number for number, people in people_by_mobile.items() if len(people) > 1}
    assert len(shared) > 20
    assert all(explained[number] for number in shared)
    families = [
        n for n in shared if explained[n] == {"shared_family_phone"} and len(people_by_mobile[n]) == 2
    ]
    assert len(families) > 20


def test_a_dealer_types_one_phone_for_several_customers(records: list[GeneratedRecord]) -> None:
    people_by_dealer: dict[str, set[str]] = defaultdict(set)
    phones_by_dealer: dict[str, set[str]] = defaultdict(set)
    dms = [r for r in records if r.source == "dms"]
    dealer_phone = [r for r in dms if "dealer_phone" in r.defects and "invalid_mobile" not in r.defects]
    for record in dealer_phone:
        people_by_dealer[record.payload["dealer_code"]].add(str(record.person_id))
        phones_by_dealer[record.payload["dealer_code"]].add(
            mobile.validate(record.payload["customer"]["mobile"])
        )
    assert all(len(phones) == 1 for phones in phones_by_dealer.values())
    assert max(len(people) for people in people_by_dealer.values()) >= 3
    assert 0.01 < len(dealer_phone) / len(dms) < 0.04


def test_some_cars_change_hands(records: list[GeneratedRecord]) -> None:
    owners_by_vin: dict[str, set[str]] = defaultdict(set)
    for record in records:
        if record.vin and record.person_id and record.source in ("insurance", "dms"):
            owners_by_vin[record.vin].add(record.person_id)
    assert sum(1 for owners in owners_by_vin.values() if len(owners) == 2) > 50


def test_about_one_in_twenty_are_organisations(records: list[GeneratedRecord]) -> None:
    kinds = Counter(r.payload["KTOKD"] for r in records if r.source == "erp" and r.stream == "customers")
    assert 0.03 < kinds["O"] / (kinds["O"] + kinds["P"]) < 0.09


# --- defects and noise ---------------------------------------------------------------------------------------


def test_defect_and_noise_rates(records: list[GeneratedRecord]) -> None:
    quarantining = sum(1 for r in records if _quarantines(r))
    noisy = sum(1 for r in records if r.defects and not _quarantines(r))
    assert 0.02 <= quarantining / len(records) <= 0.03
    assert 0.20 <= noisy / len(records) <= 0.30
    seen = Counter(d for r in records for d in r.defects)
    assert set(DEFECTS_THAT_QUARANTINE) <= set(seen)
    for noise in ("traditional_name", "pinyin_name", "resident_id_15", "lowercase_vin", "dealer_phone",
                  "phone_format", "shared_family_phone"):  # fmt: skip
        assert seen[noise] > 0, noise


def test_ground_truth_agrees_with_the_mappings(records: list[GeneratedRecord]) -> None:
    """A record is quarantined by the real mappings (whole, or its bad entities) exactly when it carries a
    quarantining defect.

    Mapping every record would be slow: this maps up to ten records of each (source, stream, defect) and
    every hundredth clean record.
    """
    registry = MappingRegistry.load()
    by_kind: dict[tuple[str, str, str], list[GeneratedRecord]] = defaultdict(list)
    for record in records:
        for defect in DEFECTS_THAT_QUARANTINE.intersection(record.defects):
            by_kind[record.source, record.stream, defect].append(record)
    defective = [r for group in by_kind.values() for r in group[:10]]
    sample = defective + [r for r in records if not _quarantines(r)][::100]
    disagreements = [
        (r.source, r.stream, r.defects) for r in sample if _mapping_refuses(registry, r) != _quarantines(r)
    ]
    assert disagreements == []
    assert {defect for _, _, defect in by_kind} == DEFECTS_THAT_QUARANTINE
    assert {(source, stream) for source, stream, _ in by_kind} == ALL_STREAMS


def _mapping_refuses(registry: MappingRegistry, record: GeneratedRecord) -> bool:
    payload: dict[str, Any] = record.payload
    source_record = SourceRecord(
        source=record.source, stream=record.stream, source_id=record.source_id, payload=payload
    )
    try:
        mapped = registry[record.source].map(source_record)
    except DataError:  # what the loader quarantines; any other exception is a bug and fails the test
        return True
    return bool(mapped.rejected)  # partly mapped: the defective entities are quarantined, the rest kept
