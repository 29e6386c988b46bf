"""eval_world_b: deterministic, exact ground truth, valid identifiers before defects, every defect occurs, the
mappings load, and the party keys the rows claim are the keys the hub stores."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bench.eval_world_b import MAPPINGS_DIR, generate, raw_parties
from bench.eval_world_b.sources import FORMS_B
from canonical_model.identifiers import mobile, resident_id, uscc, vin

DEFECTS = {
    "name_dropped_char", "name_swapped_given", "name_homophone", "phone_typo", "phone_blank", "showroom_phone",
    "kind_wrong_person", "kind_wrong_org", "id_typo", "id_blank", "cert_type_other", "vin_o_for_0", "vin_i_for_1",
    "vin_check_typo", "vin_partial6", "vin_partial8", "vin_blank", "org_branch_dropped",
}  # fmt: skip


@pytest.fixture(scope="module")
def small():  # type: ignore[no-untyped-def]
    return generate(3, 0.15)


def test_deterministic_per_seed(small) -> None:  # type: ignore[no-untyped-def]
    again = generate(3, 0.15)[1]
    assert [json.dumps(r.payload, sort_keys=True, ensure_ascii=False) for r in small[1].rows] == [
        json.dumps(r.payload, sort_keys=True, ensure_ascii=False) for r in again.rows
    ]
    assert [r.parties for r in small[1].rows] == [r.parties for r in again.rows]
    other = generate(4, 0.15)[1]
    assert [r.payload for r in other.rows[:50]] != [r.payload for r in small[1].rows[:50]]


def test_every_party_row_has_truth(small) -> None:  # type: ignore[no-untyped-def]
    world, extracts = small
    truth = extracts.party_truth()  # raises when a key belongs to two entities
    assert truth
    assert set(truth.values()) <= set(world.persons) | set(world.orgs)
    party_streams = {("crm_b", "accounts"), ("dms_b", "documents"), ("hotline_b", "calls"),
                     ("insurer_b", "policies"), ("ebs_fin", "hz_parties")}  # fmt: skip
    for row in extracts.rows:
        assert bool(row.parties) == ((row.source, row.stream) in party_streams)
    assert set(raw_parties(extracts)) == set(truth)
    kinds = Counter(world.kind(e) for e in set(truth.values()))
    assert kinds["organisation"] > 0.06 * sum(kinds.values())


def test_identifiers_valid_before_defects(small) -> None:  # type: ignore[no-untyped-def]
    world, _ = small
    for p in world.persons.values():
        if p.doc_type == "resident_id":
            assert resident_id.is_valid(p.doc_no), p
        if p.residence_permit:
            assert resident_id.is_valid(p.residence_permit)
        assert all(mobile.is_valid(m) for m, _ in p.mobiles)
    for o in world.orgs.values():
        assert uscc.is_valid(o.uscc), o
    for car in world.cars:
        assert vin.is_valid(car.vin), car.vin
        assert car.owners
        assert all(a.since <= b.since for a, b in zip(car.owners, car.owners[1:], strict=False))
    assert any(c.resold for c in world.cars)
    assert any(c.dealer_only_resale for c in world.cars)


def test_each_defect_occurs_and_clean_rows_exist(small) -> None:  # type: ignore[no-untyped-def]
    _, extracts = small
    counts = extracts.tag_counts()
    big = generate(3, 0.4)[1].tag_counts()
    missing = {t for t in DEFECTS if not counts[t] and not big[t]}
    assert not missing, missing
    assert not DEFECTS & FORMS_B
    assert set(counts) <= DEFECTS | FORMS_B, set(counts) - DEFECTS - FORMS_B
    clean = sum(r.clean for r in extracts.rows)
    assert 0.5 * len(extracts.rows) < clean < len(extracts.rows)


def test_mappings_load_and_keys_match_the_hub(small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from bench.eval_world.extract import Extracts
    from bench.eval_world.hub import run_hub
    from mappings import MappingRegistry

    registry = MappingRegistry.load(MAPPINGS_DIR)
    _, extracts = small
    for source in {r.source for r in extracts.rows}:
        assert registry[source]
    picked = []  # a few rows of every file, enough to cover contacts, holders and dealers' customers
    for f in extracts.files:
        picked += [r for r in extracts.rows if (r.source, r.stream, r.file) == f and r.clean][:15]
    picked += [r for r in extracts.rows if r.source == "crm_b" and r.clean and len(r.parties) > 1][:3]
    sample = Extracts(picked, extracts.files)
    run_hub(sample, tmp_path, MAPPINGS_DIR)
    with sqlite3.connect(tmp_path / "hub.db") as db:
        stored = set(db.execute("select source, entity_key from xref where entity_type = 'party'"))
    claimed = {(r.source, k) for r in picked for k, _ in r.parties}
    assert claimed == stored
    assert any(":contact:" in k for _, k in claimed)
