"""Partial acceptance in the store, on SQLite and PostgreSQL: a bad car costs only itself, never its customer.

A record whose mapping rejected some entities keeps the others as canonical records, gets the outcome
``partial`` and one quarantine entry per rejected entity, linked to it; the counts still add up exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from canonical_model.entities import SourceRecord
from mappings import MappingRegistry
from pipeline import Loader, LoadReport, to_source_record
from store import reports
from store.engine import create_store_engine, session_factory
from store.tables import CanonicalRecordRow, QuarantineRow, SourceRecordRow, SyncRun
from tests.mappings.test_policies import _delivery, _repair_order
from tests.mappings.test_sources import DMS_LEAD, INSURANCE_POLICY

KEY = b"pipeline-test-key"
CUSTOMER = "D31001-000123"


@pytest.fixture
def loader(store_url: str) -> Iterator[Loader]:
    engine = create_store_engine(store_url)
    yield Loader(session_factory(engine), MappingRegistry.load(), pii_key=KEY)
    engine.dispose()


def _record(loader: Loader, source: str, stream: str, payload: dict[str, Any]) -> SourceRecord:
    return to_source_record(loader.registry[source], stream, payload)


def _canonical(loader: Loader, source: str) -> set[tuple[str, str]]:
    with loader.sessions() as session:
        rows = session.execute(
            select(CanonicalRecordRow.entity_type, CanonicalRecordRow.entity_key).where(
                CanonicalRecordRow.source == source
            )
        )
        return {(row.entity_type, row.entity_key) for row in rows}


def _quarantine(loader: Loader) -> list[tuple[str | None, str, str | None, str | None]]:
    """(entity type, reason, field, outcome of the linked raw record) per quarantine entry."""
    with loader.sessions() as session:
        rows = session.execute(
            select(QuarantineRow.entity_type, QuarantineRow.reason, QuarantineRow.field, SourceRecordRow.outcome)
            .join(SourceRecordRow, SourceRecordRow.id == QuarantineRow.source_record_id)
            .order_by(QuarantineRow.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]  # type: ignore[misc]


def _exact(report: LoadReport, loader: Loader) -> None:
    assert report.balanced
    assert report.records_in == report.unchanged + report.mapped + report.partial + report.quarantined
    with loader.sessions() as session:
        assert all(r.balanced for r in reports.reconcile(session))
        run = session.get(SyncRun, report.run_id)
        assert run is not None
        assert (run.records_in, run.records_mapped, run.records_partial, run.records_quarantined) == (
            report.records_in, report.mapped, report.partial, report.quarantined)  # fmt: skip


def test_a_repair_order_with_a_bad_vin_keeps_its_customer(loader: Loader) -> None:
    # An O for a 0 whose repaired VIN still fails its check digit: not repaired (mappings/transforms.py t_vin)
    record = _record(loader, "dms", "repair_order", _repair_order("LSGPC52U4HFO12346"))
    report = loader.load([record])["dms"]
    assert (report.records_in, report.mapped, report.partial, report.quarantined) == (1, 0, 1, 0)
    assert _canonical(loader, "dms") == {("party", CUSTOMER)}
    assert _quarantine(loader) == [
        ("service_event", "invalid_vin.forbidden_letter", "service_event.vin", "partial")
    ]
    _exact(report, loader)
    with loader.sessions() as session:
        (entry,) = session.scalars(select(QuarantineRow)).all()
        assert (entry.source, entry.stream, entry.source_id, entry.stage) == (
            "dms", "repair_order", "m-1", "validation")  # fmt: skip
        assert "repair_order.vin" in entry.message  # the source field to correct


def test_a_delivery_with_a_bad_vin_quarantines_car_role_and_event_as_entities(loader: Loader) -> None:
    good = _record(loader, "dms", "lead", DMS_LEAD)
    bad = _record(loader, "dms", "delivery", {**_delivery("LSGPC52U5HF012345"), "message_id": "m-2"})
    report = loader.load([good, bad])["dms"]
    assert (report.records_in, report.mapped, report.partial, report.quarantined) == (2, 1, 1, 0)
    assert report.reasons == {"invalid_vin.check_digit": 3}
    assert {e for e, _ in _canonical(loader, "dms")} == {"party", "service_event"}  # the lead's
    assert _quarantine(loader) == [
        ("vehicle", "invalid_vin.check_digit", "vehicle.vin", "partial"),
        ("vehicle_relationship", "invalid_vin.check_digit", "vehicle_relationship.vin", "partial"),
        ("service_event", "invalid_vin.check_digit", "service_event.vin", "partial"),
    ]
    _exact(report, loader)


def test_a_policy_with_a_blank_vin_keeps_its_holder(loader: Loader) -> None:
    report = loader.load([_record(loader, "insurance", "policies", {**INSURANCE_POLICY, "vin": ""})])[
        "insurance"
    ]
    assert (report.mapped, report.partial, report.quarantined) == (0, 1, 0)
    assert _canonical(loader, "insurance") == {("party", "H000042")}
    assert {(e, f) for e, _, f, _ in _quarantine(loader)} == {
        ("insurance_policy", "insurance_policy.vin"), ("vehicle", "vehicle.vin"),
        ("vehicle_relationship", "vehicle_relationship.vin"),
    }  # fmt: skip
    _exact(report, loader)


def test_a_record_whose_party_fails_is_still_quarantined_whole(loader: Loader) -> None:
    customer = {**DMS_LEAD["customer"], "mobile": "1381234567"}  # type: ignore[dict-item]
    record = _record(loader, "dms", "delivery", {**_delivery("LSGPC52U4HF012345"), "customer": customer})
    report = loader.load([record])["dms"]
    assert (report.mapped, report.partial, report.quarantined) == (0, 0, 1)
    assert _canonical(loader, "dms") == set()
    ((entity_type, reason, field, outcome),) = _quarantine(loader)
    assert (entity_type, field, outcome) == (None, "customer.mobile", "quarantined")
    assert reason.startswith("invalid_mobile.")
    _exact(report, loader)


def test_a_partly_mapped_record_read_again_is_unchanged_and_a_message_is_stored(loader: Loader) -> None:
    record = _record(loader, "dms", "repair_order", _repair_order("52U4HF012345"))  # cut short
    with loader.run("dms") as report:
        assert loader.load_messages(report, [("m-1", record)]) == {"m-1": "stored"}
    again = loader.load([record])["dms"]
    assert (again.records_in, again.unchanged, again.partial) == (1, 1, 0)
    assert len(_quarantine(loader)) == 1  # not quarantined a second time
    _exact(again, loader)
