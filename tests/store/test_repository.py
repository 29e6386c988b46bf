"""The ingest-path writes, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from canonical_model.entities import SourceRecord
from canonical_model.identifiers.masking import keyed_hash
from store import reports
from store.repository import (
    CanonicalEntity,
    QuarantineEntry,
    add_quarantine,
    finish_run,
    get_watermark,
    insert_source_records,
    save_canonical,
    save_watermark,
    set_outcome,
    set_outcomes,
    start_run,
)
from store.tables import (
    CanonicalIdentifierRow,
    CanonicalRecordRow,
    ChangeLogRow,
    GoldenRecordRow,
    SourceRecordRow,
)

KEY = b"test-key"


def _record(source_id: str, **payload: object) -> SourceRecord:
    return SourceRecord(
        source="erp", stream="customers", source_id=source_id, payload={"id": source_id, **payload}
    )


def _party(name: str, ric: str | None = None) -> dict[str, object]:
    body: dict[str, object] = {"kind": "person", "name": {"raw": name}}
    if ric:
        body["identifiers"] = [{"type": "resident_id", "value": ric}]
    return body


def test_raw_records_are_stored_once_per_version(store_session: Session) -> None:
    run = start_run(store_session, "erp")
    first = insert_source_records(store_session, [_record("C1", n="a"), _record("C2", n="b")], run.id)
    assert all(isinstance(i, int) for i in first)
    again = insert_source_records(store_session, [_record("C1", n="a"), _record("C2", n="b")], run.id)
    assert again == [None, None]
    changed = insert_source_records(store_session, [_record("C1", n="a2")], run.id)
    assert isinstance(changed[0], int)
    assert changed[0] not in first
    twice_in_batch = insert_source_records(store_session, [_record("C3"), _record("C3")], run.id)
    assert isinstance(twice_in_batch[0], int)
    assert twice_in_batch[1] is None
    store_session.commit()
    assert store_session.scalar(select(func.count()).select_from(SourceRecordRow)) == 4


def test_payload_is_kept_unchanged(store_session: Session) -> None:
    payload = {"NAME1": "張偉", "nested": {"list": [1, "二", None]}, "MOBILE": "+86 138 1234 5678"}
    record = SourceRecord(source="erp", stream="customers", source_id="C9", payload=payload)
    insert_source_records(store_session, [record], None)
    store_session.commit()
    row = store_session.scalars(select(SourceRecordRow)).one()
    assert row.payload == payload
    assert row.payload_hash == record.payload_hash


def test_canonical_upsert_keeps_newest_and_never_the_clear_id(store_session: Session) -> None:
    raw_ids = insert_source_records(store_session, [_record("C1", v=1), _record("C1", v=2)], None)
    first, second = raw_ids
    assert first is not None
    assert second is not None
    ric = "11010519491231002X"
    save_canonical(
        store_session, "erp", [(first, CanonicalEntity("party", "C1", _party("张伟")))],
        mapping_version="1", pii_key=KEY,
    )  # fmt: skip
    save_canonical(
        store_session, "erp", [(second, CanonicalEntity("party", "C1", _party("张伟", ric), ["w"]))],
        mapping_version="2", pii_key=KEY,
    )  # fmt: skip
    store_session.commit()
    row = store_session.scalars(select(CanonicalRecordRow)).one()
    assert row.source_record_id == second
    assert row.mapping_version == "2"
    assert row.warnings == ["w"]
    identifier = row.body["identifiers"][0]
    assert "value" not in identifier
    assert identifier["masked"] == "110105********002X"
    assert identifier["value_hash"] == keyed_hash(ric, KEY)
    assert ric not in str(row.body)
    indexed = store_session.scalars(select(CanonicalIdentifierRow)).all()
    assert [(i.id_type, i.value_hash) for i in indexed] == [("resident_id", keyed_hash(ric, KEY))]


def test_every_entity_is_indexed_by_the_party_it_is_about(store_session: Session) -> None:
    (raw,) = insert_source_records(store_session, [_record("P1", v=1)], None)
    assert raw is not None
    entities = [
        CanonicalEntity("party", "H42", _party("张伟")),
        CanonicalEntity("insurance_policy", "PDAA1", {"policy_number": "PDAA1", "holder_source_id": "H42"}),
        CanonicalEntity("vehicle_relationship", "H42:LFV2A21K7G3000001:policy_holder",
                        {"party_source_id": "H42", "vin": "LFV2A21K7G3000001", "role": "policy_holder"}),
        CanonicalEntity("vehicle", "LFV2A21K7G3000001", {"vin": "LFV2A21K7G3000001"}),
    ]  # fmt: skip
    save_canonical(store_session, "insurance", [(raw, e) for e in entities], mapping_version="1", pii_key=KEY)
    store_session.commit()
    about = store_session.scalars(
        select(CanonicalRecordRow.entity_type).where(
            CanonicalRecordRow.source == "insurance", CanonicalRecordRow.party_key == "H42"
        )
    ).all()
    assert sorted(about) == [
        "insurance_policy",
        "party",
        "vehicle_relationship",
    ]  # the car itself is no one's


def test_identifier_index_follows_the_newest_version(store_session: Session) -> None:
    (raw_id,) = insert_source_records(store_session, [_record("C1")], None)
    assert raw_id is not None
    for ric in ("11010519491231002X", "110105194912310029"):
        body = _party("张伟", ric)
        save_canonical(
            store_session,
            "erp",
            [(raw_id, CanonicalEntity("party", "C1", body))],
            mapping_version="1",
            pii_key=KEY,
        )
    store_session.commit()
    hashes = store_session.scalars(select(CanonicalIdentifierRow.value_hash)).all()
    assert hashes == [keyed_hash("110105194912310029", KEY)]


def test_quarantine_and_reconciliation(store_session: Session) -> None:
    run = start_run(store_session, "erp")
    ids = insert_source_records(store_session, [_record(f"C{i}") for i in range(5)], run.id)
    good, bad = [i for i in ids[:3] if i], [i for i in ids[3:] if i]
    save_canonical(
        store_session, "erp", [(i, CanonicalEntity("party", str(i), _party("王芳"))) for i in good],
        mapping_version="1", pii_key=KEY,
    )  # fmt: skip
    set_outcome(store_session, good, "mapped")
    add_quarantine(
        store_session,
        [QuarantineEntry("erp", "customers", f"C{n}", "validation", "invalid_vin", "bad", "VIN", i)
         for n, i in zip((3, 4), bad, strict=True)]
        + [QuarantineEntry("erp", "customers", None, "receive", "not_json", "not JSON", raw_text="<x>")],
        run.id,
    )  # fmt: skip
    set_outcome(store_session, bad, "quarantined")
    finish_run(store_session, run)
    store_session.commit()
    (erp,) = reports.reconcile(store_session)
    assert (erp.raw, erp.mapped, erp.quarantined, erp.in_flight) == (5, 3, 2, 0)
    assert erp.quarantine_entries_without_raw == 1
    assert erp.balanced
    assert reports.quarantine_by_reason(store_session) == [("erp", "invalid_vin", 2), ("erp", "not_json", 1)]
    assert reports.canonical_counts(store_session) == {("erp", "party"): 3}
    page = reports.list_quarantine(store_session, limit=2)
    assert [e.reason for e in page] == ["invalid_vin", "invalid_vin"]
    rest = reports.list_quarantine(store_session, after_id=page[-1].id)
    assert [e.reason for e in rest] == ["not_json"]


def test_unbalanced_when_a_record_is_left_in_flight(store_session: Session) -> None:
    insert_source_records(store_session, [_record("C1")], None)
    store_session.commit()
    (erp,) = reports.reconcile(store_session)
    assert erp.in_flight == 1
    assert not erp.balanced


def test_watermark_roundtrip(store_session: Session) -> None:
    assert get_watermark(store_session, "finance", "customers") is None
    save_watermark(
        store_session, "finance", "customers", {"updated_at": "2024-01-01T00:00:00+08:00", "pk": 7}
    )
    save_watermark(
        store_session, "finance", "customers", {"updated_at": "2024-02-01T00:00:00+08:00", "pk": 3}
    )
    store_session.commit()
    assert get_watermark(store_session, "finance", "customers") == {
        "updated_at": "2024-02-01T00:00:00+08:00",
        "pk": 3,
    }


def test_timestamps_come_back_aware_utc_and_naive_ones_are_refused(store_session: Session) -> None:
    beijing = timezone(timedelta(hours=8))
    moment = datetime(2024, 3, 1, 10, 0, tzinfo=beijing)
    store_session.add(
        GoldenRecordRow(golden_id="G1", entity_type="party", body={}, created_at=moment, updated_at=moment)
    )
    store_session.commit()
    store_session.expire_all()
    row = store_session.get(GoldenRecordRow, "G1")
    assert row is not None
    assert row.created_at == moment
    assert row.created_at.tzinfo is not None
    assert row.created_at.utcoffset() == timedelta(0)
    store_session.add(
        GoldenRecordRow(
            golden_id="G2", entity_type="party", body={}, created_at=datetime(2024, 1, 1), updated_at=moment
        )
    )
    with pytest.raises(Exception, match="naive datetime"):
        store_session.commit()


def test_change_log_sequence_orders_the_feed(store_session: Session) -> None:
    now = datetime.now(UTC)
    for n in range(3):
        store_session.add(
            ChangeLogRow(event_id=f"e{n}", golden_id="G1", entity_type="party", change_type="updated",
                         payload={"n": n}, occurred_at=now)
        )  # fmt: skip
        store_session.flush()
    store_session.commit()
    rows = store_session.scalars(select(ChangeLogRow).order_by(ChangeLogRow.seq)).all()
    assert [r.payload["n"] for r in rows] == [0, 1, 2]
    assert rows[0].seq < rows[1].seq < rows[2].seq


def test_outcomes_of_a_batch_are_set_in_one_go(store_session: Session) -> None:
    ids = [i for i in insert_source_records(store_session, [_record(f"O{i}") for i in range(6)], None) if i]
    set_outcomes(store_session, {"mapped": ids[:3], "partial": ids[3:4], "quarantined": ids[4:], "none": []})
    store_session.commit()
    stored = dict(store_session.execute(select(SourceRecordRow.id, SourceRecordRow.outcome)).all())
    assert [stored[i] for i in ids] == ["mapped"] * 3 + ["partial"] + ["quarantined"] * 2
