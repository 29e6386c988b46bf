"""The ingest path end to end on SQLite and PostgreSQL: nothing is lost between raw and canonical/quarantine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canonical_model.entities import SourceRecord
from core.errors import ConfigError
from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store import reports
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, QuarantineRow, SourceRecordRow, SyncRun
from tests.mappings.test_engine import FLEET_RECORD, FLEET_YAML
from tests.mappings.test_sources import (
    DMS_LEAD,
    ERP_CUSTOMER,
    FINANCE_CUSTOMER,
    INSURANCE_POLICY,
    PORTAL_REGISTRATION,
)

KEY = b"pipeline-test-key"


@pytest.fixture
def loader(store_url: str) -> Any:
    engine = create_store_engine(store_url)
    yield Loader(session_factory(engine), MappingRegistry.load(), pii_key=KEY, batch_size=3)
    engine.dispose()


def _records(registry: MappingRegistry) -> list[SourceRecord]:
    good = [
        ("erp", "customers", ERP_CUSTOMER),
        ("erp", "customers", {**ERP_CUSTOMER, "KUNNR": "C2", "NAME1": "王芳", "SEX": "2"}),
        ("finance", "customers", FINANCE_CUSTOMER),
        ("insurance", "policies", INSURANCE_POLICY),
        ("dms", "lead", DMS_LEAD),
        ("portal", "registrations", PORTAL_REGISTRATION),
    ]
    bad = [
        ("erp", "vehicles", {"VIN": "LFV2A21K0G3000001", "MODEL": "X", "MAKE": "Y"}),  # check digit
        ("erp", "customers", {**ERP_CUSTOMER, "KUNNR": ""}),  # no id at all
        ("finance", "customers", {**FINANCE_CUSTOMER, "cust_id": "F9", "id_number": "110105194912310021"}),
        ("dms", "lead", {**DMS_LEAD, "message_id": "m-2", "occurred_at": "2024-13-45T00:00:00+08:00"}),
    ]
    return [to_source_record(registry[s], stream, payload) for s, stream, payload in good + bad]


def _count(session: Session, table: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_counts_reconcile_and_every_bad_record_has_a_reason(loader: Loader) -> None:
    result = loader.load(_records(loader.registry))
    # The lead with a bad date keeps its customer: only its event is quarantined (partly mapped).
    assert {s: (r.records_in, r.mapped, r.partial, r.quarantined) for s, r in result.items()} == {
        "erp": (4, 2, 0, 2), "finance": (2, 1, 0, 1), "insurance": (1, 1, 0, 0), "dms": (2, 1, 1, 0),
        "portal": (1, 1, 0, 0),
    }  # fmt: skip
    assert all(r.balanced for r in result.values())
    with loader.sessions() as session:
        assert all(row.balanced for row in reports.reconcile(session))
        entries = session.scalars(select(QuarantineRow).order_by(QuarantineRow.id)).all()
        assert {(e.source, e.reason, e.field, e.entity_type) for e in entries} == {
            ("erp", "invalid_vin.check_digit", "VIN", None),
            ("erp", "missing_required", "KUNNR", None),
            ("finance", "invalid_resident_id.check_digit", "id_number", None),
            ("dms", "bad_datetime", "service_event.occurred_at", "service_event"),
        }
        for entry in entries:
            raw = session.get(SourceRecordRow, entry.source_record_id)
            assert raw is not None
            assert raw.outcome == ("partial" if entry.entity_type else "quarantined")
            assert entry.message
        runs = session.scalars(select(SyncRun)).all()
        assert {r.status for r in runs} == {"succeeded"}
        assert sum(r.records_quarantined for r in runs) == 3
        assert sum(r.records_partial for r in runs) == 1


def test_a_rerun_is_idempotent_and_a_change_is_a_new_version(loader: Loader) -> None:
    records = _records(loader.registry)
    loader.load(records)
    with loader.sessions() as session:
        before = (
            _count(session, SourceRecordRow),
            _count(session, CanonicalRecordRow),
            _count(session, QuarantineRow),
        )
    again = loader.load(records)
    assert all(r.unchanged == r.records_in for r in again.values())
    with loader.sessions() as session:
        after = (
            _count(session, SourceRecordRow),
            _count(session, CanonicalRecordRow),
            _count(session, QuarantineRow),
        )
    assert after == before
    changed = to_source_record(loader.registry["erp"], "customers", {**ERP_CUSTOMER, "NAME1": "張偉"})
    loader.load([changed])
    with loader.sessions() as session:
        assert _count(session, SourceRecordRow) == before[0] + 1
        party = session.scalars(
            select(CanonicalRecordRow).where(
                CanonicalRecordRow.source == "erp", CanonicalRecordRow.entity_key == "C00000042"
            )
        ).one()
        assert party.body["name"]["raw"] == "張偉"
        assert party.mapping_version == "erp@1"


def test_no_clear_id_number_reaches_the_canonical_layer(loader: Loader) -> None:
    loader.load(_records(loader.registry))
    with loader.sessions() as session:
        bodies = " ".join(str(b) for b in session.scalars(select(CanonicalRecordRow.body)))
    assert "11010519491231002X" not in bodies
    assert "110105********002X" in bodies


def test_a_sixth_source_loads_from_yaml_alone(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET_YAML, encoding="utf-8")
    registry = MappingRegistry.load(tmp_path)
    engine = create_store_engine(store_url)
    try:
        loader = Loader(session_factory(engine), registry, pii_key=KEY)
        result = loader.load([to_source_record(registry["fleet"], "contracts", FLEET_RECORD)])
        assert (result["fleet"].mapped, dict(result["fleet"].entities)) == (
            1,
            {"party": 1, "vehicle_relationship": 1},
        )
        with loader.sessions() as session:
            assert reports.canonical_counts(session) == {
                ("fleet", "party"): 1,
                ("fleet", "vehicle_relationship"): 1,
            }
    finally:
        engine.dispose()


def test_an_unknown_source_fails_before_writing(loader: Loader) -> None:
    record = SourceRecord(source="crm", stream="contacts", source_id="1", payload={"id": 1})
    with pytest.raises(ConfigError, match="no mapping for source 'crm'"):
        loader.load([record])
    with loader.sessions() as session:
        assert _count(session, SourceRecordRow) == 0
