"""Lineage is rewritten only where it changed: a car re-built for one more visit keeps its rows and their time."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from canonical_model.entities import SourceRecord
from store import golden as store_golden
from store.golden import GoldenWrite, Lineage, Member, RunDecisions
from store.repository import CanonicalEntity, insert_source_records, save_canonical
from store.tables import AttributeLineageRow, CanonicalRecordRow

VIN = "LVSHCAMB1CE054249"


def _vehicle_record(session: Session) -> int:
    record = SourceRecord(source="erp", stream="vehicle", source_id="V1", payload={"vin": VIN})
    (raw_id,) = insert_source_records(session, [record], None)
    assert raw_id is not None
    vehicle = CanonicalEntity("vehicle", VIN, {"vin": VIN, "colour": "white", "plant_code": "SH1"})
    save_canonical(session, "erp", [(raw_id, vehicle)], mapping_version="1", pii_key=b"k")
    return int(session.scalars(select(CanonicalRecordRow.id)).one())


def _write(session: Session, record_id: int, colour: str | None, owner: str) -> None:
    lineage = [Lineage("colour", colour, record_id, "erp", VIN, "source_rank")] if colour else []
    lineage.append(
        Lineage("plant_code", {"code": "SH1", "lines": [1, 2]}, record_id, "erp", VIN, "source_rank")
    )
    body = {"vin": VIN, "colour": colour, "current_owner": owner}
    write = GoldenWrite("V-1", body, [Member(record_id, "erp", VIN, "singleton")], lineage)
    run_id = store_golden.start_match_run(session, "vehicle", "incremental", "vin-v1")
    store_golden.apply_decisions(session, RunDecisions("vehicle", [write], {}, [], [], None, "test"), run_id)
    session.commit()


def _lineage(session: Session) -> list[tuple[Any, ...]]:
    a = AttributeLineageRow
    return [
        tuple(r)
        for r in session.execute(select(a.id, a.attribute, a.value, a.decided_at).order_by(a.attribute))
    ]


def test_a_rebuild_keeps_the_rows_of_the_attributes_whose_lineage_did_not_change(
    store_session: Any,
) -> None:
    session: Session = store_session
    record_id = _vehicle_record(session)
    _write(session, record_id, "white", "P-1")
    first = _lineage(session)
    assert [r[1] for r in first] == ["colour", "plant_code"]
    statements: list[str] = []
    event.listen(session.get_bind(), "before_cursor_execute", lambda *a: statements.append(a[2]))
    _write(session, record_id, "white", "P-2")  # a new owner: the body changes, the lineage does not
    assert _lineage(session) == first  # the same rows, decided when they were
    assert not [
        s
        for s in statements
        if s.startswith(("DELETE FROM attribute_lineage", "INSERT INTO attribute_lineage"))
    ]
    _write(session, record_id, "black", "P-2")
    again = _lineage(session)
    assert [(r[1], r[2]) for r in again] == [("colour", {"value": "black"}),
                                              ("plant_code", {"value": {"code": "SH1", "lines": [1, 2]}})]  # fmt: skip
    assert again[0][3] > first[0][3]  # the colour rewritten, decided now
    assert again[1] == first[1]  # the plant code's row kept, decided when it was
    _write(session, record_id, None, "P-2")  # no colour any more: its row goes, the plant code's stays
    assert _lineage(session) == [first[1]]
