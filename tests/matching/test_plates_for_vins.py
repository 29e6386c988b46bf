"""A plate given instead of a VIN (a hotline caller names his car by its plate) is resolved to the one known car
that has carried it, kept as it is when two have, and then counts — as a repaired VIN — as evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from canonical_model.identifiers import vin as vin_rule
from mappings import MappingRegistry
from pipeline import Loader, to_source_record
from store.matching_input import party_vehicle_links
from store.tables import CanonicalRecordRow
from store.vin_partials import resolve_partial_vins
from tests.mappings.test_sources import DMS_LEAD
from tests.matching.conftest import load

HOTLINE = """
source: hotline
version: 1
streams:
  calls:
    source_id: call_id
    required: [call_id, caller]
    emit:
      - entity: party
        key: [$source_id]
        fields:
          kind: infer
          name: {from: caller, transform: person_name}
          contact_points:
            - {from: tel, transform: phone_contact, on_error: drop}
      - entity: service_event
        key: [$source_id]
        fields:
          event_type: service_request
          occurred_at: {from: at, transform: datetime}
          party_source_id: {from: $source_id}
          plate: {from: plate, transform: plate, on_error: drop}
"""

Hub = tuple[sessionmaker[Session], Loader]


def _vin(serial: str) -> str:
    body = f"LRHT1V110NH{serial}"
    return body[:8] + vin_rule.calc_check_digit(body) + body[9:]


@pytest.fixture
def hotline(hub: Hub, tmp_path: Path) -> Hub:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "hotline.yaml").write_text(HOTLINE, encoding="utf-8")
    sessions, _ = hub
    return sessions, Loader(sessions, MappingRegistry.load(tmp_path / "maps"), pii_key=b"k")


def _delivery(n: int, vin: str, plate: str) -> tuple[str, str, dict[str, Any]]:
    return "dms", "delivery", {**DMS_LEAD, "message_id": f"dl-plate-{n}", "event_type": "delivery", "lead": None,
                               "customer": {"dms_customer_id": f"D99002-8{n:05d}", "name": "欧阳娜娜",
                                            "mobile": f"1366123{n:04d}", "gender": "女"},
                               "delivery": {"vin": vin, "plate": plate, "delivered_at": "2023-04-02"}}  # fmt: skip


def _call(loader: Loader, call_id: str, plate: str) -> None:
    payload = {"call_id": call_id, "caller": "欧阳女士", "tel": "13661230001", "at": "2024-05-01T10:00:00+08:00",
               "plate": plate}  # fmt: skip
    reports = loader.load([to_source_record(loader.registry["hotline"], "calls", payload)])
    assert reports["hotline"].quarantined == 0


def _event(sessions: sessionmaker[Session], call_id: str) -> dict[str, Any]:
    with sessions() as session:
        return dict(session.scalars(select(CanonicalRecordRow.body).where(
            CanonicalRecordRow.source == "hotline", CanonicalRecordRow.entity_type == "service_event",
            CanonicalRecordRow.entity_key == call_id)).one())  # fmt: skip


def test_a_plate_is_resolved_to_the_one_car_that_carried_it(hub: Hub, hotline: Hub) -> None:
    sessions, dms = hub
    _, calls = hotline
    unique, twin_a, twin_b = _vin("300001"), _vin("300002"), _vin("300003")
    load(dms, _delivery(1, unique, "粤B·D12345"), _delivery(2, twin_a, "粤B·E00001"),
         _delivery(3, twin_b, "粤BE00001"))  # a plate issued again to another car  # fmt: skip
    _call(calls, "CALL-1", "粤BD12345")
    _call(calls, "CALL-2", "粤B E00001")
    _call(calls, "CALL-3", "粤B·K99999")  # no known car carries it (yet)
    with sessions() as session:
        report = resolve_partial_vins(session)
    assert (report.plates_resolved, report.plates_ambiguous, report.plates_unknown) == (1, 1, 1)
    resolved, ambiguous = _event(sessions, "CALL-1"), _event(sessions, "CALL-2")
    assert resolved["vin"] == unique
    assert resolved["plate"] == "粤BD12345"
    assert "plate" in resolved["repaired"]["vin"]
    assert "vin" not in ambiguous
    with sessions() as session:
        assert party_vehicle_links(session)[("hotline", "CALL-1")] == {unique: False}  # evidence, as repaired
        again = resolve_partial_vins(session)
    assert (again.plates_resolved, again.plates_ambiguous, again.plates_unknown) == (0, 1, 1)
